"""Reading the current variable values of a project or an app user, for their forms."""

from __future__ import annotations

from tenants.publishing import credentials
from tenants.publishing.models import (
    AppUser,
    AppUserVariableValue,
    Project,
    ProjectVariableValue,
    TemplateVariable,
)
from tenants.publishing.services.variables import ADMIN_PASSWORD
from tenants.secretstore.store import secret_store


def _admin_variable() -> TemplateVariable | None:
    return TemplateVariable.objects.filter(name=ADMIN_PASSWORD).first()


def project_values(project: Project) -> tuple[dict[int, str], set[int]]:
    """(stored values by variable id, ids of variables whose secret value is set)."""
    current = dict(
        ProjectVariableValue.objects.filter(project=project).values_list("variable_id", "value")
    )
    secret_set: set[int] = set()
    admin = _admin_variable()
    if admin is not None and secret_store().get_optional(
        credentials.project_admin_password(project.pk)
    ):
        secret_set.add(admin.pk)
    return current, secret_set


def app_user_values(app_user: AppUser) -> tuple[dict[int, str], set[int]]:
    current = dict(
        AppUserVariableValue.objects.filter(app_user=app_user).values_list("variable_id", "value")
    )
    secret_set: set[int] = set()
    admin = _admin_variable()
    if admin is not None and secret_store().get_optional(
        credentials.app_user_admin_password(app_user.pk)
    ):
        secret_set.add(admin.pk)
    return current, secret_set


def inherited_values(project: Project) -> dict[str, str]:
    """The project's plain values by variable name (shown as what an app user inherits)."""
    return {
        row.variable.name: row.value
        for row in ProjectVariableValue.objects.filter(project=project).select_related("variable")
        if row.variable.name != ADMIN_PASSWORD and not row.variable.transform
    }


def values_by_app_user_name(project: Project) -> dict[str, dict[str, str]]:
    """Stored own values of the project's app users, by lower-cased name (import preview)."""
    found: dict[str, dict[str, str]] = {}
    rows = AppUserVariableValue.objects.filter(app_user__project=project).select_related(
        "variable", "app_user"
    )
    for row in rows:
        found.setdefault(row.app_user.name.lower(), {})[row.variable.name] = row.value
    return found


def preview_rows(project: Project, plan) -> list[dict]:
    """Each import row with its changes as (variable, old, new, hidden) for the preview table."""
    current = values_by_app_user_name(project)
    hidden = {
        v.name for v in TemplateVariable.objects.all() if v.transform or v.name == ADMIN_PASSWORD
    }
    result = []
    for row in plan.rows:
        old_values = current.get(row.name.lower(), {})
        changes = [
            {
                "variable": name,
                "old": "" if name in hidden else old_values.get(name, ""),
                "new": "" if name in hidden else value,
                "hidden": name in hidden,
            }
            for name, value in row.values.items()
            if name in hidden or old_values.get(name, "") != value
        ]
        result.append({"row": row, "changes": changes})
    return result
