"""Checking an uploaded template the way a publish would, before it is saved.

The workspace's template form promises that the spreadsheet is checked when
it is saved. ``template_check`` renders and validates one variant per chosen
app user, with their current variable values, through the same rendering
services a publish uses (``load_source``, ``render_all``), and returns every
issue with its sheet, row and reason. Nothing is stored and nothing reaches
Central. With no app user chosen yet, one stand-in variant with the
project's values is checked, so that errors of the form itself still show.

Issues every checked app user shares are reported once, for all of them.
Google Sheets are read with the publishing person's Google account, so they
are checked when they are published.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from tenants.publishing.models import AppUser, FormTemplate, Project, SourceKind
from tenants.publishing.rendering import Issue, TemplateError, VariantSpec, load_source, render_all
from tenants.publishing.services.templates import MAX_SOURCE_BYTES
from tenants.publishing.services.variables import project_form_values, values_for_app_users

# The stand-in variant's app user name when none is chosen (valid in form ids).
STAND_IN = "check"
# Issues listed on the page (a broken row repeats for every app user otherwise).
MAX_ISSUES = 50


class TemplateCheckFailed(ValidationError):
    """The spreadsheet would fail to publish; ``issues`` says where and why."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__(
            {"source": [f"The spreadsheet has {len(issues)} error(s); see the list below."]}
        )


def stored_source(template: FormTemplate) -> bytes | None:
    """The template's current uploaded .xlsx, if any."""
    if template.source_kind != SourceKind.UPLOAD or not template.source_file:
        return None
    if not default_storage.exists(template.source_file):
        return None
    with default_storage.open(template.source_file, "rb") as handle:
        return handle.read()


def _merge(issues: list[Issue], app_users: Sequence[str]) -> list[Issue]:
    """One row per problem; ``app_user`` None when every checked app user has it."""
    seen: dict[tuple, set[str | None]] = {}
    for issue in issues:
        key = (issue.sheet, issue.row, issue.column, issue.message)
        seen.setdefault(key, set()).add(issue.app_user)
    merged = []
    for (sheet, row, column, message), users in seen.items():
        named = {u for u in users if u and u != STAND_IN}
        if None in users or STAND_IN in users or named >= set(app_users):
            merged.append(Issue(sheet, row, message, None, column))
        else:
            merged += [Issue(sheet, row, message, user, column) for user in sorted(named)]
    return merged[:MAX_ISSUES]


def template_check(
    *,
    project: Project,
    source: bytes,
    title_base: str,
    form_id_base: str,
    app_users: Sequence[AppUser],
) -> list[Issue]:
    """Every issue a publish of ``source`` to ``app_users`` would stop on (empty: it is fine)."""
    if len(source) > MAX_SOURCE_BYTES:
        return [Issue(None, None, "The workbook is larger than 10 MB.")]
    try:
        parsed = load_source(source)
    except TemplateError as exc:
        return _merge(exc.issues, [])
    version = f"{timezone.now().date().isoformat()}-v1"
    chosen = list(app_users)
    if chosen:
        values = values_for_app_users(project, chosen)
        specs = [
            VariantSpec(a.name, title_base, form_id_base, version, values[a.pk]) for a in chosen
        ]
    else:
        specs = [
            VariantSpec(STAND_IN, title_base, form_id_base, version, project_form_values(project))
        ]
    _, issues = render_all(parsed, specs)
    return _merge(issues, [a.name for a in chosen])


def template_check_or_refuse(**kwargs) -> None:
    """``template_check``, raising ``TemplateCheckFailed`` when there is anything to fix."""
    issues = template_check(**kwargs)
    if issues:
        raise TemplateCheckFailed(issues)
