"""The fake Central behaves like a real one where publishing depends on it (issue 11):
the blob-store race on demand, attachment hashes, deleted app users, project grants."""

from __future__ import annotations

import hashlib

import pytest

from tenants.publishing.central import CentralNotFound
from tests.publishing.test_central_client import ANA, ANA_PASSWORD, client_for, xform


@pytest.fixture
def central(fake_central):
    fake_central.add_account(ANA, ANA_PASSWORD)
    return fake_central


def _two_forms(client):
    pid = client.create_project("P")["id"]
    client.create_form(pid, xform("one"))
    client.create_form(pid, xform("two"))
    return pid


def test_the_upload_race_keeps_the_first_copy_and_loses_the_next_ones(central):
    client = client_for(central)
    pid = _two_forms(client)
    data = b"name,label\nn,North\n"
    central.attachment_race(lost=1)

    first = client.upload_draft_attachment(pid, "one", "villages.csv", data, "text/csv")
    lost = client.upload_draft_attachment(pid, "two", "villages.csv", data, "text/csv")

    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert first["exists"] is True and first["hash"] == md5 and first["size"] == len(data)
    assert lost["exists"] is False and "hash" not in lost  # 200, and nothing kept
    listed = {a["name"]: a for a in client.list_draft_attachments(pid, "two")}
    assert listed["villages.csv"]["exists"] is False
    again = client.upload_draft_attachment(pid, "two", "villages.csv", data, "text/csv")
    assert again["exists"] is True and again["hash"] == md5  # the race is over


def test_without_the_race_every_upload_is_kept(central):
    client = client_for(central)
    pid = _two_forms(client)
    for form_id in ("one", "two"):
        answer = client.upload_draft_attachment(pid, form_id, "logo.png", b"\x89PNG", "image/png")
        assert answer["exists"] is True


def test_assigning_a_form_to_an_app_user_deleted_in_central_is_404(central):
    client = client_for(central)
    pid = _two_forms(client)
    gone = client.create_app_user(pid, "ana")
    kept = client.create_app_user(pid, "ben")
    client.assign_form(pid, "one", "app-user", gone["id"])
    central.remove_app_user(gone["id"])

    with pytest.raises(CentralNotFound) as caught:
        client.assign_form(pid, "two", "app-user", gone["id"])

    assert caught.value.code == 404.1
    assert [u["id"] for u in client.list_app_users(pid)] == [kept["id"]]
    assert central.assignments(pid, "one") == []  # its grants went with it
    client.assign_form(pid, "two", "app-user", kept["id"])


def test_the_projects_form_grants_are_listed_at_once(central):
    client = client_for(central)
    pid = _two_forms(client)
    ana = client.create_app_user(pid, "ana")
    client.assign_form(pid, "one", client.app_user_role_id(), ana["id"])
    client.assign_form(pid, "two", "app-user", ana["id"])

    grants = client.list_project_form_assignments(pid)

    role = client.app_user_role_id()
    assert sorted(grants, key=lambda g: g["xmlFormId"]) == [
        {"actorId": ana["id"], "roleId": role, "xmlFormId": "one"},
        {"actorId": ana["id"], "roleId": role, "xmlFormId": "two"},
    ]
    assert client.list_project_form_assignments(pid, role) == grants
