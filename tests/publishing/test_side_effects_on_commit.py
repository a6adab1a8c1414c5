"""Side effects (socket notices, emails, jobs) leave only with the transaction that caused them.

A listener told of a change that is then rolled back would show a row that does not
exist; an email or job for it would act on nothing. So notices and emails are sent
on commit, and jobs are queued inside the transaction itself.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from control_plane.accounts.models import Invitation
from control_plane.accounts.services.invitations import invitation_create
from tenants.publishing import events
from tenants.publishing.models import AppUser
from tenants.publishing.services.app_users import app_user_create


@pytest.fixture
def heard(monkeypatch):
    """Organization notices as every registered sink (the socket layer's too) receives them."""
    received: list[tuple[str, str, dict]] = []
    sinks = [*events._ORGANIZATION_SINKS, lambda *notice: received.append(notice)]
    monkeypatch.setattr(events, "_ORGANIZATION_SINKS", sinks)
    return received


def _sync_jobs() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'publishing.sync_app_user'"
        )
        return cursor.fetchone()[0]


def test_notices_and_emails_leave_on_commit_not_before(
    project, org_a, member_of, heard, mailoutbox, django_capture_on_commit_callbacks
):
    owner = member_of(org_a, "owner")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        app_user = app_user_create(actor=owner, project=project, name="alice")
        invitation_create(organization=org_a, email="new@example.org", role="editor", actor=owner)
    assert heard == [] and mailoutbox == []  # nothing left before the commit

    for callback in callbacks:
        callback()

    change = {"id": app_user.pk, "project": project.pk, "change": "created"}
    assert heard == [("org_acme", "app_user.changed", change)]
    assert [m.to for m in mailoutbox] == [["new@example.org"]]


def test_a_rolled_back_action_sends_no_notice_email_or_job(
    project, org_a, member_of, heard, mailoutbox, django_capture_on_commit_callbacks
):
    owner = member_of(org_a, "owner")
    jobs = _sync_jobs()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            app_user_create(actor=owner, project=project, name="alice")
            invitation_create(
                organization=org_a, email="new@example.org", role="editor", actor=owner
            )
            assert _sync_jobs() == jobs + 1  # queued with the row, in the same transaction
            raise RuntimeError("the caller's transaction fails after the action")

    assert callbacks == []
    assert heard == [] and mailoutbox == []
    assert _sync_jobs() == jobs
    assert not AppUser.objects.filter(name="alice").exists()
    assert not Invitation.objects.filter(email="new@example.org").exists()
