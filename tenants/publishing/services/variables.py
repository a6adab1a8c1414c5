"""Template variables and their values per project and per app user.

Values of ``sha256`` variables are stored as their lowercase hex digest only:
the raw value has no use once digested and is a confidentiality risk. The
reserved ``admin_pw`` goes into Collect's settings, not into forms, and is a
password: its values live in the secret store.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from control_plane.errors import InvalidState
from tenants.audit.services import audit_record
from tenants.publishing import credentials
from tenants.publishing.models import (
    VALUE_MAX_LENGTH,
    VARIABLE_NAME,
    AppUser,
    AppUserVariableValue,
    Project,
    ProjectVariableValue,
    TemplateVariable,
    VariableTransform,
)
from tenants.secretstore.services.secrets import secret_delete, secret_put
from tenants.secretstore.store import secret_store

ADMIN_PASSWORD = "admin_pw"  # noqa: S105 - the variable's name, not a password


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def variable_create(
    *, actor: Any, name: str, transform: str = "", description: str = ""
) -> TemplateVariable:
    name = (name or "").strip()
    try:
        VARIABLE_NAME(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from exc
    if transform not in VariableTransform.values:
        raise ValidationError({"transform": "Choose no transform or sha256."})
    if name == ADMIN_PASSWORD and transform:
        raise ValidationError({"transform": "admin_pw goes into Collect's settings as is."})
    if TemplateVariable.objects.filter(name=name).exists():
        raise ValidationError({"name": f"A variable named {name} already exists."})
    with transaction.atomic():
        variable = TemplateVariable.objects.create(
            name=name, transform=transform, description=description.strip()
        )
        audit_record(
            "publishing.variable.created",
            actor=actor,
            target=variable,
            data={"transform": transform},
        )
    return variable


def variable_update(
    variable: TemplateVariable, *, actor: Any, transform: str, description: str
) -> TemplateVariable:
    if transform not in VariableTransform.values:
        raise ValidationError({"transform": "Choose no transform or sha256."})
    with transaction.atomic():
        variable = TemplateVariable.objects.select_for_update().get(pk=variable.pk)
        if variable.transform == VariableTransform.SHA256 and transform != VariableTransform.SHA256:
            has_values = (
                ProjectVariableValue.objects.filter(variable=variable).exists()
                or AppUserVariableValue.objects.filter(variable=variable).exists()
            )
            if has_values:
                raise InvalidState(
                    "Stored values are digests and cannot be turned back into plain values; "
                    "clear them first."
                )
        if transform == VariableTransform.SHA256 and variable.transform != VariableTransform.SHA256:
            if variable.name == ADMIN_PASSWORD:
                raise ValidationError({"transform": "admin_pw goes into Collect's settings as is."})
            for model in (ProjectVariableValue, AppUserVariableValue):
                for row in model.objects.filter(variable=variable):
                    row.value = digest(row.value)
                    row.save(update_fields=["value"])
        variable.transform, variable.description = transform, description.strip()
        variable.save()
        audit_record(
            "publishing.variable.updated",
            actor=actor,
            target=variable,
            data={"transform": transform},
        )
    return variable


def variable_delete(variable: TemplateVariable, *, actor: Any) -> None:
    with transaction.atomic():
        label = variable.name
        variable.delete()
        audit_record("publishing.variable.deleted", actor=actor, target_label=label)


def _stored(variable: TemplateVariable, value: str) -> str:
    return digest(value) if variable.transform == VariableTransform.SHA256 else value


def _value_set(
    *,
    owner: Project | AppUser,
    variable: TemplateVariable,
    value: str | None,
    actor: Any,
    model: type[ProjectVariableValue] | type[AppUserVariableValue],
    owner_field: str,
    admin_secret: str,
    code: str,
) -> None:
    """Set or clear one value; ``admin_pw`` goes to the secret store instead."""
    if value and len(value) > VALUE_MAX_LENGTH:
        raise ValidationError(
            f"Values of {variable.name} are limited to {VALUE_MAX_LENGTH} characters "
            f"(this one has {len(value)})."
        )
    with transaction.atomic():
        if variable.name == ADMIN_PASSWORD:
            if value:
                secret_put(admin_secret, value, actor=actor)
            else:
                secret_delete(admin_secret, actor=actor)
        elif value:
            model.objects.update_or_create(
                **{owner_field: owner},
                variable=variable,
                defaults={"value": _stored(variable, value)},
            )
        else:
            model.objects.filter(**{owner_field: owner}, variable=variable).delete()
        audit_record(
            code, actor=actor, target=owner, data={"variable": variable.name, "cleared": not value}
        )


def project_value_set(
    project: Project, variable: TemplateVariable, value: str | None, *, actor: Any
) -> None:
    """Set (or clear, with None or "") the project-level value of ``variable``."""
    _value_set(
        owner=project,
        variable=variable,
        value=value,
        actor=actor,
        model=ProjectVariableValue,
        owner_field="project",
        admin_secret=credentials.project_admin_password(project.pk),
        code="publishing.project.variable_set",
    )


def app_user_value_set(
    app_user: AppUser, variable: TemplateVariable, value: str | None, *, actor: Any
) -> None:
    """Set (or clear) the app user's own value, which overrides the project's."""
    _value_set(
        owner=app_user,
        variable=variable,
        value=value,
        actor=actor,
        model=AppUserVariableValue,
        owner_field="app_user",
        admin_secret=credentials.app_user_admin_password(app_user.pk),
        code="publishing.app_user.variable_set",
    )


def project_form_values(project: Project) -> dict[str, str]:
    """The project's own values as forms receive them (no ``admin_pw``)."""
    return {
        row.variable.name: row.value
        for row in ProjectVariableValue.objects.filter(project=project).select_related("variable")
        if row.variable.name != ADMIN_PASSWORD
    }


def values_for_app_users(project: Project, app_users: list[AppUser]) -> dict[int, dict[str, str]]:
    """Form variables per app user: project values overridden by the app user's own.

    ``admin_pw`` is left out: it belongs to Collect's settings, not to forms.
    Values are final (already digested where the variable says sha256).
    """
    base = project_form_values(project)
    result = {app_user.pk: dict(base) for app_user in app_users}
    overrides = AppUserVariableValue.objects.filter(app_user__in=app_users).select_related(
        "variable"
    )
    for row in overrides:
        if row.variable.name != ADMIN_PASSWORD:
            result[row.app_user_id][row.variable.name] = row.value
    return result


def admin_password_for(app_user: AppUser, store=None) -> str | None:
    """The app user's admin password, else the project's, else None."""
    store = store or secret_store()
    found = store.get_many(
        [
            credentials.app_user_admin_password(app_user.pk),
            credentials.project_admin_password(app_user.project_id),
        ]
    )
    for name in (
        credentials.app_user_admin_password(app_user.pk),
        credentials.project_admin_password(app_user.project_id),
    ):
        if name in found:
            return found[name].reveal()
    return None


def template_values_for_app_users(
    project: Project, app_users: list[AppUser], used: set[str]
) -> tuple[dict[int, dict[str, str]], dict[str, list[str]]]:
    """The values a template receives per app user, and the values it lacks.

    A variable applies to a template only where the template has a ``calculate`` row
    of that name (``used``): a template that does not mention ``district`` publishes
    whatever values app users have for it. The second result names, per variable the
    template uses, the app users with no value for it (their row keeps the
    template's own calculation).
    """
    values = values_for_app_users(project, app_users)
    applied = {pk: {k: v for k, v in found.items() if k in used} for pk, found in values.items()}
    defined = TemplateVariable.objects.filter(name__in=used).exclude(name=ADMIN_PASSWORD)
    gaps = {
        name: sorted(a.name for a in app_users if name not in applied[a.pk])
        for name in sorted(defined.values_list("name", flat=True))
    }
    return applied, {name: names for name, names in gaps.items() if names}
