"""A form is published only once Central holds every file it needs (issue 11, defect 2)."""

from __future__ import annotations

import hashlib

from tenants.publishing.models import ItemStatus, PublishEvent, RunStatus
from tenants.publishing.services.publish import publish_retry
from tenants.publishing.services.publish_job import publish_run_execute
from tenants.publishing.services.templates import template_attachment_put
from tests.publishing.publishing_helpers import (
    VILLAGES,
    app_users,
    publish,
    published_file,
    template_with_file,
)

UPLOAD = r"/v1/projects/\d+/forms/[^/]+/draft/attachments/villages\.csv"
LIST = r"/v1/projects/\d+/forms/[^/]+/draft/attachments"


def _count(central, method: str, pattern: str) -> int:
    import re

    return sum(1 for r in central.requests if r.method == method and re.fullmatch(pattern, r.path))


def test_files_lost_by_centrals_upload_race_are_uploaded_again_before_publishing(
    tx_project, central
):
    users = app_users(tx_project, ["ana", "ben", "cat", "dan"])
    template = template_with_file(tx_project, users)
    central.attachment_race(lost=3)  # the first upload keeps the file, the next three do not

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED
    for user in users:
        assert published_file(central, tx_project, f"household_{user.name}") == VILLAGES
    assert _count(central, "POST", UPLOAD) == 4 + 3  # each lost upload was repeated once


def test_a_file_central_never_keeps_fails_the_item_at_attachments_and_retry_repairs_it(
    tx_project, central
):
    users = app_users(tx_project, ["ana", "ben", "cat"])
    template = template_with_file(tx_project, users)
    central.attachment_race(lost=1000)  # only the very first upload of the file is kept

    run = publish(template)

    assert run.status == RunStatus.PARTIALLY_FAILED
    items = {i.app_user_name: i for i in run.items.all()}
    failed = [i for i in items.values() if i.status == ItemStatus.FAILED]
    assert len(failed) == 2
    pid = tx_project.central_project_id
    for item in failed:
        assert item.step == "attachments"
        assert "did not keep villages.csv" in item.error
        assert central.published_versions(pid, f"household_{item.app_user_name}") == []

    central.attachment_race(lost=0)
    run = publish_run_execute(publish_retry(run, actor=None).pk)

    assert run.status == RunStatus.SUCCEEDED
    for user in users:
        assert published_file(central, tx_project, f"household_{user.name}") == VILLAGES


def test_an_answer_that_does_not_say_is_checked_in_the_drafts_list_with_the_hash(
    tx_project, central
):
    """Central before 2025.1 answers uploads with {"success": true}. Here that upload kept
    nothing, and the new draft still holds the previous version's file: only the md5 in
    the draft's list shows it is not ours."""
    users = app_users(tx_project, ["ana"])
    template = template_with_file(tx_project, users)
    assert publish(template).status == RunStatus.SUCCEEDED
    changed = VILLAGES + b"w1,West village\n"
    template_attachment_put(
        template, actor=None, name="villages.csv", data=changed, content_type="text/csv"
    )
    central.fail("POST", UPLOAD, 200, body={"success": True}, times=1)
    lists_before = _count(central, "GET", LIST)

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED
    assert published_file(central, tx_project, "household_ana") == changed
    assert _count(central, "GET", LIST) == lists_before + 1
    item = run.items.get()
    assert item.attachments_confirmed == {"villages.csv": hashlib.sha256(changed).hexdigest()}


def test_republishing_an_unchanged_file_lets_central_carry_it_forward(tx_project, central):
    users = app_users(tx_project, ["ana", "ben"])
    template = template_with_file(tx_project, users)
    assert publish(template).status == RunStatus.SUCCEEDED
    uploads, lists = _count(central, "POST", UPLOAD), _count(central, "GET", LIST)

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED
    assert (_count(central, "POST", UPLOAD), _count(central, "GET", LIST)) == (uploads, lists)
    for user in users:
        assert published_file(central, tx_project, f"household_{user.name}") == VILLAGES
    assert central.published_versions(tx_project.central_project_id, "household_ana") == [
        run.version.version.replace("-v2", "-v1"),
        run.version.version,
    ]


def test_a_draft_left_by_a_failed_attempt_is_not_trusted(tx_project, central):
    users = app_users(tx_project, ["ana"])
    template = template_with_file(tx_project, users)
    assert publish(template).status == RunStatus.SUCCEEDED
    central.fail("POST", r"/v1/projects/\d+/forms/household_ana/draft/publish", 500, times=1)
    failed = publish(template)
    assert failed.status == RunStatus.FAILED
    uploads = _count(central, "POST", UPLOAD)

    run = publish_run_execute(publish_retry(failed, actor=None).pk)

    assert run.status == RunStatus.SUCCEEDED
    assert _count(central, "POST", UPLOAD) == uploads + 1  # sent and confirmed again
    assert published_file(central, tx_project, "household_ana") == VILLAGES


def test_a_file_the_template_lacks_is_a_warning_not_a_silent_gap(tx_project, central):
    from tests.publishing.publishing_helpers import form_with_file, template_for

    users = app_users(tx_project, ["ana"])
    template = template_for(tx_project, users, source=form_with_file())

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED
    warning = PublishEvent.objects.get(run=run, step="attachments", state="warning")
    assert "villages.csv" in warning.message
