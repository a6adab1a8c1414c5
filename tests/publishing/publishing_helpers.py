"""Building blocks for publishing tests: templates with variables, app users, runs."""

from __future__ import annotations

from tenants.publishing.models import AppUser, FormTemplate
from tenants.publishing.services.publish import publish_start
from tenants.publishing.services.publish_job import publish_run_execute
from tenants.publishing.services.templates import template_attachment_put, template_create
from tenants.publishing.services.variables import project_value_set, variable_create
from tests.xlsforms import YES_NO, make_xlsform


def simple_form(variables: tuple[str, ...] = ("district",)) -> bytes:
    rows = [{"type": "text", "name": "respondent", "label": "Name"}]
    rows += [{"type": "calculate", "name": v, "calculation": "''"} for v in variables]
    rows += (
        [{"type": "note", "name": "n1", "label": "District: ${district}"}]
        if "district" in variables
        else []
    )
    return make_xlsform(rows, settings={"form_title": "x", "form_id": "x"})


def broken_form() -> bytes:
    return make_xlsform(
        [
            {"type": "text", "name": "ok", "label": "Fine"},
            {"type": "select_one missing_list", "name": "bad", "label": "Broken"},
        ],
        choices=YES_NO,
    )


def app_users(project, names) -> list[AppUser]:
    # Created directly: the service would queue a Central sync job we do not need here.
    return [AppUser.objects.create(project=project, name=name) for name in names]


def template_for(
    project, users, *, source: bytes | None = None, form_id_base: str = "household"
) -> FormTemplate:
    return template_create(
        actor=None,
        project=project,
        title_base="Household",
        form_id_base=form_id_base,
        source_kind="upload",
        source=source if source is not None else simple_form(),
        app_user_ids=[u.pk for u in users],
    )


def with_district(project, value: str = "North") -> None:
    variable = variable_create(actor=None, name="district")
    project_value_set(project, variable, value, actor=None)


def publish(template, **kwargs):
    run = publish_start(template=template, actor=None, **kwargs)
    return publish_run_execute(run.pk)


VILLAGES = b"name,label\nn1,North village\ns1,South village\n"


def form_with_file(variables: tuple[str, ...] = ()) -> bytes:
    """A form whose choices come from ``villages.csv`` (an attachment Central expects)."""
    rows = [
        {"type": "text", "name": "respondent", "label": "Name"},
        {"type": "select_one_from_file villages.csv", "name": "village", "label": "Village"},
    ]
    rows += [{"type": "calculate", "name": v, "calculation": "''"} for v in variables]
    return make_xlsform(rows, settings={"form_title": "x", "form_id": "x"})


def template_with_file(project, users, data: bytes = VILLAGES) -> FormTemplate:
    template = template_for(project, users, source=form_with_file())
    template_attachment_put(
        template, actor=None, name="villages.csv", data=data, content_type="text/csv"
    )
    return template


def published_file(central, project, form_id: str, name: str = "villages.csv") -> bytes | None:
    """The file Central serves with the form's published version (None: missing)."""
    (form,) = [f for f in central.forms(project.central_project_id) if f.xml_form_id == form_id]
    return form.current.attachments[name].data if form.current else None
