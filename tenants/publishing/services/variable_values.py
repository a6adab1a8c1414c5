"""Setting several variable values of a project or an app user at once, by name.

The API and the app-user import send ``{"district": "North", "code": null}``;
this resolves the names, refuses unknown ones with a per-name error, and sets
everything in one transaction through ``variables.project_value_set`` /
``app_user_value_set`` (which digest ``sha256`` values and keep ``admin_pw``
in the secret store). ``None`` or ``""`` clears a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from tenants.publishing.models import VALUE_MAX_LENGTH, AppUser, Project, TemplateVariable
from tenants.publishing.services.variables import (
    ADMIN_PASSWORD,
    app_user_value_set,
    project_value_set,
)

MAX_VALUE_LENGTH = VALUE_MAX_LENGTH


def resolve_variables(values: Mapping[str, Any]) -> dict[str, TemplateVariable]:
    """The variables named in ``values``; ValidationError naming each unknown or bad one."""
    known = {v.name: v for v in TemplateVariable.objects.filter(name__in=list(values))}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name not in known:
            errors[f"variables.{name}"] = [f"There is no template variable named {name}."]
        elif value is not None and not isinstance(value, str):
            errors[f"variables.{name}"] = ["Give the value as text (or null to clear it)."]
        elif value and len(value) > MAX_VALUE_LENGTH:
            errors[f"variables.{name}"] = [f"Values are limited to {MAX_VALUE_LENGTH} characters."]
    if errors:
        raise ValidationError(errors)
    return known


def project_values_set(project: Project, values: Mapping[str, Any], *, actor: Any) -> None:
    variables = resolve_variables(values)
    with transaction.atomic():
        for name, value in values.items():
            project_value_set(project, variables[name], value or None, actor=actor)


def app_user_values_set(app_user: AppUser, values: Mapping[str, Any], *, actor: Any) -> None:
    variables = resolve_variables(values)
    with transaction.atomic():
        for name, value in values.items():
            app_user_value_set(app_user, variables[name], value or None, actor=actor)


def shown_values(rows) -> dict[str, str]:
    """Stored values as the API shows them: ``admin_pw`` is a password and never shown.

    ``rows`` are ``ProjectVariableValue``/``AppUserVariableValue`` rows with their
    variable (prefetch ``variable_values__variable``); ``sha256`` values are digests.
    """
    return {row.variable.name: row.value for row in rows if row.variable.name != ADMIN_PASSWORD}
