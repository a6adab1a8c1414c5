"""Whatever goes wrong, a run ends with a state, a final event and words people can act on
(issue 11, defects 7 and 9), and the audit trail records how publishing ended.

Failures are injected from outside our code, as they happen in production: a secret
removed from the store, a stored file gone or in the way, Central answering nonsense.
"""

from __future__ import annotations

import logging
import os
import shutil

import pytest
from django.core.files.storage import default_storage

from control_plane.storage import tenant_path
from frontend import explain
from tenants.audit.models import AuditEvent
from tenants.publishing import credentials
from tenants.publishing.models import ItemStatus, PublishEvent, PublishRun, RunStatus
from tenants.publishing.services.publish import publish_retry, publish_start
from tenants.publishing.services.publish_job import publish_run_execute
from tenants.secretstore.services.secrets import secret_delete
from tests.publishing.publishing_helpers import (
    app_users,
    publish,
    simple_form,
    template_for,
    template_with_file,
)

HTML = b"<html><body>502 Bad Gateway</body></html>"
ANA = "household_ana"


def _ended(run: PublishRun) -> PublishEvent:
    """The run is over, nothing is left pending or running, and its last event says so."""
    run.refresh_from_db()
    assert run.status in (RunStatus.FAILED, RunStatus.PARTIALLY_FAILED), run.status
    assert run.finished_at is not None and run.error
    assert not run.items.filter(status__in=[ItemStatus.PENDING, ItemStatus.RUNNING]).exists()
    final = PublishEvent.objects.filter(run=run).last()
    assert (final.step, final.state) == ("run", run.status)
    assert final.message == run.error
    return final


@pytest.fixture
def two(tx_project):
    return app_users(tx_project, ["ana", "ben"])


# --- the run stops before publishing -------------------------------------------------------


def _deleted_password(tx_project, central, two):
    secret_delete(credentials.central_password(tx_project.server_id), actor=None)
    return template_for(tx_project, two, source=simple_form(variables=()))


def _source_in_the_way(tx_project, central, two):
    template = template_for(tx_project, two, source=simple_form(variables=()))
    path = default_storage.path(template.source_file)
    os.remove(path)
    os.mkdir(path)  # exists, cannot be read
    return template


def _version_folder_in_the_way(tx_project, central, two):
    template = template_for(tx_project, two, source=simple_form(variables=()))
    folder = default_storage.path(tenant_path(f"templates/{template.pk}/versions"))
    shutil.rmtree(folder, ignore_errors=True)
    with open(folder, "wb") as handle:  # a file where the version's folder goes
        handle.write(b"x")
    return template


def _forms_list_not_json(tx_project, central, two):
    central.fail("GET", r"/v1/projects/\d+/forms", 200, body=HTML)
    return template_for(tx_project, two, source=simple_form(variables=()))


def _app_user_list_nonsense(tx_project, central, two):
    central.fail("GET", r"/v1/projects/\d+/app-users", 200, body="not a list of app users")
    return template_for(tx_project, two, source=simple_form(variables=()))


RUN_LEVEL = {
    "deleted password": (_deleted_password, "central_credentials_missing", "connect"),
    "source unreadable": (_source_in_the_way, "internal_error", "prepare"),
    "version not storable": (_version_folder_in_the_way, "internal_error", "prepare"),
    "forms list not JSON": (_forms_list_not_json, "internal_error", "prepare"),
    "app users nonsense": (_app_user_list_nonsense, "internal_error", "central"),
}


@pytest.mark.parametrize("inject", RUN_LEVEL.values(), ids=RUN_LEVEL.keys())
def test_an_unexpected_error_before_publishing_fails_the_run(
    tx_project, central, two, caplog, inject
):
    make, code, stage = inject
    template = make(tx_project, central, two)
    caplog.set_level(logging.ERROR)
    try:
        run = publish(template)
    finally:  # other tests reuse these paths (same template id, same content)
        folder = default_storage.path(tenant_path(f"templates/{template.pk}/versions"))
        if os.path.isfile(folder):
            os.remove(folder)
        source = default_storage.path(template.source_file)
        if os.path.isdir(source):
            os.rmdir(source)

    _ended(run)
    assert run.status == RunStatus.FAILED and run.error_code == code
    assert set(run.items.values_list("status", flat=True)) == {ItemStatus.SKIPPED}
    assert explain.run_error(run).summary != "The run stopped before publishing."
    if code == "internal_error":
        assert f"publish run {run.pk}" in run.error
        (record,) = [r for r in caplog.records if "publish.run_crashed" in str(r.msg)]
        assert record.exc_info is not None
        assert record.msg["run"] == run.pk and record.msg["stage"] == stage


# --- one app user fails, the others are published ---------------------------------------


def _create_app_user_not_json(central, template):
    central.fail("POST", r"/v1/projects/\d+/app-users", 200, body=HTML, times=1)


def _create_form_not_json(central, template):
    central.fail("POST", r"/v1/projects/\d+/forms", 200, body=HTML, times=1)


def _attachment_file_gone(central, template):
    os.remove(default_storage.path(template.attachments.get().file))


def _publish_conflict_then_nonsense(central, template):
    central.fail("POST", rf"/v1/projects/\d+/forms/{ANA}/draft/publish", 409, times=1)
    central.fail("GET", rf"/v1/projects/\d+/forms/{ANA}", 200, body=HTML, times=1)


ITEM_LEVEL = {
    "app_user": _create_app_user_not_json,
    "form": _create_form_not_json,
    "attachments": _attachment_file_gone,
    "publish": _publish_conflict_then_nonsense,
}


@pytest.mark.parametrize("step", ITEM_LEVEL, ids=ITEM_LEVEL.keys())
def test_an_unexpected_error_for_one_app_user_fails_that_item_only(
    tx_project, central, two, caplog, step
):
    template = template_with_file(tx_project, two)
    ITEM_LEVEL[step](central, template)
    caplog.set_level(logging.ERROR)

    run = publish(template)

    _ended(run)
    failed = list(run.items.filter(status=ItemStatus.FAILED))
    assert len(failed) == (2 if step == "attachments" else 1)  # the file is gone for both
    for item in failed:
        assert item.step == step
        assert "Unexpected error while" in item.error and f"publish run {run.pk}" in item.error
    records = [r for r in caplog.records if "publish.item_crashed" in str(r.msg)]
    assert records and records[0].exc_info is not None and records[0].msg["run"] == run.pk


def test_an_unexpected_error_when_assigning_after_a_refused_grant(tx_project, central, two):
    template = template_for(tx_project, two, source=simple_form(variables=()))
    assert publish(template).status == RunStatus.SUCCEEDED
    central.state.forms[(tx_project.central_project_id, ANA)].assignments.clear()
    central.fail("POST", rf"/v1/projects/\d+/forms/{ANA}/assignments/app-user/\d+", 404, times=1)
    central.fail("GET", r"/v1/projects/\d+/app-users", 200, body=HTML, times=1)

    run = publish(template)

    _ended(run)
    assert run.status == RunStatus.PARTIALLY_FAILED
    failed = run.items.get(status=ItemStatus.FAILED)
    assert (failed.app_user_name, failed.step) == ("ana", "assign")


def test_a_stored_version_that_cannot_be_read_on_retry_fails_the_retry(tx_project, central, two):
    template = template_for(tx_project, two, source=simple_form(variables=()))
    central.fail("POST", rf"/v1/projects/\d+/forms/{ANA}/draft/publish", 500, times=1)
    run = publish(template)
    assert run.status == RunStatus.PARTIALLY_FAILED
    variant = run.version.variants.get(app_user_name="ana")
    os.remove(default_storage.path(variant.xform_file))

    run = publish_run_execute(publish_retry(run, actor=None).pk)

    _ended(run)
    assert run.error_code == "internal_error"
    statuses = dict(run.items.values_list("app_user_name", "status"))
    assert statuses == {"ana": ItemStatus.SKIPPED, "ben": ItemStatus.PUBLISHED}
    assert run.status == RunStatus.FAILED


# --- words and records ------------------------------------------------------------------


def test_a_partially_failed_run_has_one_summary_message(tx_project, central):
    users = app_users(tx_project, ["ana", "ben", "cat"])
    template = template_for(tx_project, users, source=simple_form(variables=()))
    central.fail("POST", rf"/v1/projects/\d+/forms/{ANA}/draft/publish", 500, times=1)
    central.fail("POST", r"/v1/projects/\d+/forms/household_cat/draft/publish", 500, times=1)

    run = publish(template)

    assert run.status == RunStatus.PARTIALLY_FAILED and run.error_code == "some_failed"
    assert run.error.startswith("2 of 3 app users were not published: ana, cat (at publish).")
    assert explain.run_error(run).summary == "Some app users were not published."


def test_a_conflict_retrying_cannot_fix_says_what_to_change(tx_project, central, two):
    template = template_for(tx_project, two, source=simple_form(variables=()))
    body = {
        "code": 409.17,
        "message": "This form attempts to create new Entity properties that match with "
        "existing ones except for capitalization.",
    }
    central.fail("POST", r"/v1/projects/\d+/forms", 409, body=body, times=1)

    run = publish(template)

    failed = run.items.get(status=ItemStatus.FAILED)
    assert failed.step == "form" and failed.central_error["code"] == 409.17
    assert "What to change:" in failed.error and "save_to" in failed.error
    explanation = explain.item_error(failed)
    assert "capital letters" in explanation.summary and "save_to" in explanation.advice
    assert "Retrying alone will fail" in explanation.advice


def test_finished_runs_are_in_the_audit_trail(tx_project, central, two, committed_user):
    template = template_for(tx_project, two, source=simple_form(variables=()))
    central.fail("POST", rf"/v1/projects/\d+/forms/{ANA}/draft/publish", 500, times=1)
    run = publish_run_execute(publish_start(template=template, actor=committed_user).pk)
    run = publish_run_execute(publish_retry(run, actor=None).pk)

    failed, published = AuditEvent.objects.filter(
        code__in=["publishing.template.published", "publishing.template.publish_failed"]
    ).order_by("id")

    assert failed.code == "publishing.template.publish_failed"
    assert published.code == "publishing.template.published"
    for event, attempt, status in ((failed, 1, "partially_failed"), (published, 2, "succeeded")):
        assert (event.target_type, event.target_id) == ("publishing.formtemplate", str(template.pk))
        assert event.actor_id == committed_user.pk and event.actor_label == committed_user.email
        assert event.data["run"] == run.pk and event.data["attempt"] == attempt
        assert event.data["status"] == status and event.data["version"] == run.version.version
    assert failed.data["summary"]["failed"] == 1 and published.data["summary"]["published"] == 2
