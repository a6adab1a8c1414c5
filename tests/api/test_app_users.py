"""App users through the API: create with values, Collect settings and QR, bulk import/export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from tests.api.helpers import error_of, tenant


@pytest.fixture
def workspace(org_a, project):
    """A project with variables district (plain), code (sha256) and admin_pw; app user alice."""
    from tenants.publishing.models import AppUser
    from tenants.publishing.services.variables import variable_create

    with tenant(org_a):
        variable_create(actor=None, name="district")
        variable_create(actor=None, name="code", transform="sha256")
        variable_create(actor=None, name="admin_pw")
        AppUser.objects.create(project=project, name="alice")
    return project


def _csv(rows) -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile("users.csv", buffer.getvalue().encode(), content_type="text/csv")


def _xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()  # holds its creation time: build once, upload many times


def _xlsx(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("users.xlsx", data)


def test_create_update_delete_with_values(org_a, workspace, editor):
    response = editor.post(
        "/api/v1/app-users/",
        {
            "project": workspace.pk,
            "name": "bob",
            "variables": {"district": "South", "code": "1234"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    bob = response.json()
    assert bob["variables"]["district"] == "South"
    assert bob["variables"]["code"] != "1234" and len(bob["variables"]["code"]) == 64
    duplicate = editor.post(
        "/api/v1/app-users/", {"project": workspace.pk, "name": "BOB"}, format="json"
    )
    assert duplicate.status_code == 409 and error_of(duplicate)["code"] == "app_user_exists"
    url = f"/api/v1/app-users/{bob['id']}/"
    updated = editor.patch(url, {"variables": {"district": None}}, format="json")
    assert updated.status_code == 200 and "district" not in updated.json()["variables"]
    names = [
        a["name"]
        for a in editor.get(f"/api/v1/app-users/?project={workspace.pk}").json()["results"]
    ]
    assert names == ["alice", "bob"]
    assert editor.delete(url).status_code == 204
    assert editor.get(url).status_code == 404


def test_deleting_an_app_user_in_central_queues_its_revocation(org_a, workspace, editor):
    from django.db import connection

    from tenants.publishing.models import AppUser, AppUserRevocation

    with tenant(org_a):
        alice = AppUser.objects.get(project=workspace, name="alice")
        AppUser.objects.filter(pk=alice.pk).update(central_id=41)
    response = editor.delete(f"/api/v1/app-users/{alice.pk}/")

    assert response.status_code == 204
    with tenant(org_a):
        revocation = AppUserRevocation.objects.get()
        assert (revocation.app_user_name, revocation.central_id) == ("alice", 41)
        assert revocation.status == "pending" and revocation.requested_by_label
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT args FROM procrastinate_jobs WHERE task_name = 'publishing.revoke_app_user'"
            )
            (args,) = [row[0] for row in cursor.fetchall()]
    args = json.loads(args) if isinstance(args, str) else args
    assert args == {"schema_name": "org_acme", "revocation_id": revocation.pk}


def test_the_api_docs_say_what_deleting_an_app_user_does(editor):
    schema = editor.get("/api/schema/?format=json").json()
    delete = schema["paths"]["/api/v1/app-users/{id}/"]["delete"]
    assert "in Central" in delete["summary"]
    assert "publishing.app_user.central_revoked" in delete["description"]


def test_collect_settings_and_qr_code(org_a, workspace, editor, client_for):
    from tenants.publishing import credentials
    from tenants.publishing.models import AppUser
    from tenants.secretstore.services.secrets import secret_put

    with tenant(org_a):
        alice = AppUser.objects.get(project=workspace, name="alice")
    url = f"/api/v1/app-users/{alice.pk}/"
    waiting = editor.get(url + "collect-settings/")
    assert waiting.status_code == 409 and error_of(waiting)["code"] == "app_user_not_ready"
    with tenant(org_a):
        secret_put(credentials.app_user_token(alice.pk), "tok-123", actor=None)
    settings_json = editor.get(url + "collect-settings/")
    assert settings_json.status_code == 200
    server_url = settings_json.json()["general"]["server_url"]
    assert (
        server_url
        == f"{workspace.server.base_url}/v1/key/tok-123/projects/{workspace.central_project_id}"
    )
    qr = editor.get(url + "qr-code/")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png"
    assert b"".join(qr.streaming_content).startswith(b"\x89PNG")
    assert client_for("viewer").get(url + "qr-code/").status_code == 403


def test_import_preview_then_confirm_all_or_nothing(org_a, workspace, editor):
    from tenants.publishing.models import AppUser

    bad = _csv([["name", "district"], ["carol", "East"], ["bad name!", "West"], ["CAROL", ""]])
    preview = editor.post(
        "/api/v1/app-users/import/preview/",
        {"project": workspace.pk, "file": bad},
        format="multipart",
    )
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["valid"] is False
    assert body["summary"] == {"create": 1, "update": 0, "unchanged": 0, "error": 2}
    errors = {r["row"]: r["errors"] for r in body["rows"] if r["errors"]}
    assert set(errors) == {3, 4} and "name" in errors[3]
    bad.seek(0)
    refused = editor.post(
        "/api/v1/app-users/import/", {"project": workspace.pk, "file": bad}, format="multipart"
    )
    assert refused.status_code == 400
    assert {"rows.3.name", "rows.4.name"} <= set(error_of(refused)["fields"])
    with tenant(org_a):
        assert not AppUser.objects.filter(name="carol").exists()  # nothing applied

    good = [["name", "district", "code"], ["carol", "East", "9"], ["alice", "North", ""]]
    good_xlsx = _xlsx_bytes(good)
    preview = editor.post(
        "/api/v1/app-users/import/preview/",
        {"project": workspace.pk, "file": _xlsx(good_xlsx)},
        format="multipart",
    ).json()
    assert (
        preview["valid"] and preview["summary"]["create"] == 1 and preview["summary"]["update"] == 1
    )
    with tenant(org_a):
        assert not AppUser.objects.filter(name="carol").exists()  # a preview changes nothing
    stale = editor.post(
        "/api/v1/app-users/import/",
        {"project": workspace.pk, "file": _csv(good), "expected_sha256": preview["sha256"]},
        format="multipart",
    )
    assert stale.status_code == 400 and "expected_sha256" in error_of(stale)["fields"]
    applied = editor.post(
        "/api/v1/app-users/import/",
        {"project": workspace.pk, "file": _xlsx(good_xlsx), "expected_sha256": preview["sha256"]},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="import-1",
    )
    assert applied.status_code == 200, applied.content
    assert len(applied.json()["created"]) == 1 and len(applied.json()["updated"]) == 1
    again = editor.post(
        "/api/v1/app-users/import/preview/",
        {"project": workspace.pk, "file": _xlsx(good_xlsx)},
        format="multipart",
    ).json()
    assert again["summary"]["unchanged"] == 2


def test_import_refuses_unknown_columns(workspace, editor):
    response = editor.post(
        "/api/v1/app-users/import/preview/",
        {"project": workspace.pk, "file": _csv([["name", "nope"], ["x", "1"]])},
        format="multipart",
    )
    assert response.json()["file_errors"] == ["Unknown columns (not template variables): nope."]


def test_export_round_trips_as_csv_and_xlsx(org_a, workspace, editor):
    from tenants.publishing.models import AppUser
    from tenants.publishing.services.variable_values import app_user_values_set

    with tenant(org_a):
        alice = AppUser.objects.get(project=workspace, name="alice")
        app_user_values_set(
            alice, {"district": "=cmd|' /C calc'!A0", "code": "7", "admin_pw": "pin"}, actor=None
        )
    response = editor.get(f"/api/v1/app-users/export/?project={workspace.pk}&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["name", "district"],
        ["alice", "'=cmd|' /C calc'!A0"],
    ]  # no formula, no secrets
    response = editor.get(f"/api/v1/app-users/export/?project={workspace.pk}&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[2]] == ["alice", "'=cmd|' /C calc'!A0"]
    back = editor.post(
        "/api/v1/app-users/import/preview/",
        {"project": workspace.pk, "file": SimpleUploadedFile("x.xlsx", response.content)},
        format="multipart",
    ).json()
    assert back["valid"] and back["summary"]["unchanged"] == 1
    bad = editor.get(f"/api/v1/app-users/export/?project={workspace.pk}&format=pdf")
    assert bad.status_code == 400
