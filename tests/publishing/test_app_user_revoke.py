"""Deleting an app user revokes its access in Central, in the background, with a recorded outcome."""

from __future__ import annotations

import json

import pytest
import requests
from django.core.files.storage import default_storage
from django.db import connection

from tenants.audit.models import AuditEvent
from tenants.publishing import credentials
from tenants.publishing.central.errors import CentralUnavailable
from tenants.publishing.models import AppUser, AppUserRevocation, RevocationStatus
from tenants.publishing.services.app_user_revoke import REVOKE_ATTEMPTS
from tenants.publishing.services.app_users import (
    AppUserGone,
    app_user_delete,
    app_user_ensure_central,
    app_user_qr_refresh,
)
from tenants.publishing.services.clients import central_client_for
from tenants.publishing.tasks import revoke_app_user
from tenants.secretstore.store import secret_store
from tests.publishing.publishing_helpers import app_users, publish, template_for, with_district

OPENROSA = {"X-OpenRosa-Version": "1.0"}


def _org_a(tx_project):
    from control_plane.organizations.models import Organization

    connection.set_tenant(Organization.objects.get(schema_name="org_acme"))


def _queued(task_name: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args FROM procrastinate_jobs WHERE task_name = %s AND status = 'todo'",
            [task_name],
        )
        return [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in cursor.fetchall()]


def _in_central(project, name: str) -> AppUser:
    (user,) = app_users(project, [name])
    app_user_ensure_central(user, central_client_for(project.server))
    return user


def _deletes(central, pid: int) -> list[str]:
    return [r.path for r in central.requests if r.method == "DELETE" and "/app-users/" in r.path]


def test_deleting_an_app_user_revokes_its_key_in_central(tx_project, central):
    with_district(tx_project)
    alice, bob = app_users(tx_project, ["alice", "bob"])
    assert publish(template_for(tx_project, [alice, bob])).status == "succeeded"
    alice.refresh_from_db()
    app_user_qr_refresh(alice)
    pid, central_id, qr_code = tx_project.central_project_id, alice.central_id, alice.qr_code
    token = secret_store().get(credentials.app_user_token(alice.pk)).reveal()
    key_url = f"{central.base_url}/v1/key/{token}/projects/{pid}/formList"
    assert requests.get(key_url, headers=OPENROSA, timeout=5).status_code == 200

    revocation = app_user_delete(alice, actor=None)

    # Gone here at once, with its token and QR code; Central is next, in the background.
    assert not AppUser.objects.filter(pk=alice.pk).exists()
    assert secret_store().get_optional(credentials.app_user_token(alice.pk)) is None
    assert not default_storage.exists(qr_code)
    assert revocation.status == RevocationStatus.PENDING and revocation.central_id == central_id
    assert _queued("publishing.revoke_app_user") == [
        {"schema_name": "org_acme", "revocation_id": revocation.pk}
    ]
    assert requests.get(key_url, headers=OPENROSA, timeout=5).status_code == 200

    revoke_app_user(schema_name="org_acme", revocation_id=revocation.pk)
    _org_a(tx_project)

    assert requests.get(key_url, headers=OPENROSA, timeout=5).status_code == 403
    assert _deletes(central, pid) == [f"/v1/projects/{pid}/app-users/{central_id}"]
    assert [
        u["displayName"] for u in central_client_for(tx_project.server).list_app_users(pid)
    ] == ["bob"]
    revocation.refresh_from_db()
    assert revocation.status == RevocationStatus.REVOKED and revocation.finished_at
    event = AuditEvent.objects.get(code="publishing.app_user.central_revoked")
    assert event.data["outcome"] == "revoked" and event.data["app_user"] == "alice"
    deleted = AuditEvent.objects.get(code="publishing.app_user.deleted")
    assert deleted.data["central"] == "revoking"


def test_the_job_is_idempotent_on_retry(tx_project, central):
    alice = _in_central(tx_project, "alice")
    pid, central_id = tx_project.central_project_id, alice.central_id
    revocation = app_user_delete(alice, actor=None)

    for _ in range(3):  # a retried or repeated job
        revoke_app_user(schema_name="org_acme", revocation_id=revocation.pk)
        _org_a(tx_project)

    assert _deletes(central, pid) == [f"/v1/projects/{pid}/app-users/{central_id}"]
    assert AuditEvent.objects.filter(code="publishing.app_user.central_revoked").count() == 1
    revocation.refresh_from_db()
    assert revocation.status == RevocationStatus.REVOKED and revocation.attempts == 1


def test_an_app_user_already_gone_from_central_is_recorded_as_such(tx_project, central):
    alice = _in_central(tx_project, "alice")
    pid = tx_project.central_project_id
    central_client_for(tx_project.server).delete_app_user(pid, alice.central_id)
    revocation = app_user_delete(alice, actor=None)

    revoke_app_user(schema_name="org_acme", revocation_id=revocation.pk)
    _org_a(tx_project)

    revocation.refresh_from_db()
    assert revocation.status == RevocationStatus.ALREADY_GONE and not revocation.error
    event = AuditEvent.objects.get(code="publishing.app_user.central_revoked")
    assert event.data["outcome"] == "already_gone"


def test_an_unreachable_central_is_retried_then_recorded_as_failed(tx_project, central):
    alice = _in_central(tx_project, "alice")
    revocation = app_user_delete(alice, actor=None)
    # 429 with Retry-After: 0 keeps the client's own retries instant.
    central.fail(
        "DELETE", r"/v1/projects/\d+/app-users/\d+", 429, times=None, headers={"Retry-After": "0"}
    )

    for attempt in range(1, REVOKE_ATTEMPTS):
        with pytest.raises(CentralUnavailable):  # the worker retries it with backoff
            revoke_app_user(schema_name="org_acme", revocation_id=revocation.pk)
        _org_a(tx_project)
        revocation.refresh_from_db()
        assert revocation.status == RevocationStatus.PENDING
        assert revocation.attempts == attempt and "429" in revocation.error
    revoke_app_user(schema_name="org_acme", revocation_id=revocation.pk)  # the last attempt
    _org_a(tx_project)

    revocation.refresh_from_db()
    assert revocation.status == RevocationStatus.FAILED and revocation.attempts == REVOKE_ATTEMPTS
    assert "delete app user" in revocation.error
    event = AuditEvent.objects.get(code="publishing.app_user.central_revoke_failed")
    assert event.data["outcome"] == "failed" and event.data["error"] == revocation.error
    assert revoke_app_user.retry_strategy.retry_exceptions == {CentralUnavailable}


def test_a_refusal_is_recorded_as_failed_at_once(tx_project, central):
    alice = _in_central(tx_project, "alice")
    revocation = app_user_delete(alice, actor=None)
    central.fail("DELETE", r"/v1/projects/\d+/app-users/\d+", 403, times=None)

    revoke_app_user(schema_name="org_acme", revocation_id=revocation.pk)
    _org_a(tx_project)

    revocation.refresh_from_db()
    assert revocation.status == RevocationStatus.FAILED and revocation.attempts == 1


def test_an_app_user_never_in_central_needs_no_revocation(tx_project, central):
    (alice,) = app_users(tx_project, ["alice"])
    assert app_user_delete(alice, actor=None) is None
    assert _queued("publishing.revoke_app_user") == []
    assert not AppUserRevocation.objects.exists()
    assert AuditEvent.objects.get(code="publishing.app_user.deleted").data["central"] == (
        "not_created"
    )


def test_a_new_app_user_of_the_same_name_never_takes_over_the_revoked_one(tx_project, central):
    old = _in_central(tx_project, "alice")
    revocation = app_user_delete(old, actor=None)
    new = _in_central(tx_project, "alice")  # before the revocation job ran

    assert new.central_id != revocation.central_id
    revoke_app_user(schema_name="org_acme", revocation_id=revocation.pk)
    _org_a(tx_project)
    remote = central_client_for(tx_project.server).list_app_users(tx_project.central_project_id)
    assert [u["id"] for u in remote] == [new.central_id]


def test_an_app_user_deleted_while_central_made_it_is_deleted_there_too(tx_project, central):
    (alice,) = app_users(tx_project, ["alice"])
    stale = AppUser.objects.get(pk=alice.pk)
    app_user_delete(alice, actor=None)  # not in Central yet: nothing to revoke

    with pytest.raises(AppUserGone):  # a sync job that loaded the row before the delete
        app_user_ensure_central(stale, central_client_for(tx_project.server))

    (created,) = central.app_users(tx_project.central_project_id)
    assert created["deletedAt"] is not None


def test_a_job_for_one_organization_cannot_revoke_another_organizations_app_user(
    committed_org_b, tx_project, central
):
    alice = _in_central(tx_project, "alice")
    revocation = app_user_delete(alice, actor=None)
    before = len(central.requests)

    # The same revocation id named with B's schema: B has no such revocation.
    revoke_app_user(schema_name=committed_org_b.schema_name, revocation_id=revocation.pk)
    _org_a(tx_project)

    assert len(central.requests) == before
    revocation.refresh_from_db()
    assert revocation.status == RevocationStatus.PENDING and revocation.attempts == 0
    connection.set_tenant(committed_org_b)
    assert not AppUserRevocation.objects.exists()
    assert not AuditEvent.objects.filter(code__startswith="publishing.app_user").exists()
    _org_a(tx_project)
