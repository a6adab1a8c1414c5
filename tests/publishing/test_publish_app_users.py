"""App users during a publish: one list per run, and re-made when deleted in Central
(issue 11, defects 3 and 10)."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from frontend import explain
from tenants.audit.models import AuditEvent
from tenants.publishing import credentials
from tenants.publishing import events as publishing_events
from tenants.publishing.models import AppUser, ItemStatus, PublishEvent, RunStatus
from tenants.publishing.services.app_users import app_user_qr_refresh, app_user_settings
from tenants.secretstore.store import secret_store
from tests.publishing.publishing_helpers import app_users, publish, template_for

APP_USERS = r"/v1/projects/\d+/app-users"


def _count(central, method: str, pattern: str) -> int:
    return sum(1 for r in central.requests if r.method == method and re.fullmatch(pattern, r.path))


@pytest.fixture
def notices():
    seen: list[tuple[str, dict]] = []

    def sink(schema_name, type_, data):
        seen.append((type_, data))

    publishing_events._ORGANIZATION_SINKS.append(sink)
    yield seen
    publishing_events._ORGANIZATION_SINKS.remove(sink)


def _qr_jobs(app_user_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'publishing.sync_app_user' "
            "AND (args->>'app_user_id')::int = %s",
            [app_user_id],
        )
        return cursor.fetchone()[0]


def test_new_app_users_do_not_each_download_the_app_user_list(tx_project, central):
    users = app_users(tx_project, ["ana", "ben", "cat", "dan"])

    run = publish(template_for(tx_project, users, source=_plain()))

    assert run.status == RunStatus.SUCCEEDED
    assert _count(central, "GET", APP_USERS) == 1  # once per run, not once per new app user
    assert _count(central, "POST", APP_USERS) == 4


def test_an_app_user_deleted_in_central_is_made_again_when_access_is_refused(
    tx_project, central, notices
):
    users = app_users(tx_project, ["ana", "ben"])
    template = template_for(tx_project, users, source=_plain())
    assert publish(template).status == RunStatus.SUCCEEDED
    ana = AppUser.objects.select_related("project__server").get(name="ana")
    assert app_user_qr_refresh(ana)  # what the queued job does: its QR code as devices have it
    old_id, old_qr = ana.central_id, ana.qr_code
    central.remove_app_user(old_id)
    jobs_before = _qr_jobs(ana.pk)

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED, run.error
    ana.refresh_from_db()
    assert ana.central_id not in (None, old_id)
    pid = tx_project.central_project_id
    (remote,) = [u for u in central.app_users(pid) if u["id"] == ana.central_id]
    token = secret_store().get_optional(credentials.app_user_token(ana.pk))
    assert token is not None and token.reveal() == remote["token"]
    assert central.assignments(pid, "household_ana") == [ana.central_id]
    assert _qr_jobs(ana.pk) == jobs_before + 1  # its QR code is redrawn with the new token
    assert app_user_qr_refresh(ana) and ana.qr_code != old_qr
    assert remote["token"] in app_user_settings(ana)["general"]["server_url"]
    recreated = PublishEvent.objects.get(run=run, state="recreated")
    assert recreated.app_user_name == "ana"
    assert recreated.data == {"old_central_id": old_id, "central_id": ana.central_id}
    assert (
        "app_user.changed",
        {"id": ana.pk, "project": tx_project.pk, "change": "recreated"},
    ) in notices
    assert ("app_user.recreated", {
        "id": ana.pk, "project": tx_project.pk, "central_id": ana.central_id,
        "old_central_id": old_id,
    }) in notices  # fmt: skip
    audit = AuditEvent.objects.get(code="publishing.app_user.recreated")
    assert audit.target_id == str(ana.pk) and audit.data["central_id"] == ana.central_id
    live = [u["displayName"] for u in central.app_users(pid) if not u["deletedAt"]]
    assert sorted(live) == ["ana", "ben"]


def test_a_deleted_app_user_seen_in_the_runs_list_is_made_again_before_assigning(
    tx_project, central
):
    users = app_users(tx_project, ["ana"])
    template = template_for(tx_project, users, source=_plain())
    assert publish(template).status == RunStatus.SUCCEEDED
    old_id = AppUser.objects.get(name="ana").central_id
    central.remove_app_user(old_id)
    template.app_users.add(*app_users(tx_project, ["ben"]))  # a new one: the run lists them
    assign_posts = _count(central, "POST", r".*/assignments/app-user/\d+")

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED, run.error
    new_id = AppUser.objects.get(name="ana").central_id
    assert new_id != old_id
    assert PublishEvent.objects.filter(run=run, state="recreated").count() == 1
    # Found gone in the run's list: no refused grant first.
    assert _count(central, "POST", r".*/assignments/app-user/\d+") == assign_posts + 2


def test_a_404_that_is_not_about_a_deleted_app_user_stays_an_error_named_as_such(
    tx_project, central
):
    users = app_users(tx_project, ["ana"])
    central.fail(
        "POST",
        r"/v1/projects/\d+/forms/household_ana/assignments/app-user/\d+",
        404,
        body={"code": 404.1, "message": "Could not find the resource you were looking for."},
        times=None,
    )

    run = publish(template_for(tx_project, users, source=_plain()))

    item = run.items.get()
    assert (item.status, item.step) == (ItemStatus.FAILED, "assign")
    assert (
        AppUser.objects.get(name="ana").central_id
        == central.app_users(tx_project.central_project_id)[0]["id"]
    )  # still there: nothing re-made
    explanation = explain.item_error(item)
    assert "project" not in explanation.summary.lower()
    assert "app user" in explanation.summary.lower() and "form" in explanation.summary.lower()


def _plain() -> bytes:
    from tests.publishing.publishing_helpers import simple_form

    return simple_form(variables=())
