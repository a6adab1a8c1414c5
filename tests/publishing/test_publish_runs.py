"""Publishing runs end to end against the fake Central (worker threads, committed data)."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from tenants.publishing.models import (
    FormTemplateVersion,
    ItemStatus,
    PublishEvent,
    PublishRun,
    RunStatus,
)
from tenants.publishing.services.publish import PublishBusy, publish_retry, publish_start
from tenants.publishing.services.publish_job import publish_run_execute
from tests.publishing.publishing_helpers import (
    app_users,
    broken_form,
    publish,
    template_for,
    with_district,
)


def test_publish_to_three_app_users(tx_project, central):
    with_district(tx_project, "North 'quoted' \"district\"")
    users = app_users(tx_project, ["alice", "bob", "carol"])
    template = template_for(tx_project, users)

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED
    pid = tx_project.central_project_id
    version = run.version.version
    assert version.endswith("-v1")
    for user in users:
        form_id = f"household_{user.name}"
        assert central.published_versions(pid, form_id) == [version]
        user.refresh_from_db()
        assert central.assignments(pid, form_id) == [user.central_id]
    assert sorted(u["displayName"] for u in central.app_users(pid)) == ["alice", "bob", "carol"]
    assignment_posts = [
        r for r in central.requests if r.method == "POST" and "/assignments/" in r.path
    ]
    assert len(assignment_posts) == 3  # checked before assigning, never repeated
    variants = list(run.version.variants.all())
    assert {v.app_user_name for v in variants} == {"alice", "bob", "carol"}
    for variant in variants:
        assert variant.workbook_file.startswith("tenants/org_acme/")
        assert default_storage.exists(variant.workbook_file)
        with default_storage.open(variant.xform_file, "rb") as handle:
            assert b"North" in handle.read()
    final = PublishEvent.objects.filter(run=run).last()
    assert final.step == "run" and final.state == "succeeded"
    assert final.data["summary"]["published"] == 3


def test_invalid_template_stops_before_any_central_call(tx_project, central):
    users = app_users(tx_project, ["alice", "bob"])
    template = template_for(tx_project, users, source=broken_form())
    before = len(central.requests)

    run = publish(template)

    assert run.status == RunStatus.FAILED
    assert run.error_code == "validation_failed"
    assert len(central.requests) == before  # nothing reached Central
    assert run.issues and run.issues[0]["sheet"] == "survey" and run.issues[0]["row"] == 3
    assert set(run.items.values_list("status", flat=True)) == {ItemStatus.FAILED}
    assert FormTemplateVersion.objects.count() == 0


def test_partial_failure_then_retry_publishes_only_the_failed(tx_project, central):
    with_district(tx_project)
    users = app_users(tx_project, ["alice", "bob", "carol"])
    template = template_for(tx_project, users)
    central.fail("POST", r"/v1/projects/\d+/forms/household_bob/draft/publish", 500, times=1)

    run = publish(template)

    assert run.status == RunStatus.PARTIALLY_FAILED
    bob = run.items.get(app_user_name="bob")
    assert bob.status == ItemStatus.FAILED and bob.step == "publish"
    creates_before = [
        r for r in central.requests if r.method == "POST" and r.path.endswith("/forms")
    ]

    run = publish_retry(run, actor=None)
    run = publish_run_execute(run.pk)

    assert run.status == RunStatus.SUCCEEDED
    assert run.attempt == 2
    creates_after = [
        r for r in central.requests if r.method == "POST" and r.path.endswith("/forms")
    ]
    assert len(creates_after) == len(creates_before)  # alice and carol were not touched again
    pid = tx_project.central_project_id
    for name in ("alice", "bob", "carol"):
        assert central.published_versions(pid, f"household_{name}") == [run.version.version]
    assert FormTemplateVersion.objects.filter(template=template).count() == 1
    assert len(central.app_users(pid)) == 3


def test_republish_makes_the_next_version(tx_project, central):
    with_district(tx_project)
    users = app_users(tx_project, ["alice"])
    template = template_for(tx_project, users)
    first = publish(template)
    second = publish(template)
    assert second.status == RunStatus.SUCCEEDED
    assert first.version.version.endswith("-v1") and second.version.version.endswith("-v2")
    assert central.published_versions(tx_project.central_project_id, "household_alice") == [
        first.version.version,
        second.version.version,
    ]
    # The app user was created once and assigned once.
    assert len(central.app_users(tx_project.central_project_id)) == 1


def test_a_second_publish_while_one_is_queued_is_refused(tx_project):
    users = app_users(tx_project, ["alice"])
    template = template_for(tx_project, users)
    publish_start(template=template, actor=None)
    with pytest.raises(PublishBusy):
        publish_start(template=template, actor=None)
    assert PublishRun.objects.filter(template=template).count() == 1


def test_concurrent_publish_requests_start_one_run(tx_project):
    import threading

    from django.db import connection

    users = app_users(tx_project, ["alice"])
    template = template_for(tx_project, users)
    organization = connection.tenant
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def request() -> None:
        connection.set_tenant(organization)
        barrier.wait()
        try:
            publish_start(template=template, actor=None)
            outcomes.append("started")
        except PublishBusy:
            outcomes.append("busy")
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["busy", "busy", "busy", "started"]
    assert PublishRun.objects.filter(template=template).count() == 1


def test_progress_writes_skip_the_disk_flush_but_never_loosen_a_callers_transaction(
    tx_project,
):
    """Steps and their events commit with synchronous_commit off, only in their own
    transaction: inside a caller's transaction nothing changes its durability."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from tenants.publishing.services.publish_item import _progress

    with CaptureQueriesContext(connection) as alone:
        with _progress():
            pass
    with transaction.atomic(), CaptureQueriesContext(connection) as nested:
        with _progress():
            pass
    assert [q["sql"] for q in alone if "synchronous_commit" in q["sql"]] == [
        "SET LOCAL synchronous_commit TO OFF"
    ]
    assert not [q for q in nested if "synchronous_commit" in q["sql"]]


def test_a_retry_after_publishing_does_not_draft_or_publish_the_live_version_again(
    tx_project, central
):
    """An item that failed after its form went live (at ``assign``) is finished on retry
    without a new draft or publish: Central already serves that version."""
    with_district(tx_project)
    users = app_users(tx_project, ["alice", "bob"])
    template = template_for(tx_project, users)
    central.fail("POST", r"/v1/projects/\d+/forms/household_bob/assignments/app-user/\d+", 400)

    run = publish(template)

    bob = run.items.get(app_user_name="bob")
    assert run.status == RunStatus.PARTIALLY_FAILED
    assert bob.status == ItemStatus.FAILED and bob.step == "assign"
    pid = tx_project.central_project_id
    assert central.published_versions(pid, "household_bob") == [run.version.version]
    seen = len(central.requests)

    run = publish_retry(run, actor=None)
    run = publish_run_execute(run.pk)

    assert run.status == RunStatus.SUCCEEDED
    writes = [
        (r.method, r.path)
        for r in central.requests[seen:]
        if r.method == "POST" and "/forms" in r.path and "/assignments/" not in r.path
    ]
    assert writes == []  # no create, draft, attachment or publish for a live version
    assert central.published_versions(pid, "household_bob") == [run.version.version]
    assert central.assignments(pid, "household_bob") != []
