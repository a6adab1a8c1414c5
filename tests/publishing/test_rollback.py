"""Rolling back: an old version's stored source published again, as a new version, through a
real run against the fake Central (worker threads, committed data)."""

from __future__ import annotations

from tenants.audit.models import AuditEvent
from tenants.publishing.models import RunStatus
from tenants.publishing.services.publish_job import publish_run_execute
from tenants.publishing.services.templates import template_update, template_upload_source
from tenants.publishing.services.versions import version_diff, version_rollback
from tests.publishing.publishing_helpers import (
    app_users,
    publish,
    simple_form,
    template_for,
    with_district,
)
from tests.xlsforms import make_xlsform

SECOND = make_xlsform(
    [
        {"type": "text", "name": "respondent", "label": "Respondent's full name"},
        {"type": "calculate", "name": "district", "calculation": "''"},
        {"type": "integer", "name": "age", "label": "Age"},
    ],
    settings={"form_title": "x", "form_id": "x"},
)


def _live_xml(central, project_id: int, form_id: str) -> str:
    form = next(f for f in central.forms(project_id) if f.xml_form_id == form_id)
    return form.current.xml


def test_rollback_publishes_the_old_source_as_a_new_version(tx_project, central):
    with_district(tx_project)
    template = template_for(
        tx_project, app_users(tx_project, ["alice", "bob"]), source=simple_form()
    )
    first = publish(template).version
    template_upload_source(template, SECOND, actor=None)
    second = publish(template).version
    assert "full name" in _live_xml(central, tx_project.central_project_id, "household_alice")
    # The template now reads a Google Sheet nobody connected: a rollback must not need it.
    template_update(
        template,
        actor=None,
        title_base="Household",
        source_kind="google_sheet",
        google_sheet_url="https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOp/edit",
    )
    before = len(central.requests)

    run = version_rollback(first, actor=None)
    assert run.rollback_of_id == first.pk
    run = publish_run_execute(run.pk)

    assert run.status == RunStatus.SUCCEEDED, (run.error, list(run.items.values("error")))
    third = run.version
    assert third.version.endswith("-v3") and third.rollback_of_id == first.pk
    assert (third.source_sha256, third.source_file) == (first.source_sha256, first.source_file)
    assert version_diff(first, third).identical and not version_diff(second, third).identical
    pid = tx_project.central_project_id
    for name in ("alice", "bob"):
        assert central.published_versions(pid, f"household_{name}") == [
            first.version,
            second.version,
            third.version,
        ]
        live = _live_xml(central, pid, f"household_{name}")
        assert "full name" not in live and third.version in live
    assert len(central.requests) > before  # it did publish
    event = AuditEvent.objects.get(code="publishing.template.rollback_requested")
    assert event.data["rollback_of"] == first.version and event.data["run"] == run.pk
