"""Servers, projects, templates, versions and publish runs through the API (fake Central)."""

from __future__ import annotations

import uuid

import pytest

from tests.api.helpers import error_of, tenant
from tests.publishing.fixtures import CENTRAL_EMAIL, CENTRAL_PASSWORD
from tests.publishing.publishing_helpers import app_users, simple_form, template_for


def test_server_password_is_write_only(org_a, central, admin, member_of):
    body = {
        "name": "Main",
        "base_url": central.base_url,
        "username": CENTRAL_EMAIL,
        "password": CENTRAL_PASSWORD,
    }
    response = admin.post("/api/v1/servers/", body, format="json")
    assert response.status_code == 201, response.content
    text = response.content.decode()
    assert CENTRAL_PASSWORD not in text and CENTRAL_EMAIL not in text
    server = response.json()
    assert server["username_hint"] == "p***@example.org"
    renamed = admin.patch(f"/api/v1/servers/{server['id']}/", {"name": "Renamed"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    wrong = admin.patch(
        f"/api/v1/servers/{server['id']}/", {"password": "wrong-password"}, format="json"
    )
    assert wrong.status_code == 400 and error_of(wrong)["code"] == "central_login_refused"
    listed = admin.get("/api/v1/servers/").content.decode()
    assert CENTRAL_PASSWORD not in listed


def test_projects_create_update_and_central_listing(org_a, central_server, editor):
    response = editor.post(
        "/api/v1/projects/",
        {"server": central_server.pk, "name": "Survey", "variables": {}},
        format="json",
    )
    assert response.status_code == 201, response.content
    project = response.json()
    assert project["central_project_id"] > 0
    with tenant(org_a):
        from tenants.publishing.services.variables import variable_create

        variable_create(actor=None, name="district")
        variable_create(actor=None, name="admin_pw")
    response = editor.patch(
        f"/api/v1/projects/{project['id']}/",
        {"variables": {"district": "North", "admin_pw": "s3cret-pin"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["variables"] == {"district": "North"}  # admin_pw never shown
    assert "s3cret-pin" not in response.content.decode()
    unknown = editor.patch(
        f"/api/v1/projects/{project['id']}/", {"variables": {"nope": "x"}}, format="json"
    )
    assert unknown.status_code == 400 and "variables.nope" in error_of(unknown)["fields"]
    listing = editor.get(f"/api/v1/servers/{central_server.pk}/central-projects/").json()
    assert {"id": project["central_project_id"], "name": "Survey", "imported": True} in listing[
        "projects"
    ]


def test_import_project_from_central(org_a, central, central_server, editor):
    from tenants.publishing.services.clients import central_client_for

    with tenant(org_a):
        remote = central_client_for(central_server).create_project("Remote")
    key = str(uuid.uuid4())
    body = {"server": central_server.pk, "central_project_id": remote["id"]}
    first = editor.post("/api/v1/projects/import/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.content
    again = editor.post("/api/v1/projects/import/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    duplicate = editor.post("/api/v1/projects/import/", body, format="json")
    assert duplicate.status_code == 409 and error_of(duplicate)["code"] == "project_exists"


@pytest.fixture
def template(org_a, project):
    with tenant(org_a):
        users = app_users(project, ["alice", "bob"])
        return template_for(project, users)


def test_template_create_and_source_upload(org_a, project, editor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    workbook = simple_form()  # built once: openpyxl stamps the time into each workbook
    source = SimpleUploadedFile("form.xlsx", workbook, content_type="application/octet-stream")
    response = editor.post(
        "/api/v1/templates/",
        {
            "project": project.pk,
            "title_base": "Household",
            "form_id_base": "household",
            "source_kind": "upload",
            "source": source,
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["source_sha256"] and created["source_url"].endswith("/source/")
    download = editor.get(created["source_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == workbook
    etag = editor.get(f"/api/v1/templates/{created['id']}/")["ETag"]
    bad = SimpleUploadedFile("bad.xlsx", b"not a workbook")
    response = editor.put(
        f"/api/v1/templates/{created['id']}/source/",
        {"file": bad},
        format="multipart",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400 and "source" in error_of(response)["fields"]


@pytest.fixture
def committed_editor(tenant_tx):
    """An editor's API client on organization A, with committed rows (the run uses threads)."""
    from api.models import IdempotencyKey
    from control_plane.accounts.models import ApiToken, Membership
    from tests.api.helpers import api_client, issue_token
    from tests.factories import UserFactory

    user = UserFactory()
    Membership.objects.create(user=user, organization=tenant_tx, role="editor")
    yield api_client(tenant_tx, token=issue_token(tenant_tx, user, "editor"))
    IdempotencyKey.objects.filter(organization=tenant_tx).delete()
    ApiToken.objects.filter(created_by=user).delete()
    user.delete()


def test_publish_run_lifecycle(tenant_tx, tx_project, committed_editor):
    from tenants.publishing.models import PublishRun
    from tenants.publishing.services.publish_job import publish_run_execute

    org_a, editor = tenant_tx, committed_editor
    with tenant(org_a):
        template = template_for(tx_project, app_users(tx_project, ["alice", "bob"]))
    key = str(uuid.uuid4())
    response = editor.post(
        "/api/v1/publish-runs/", {"template": template.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 202, response.content
    run = response.json()
    assert response["Location"].endswith(f"/api/v1/publish-runs/{run['id']}/")
    assert run["status"] == "queued" and len(run["items"]) == 2
    replay = editor.post(
        "/api/v1/publish-runs/", {"template": template.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert replay.status_code == 202 and replay.json()["id"] == run["id"]
    with tenant(org_a):
        assert PublishRun.objects.filter(template=template).count() == 1
    busy = editor.post("/api/v1/publish-runs/", {"template": template.pk}, format="json")
    assert busy.status_code == 409 and error_of(busy)["code"] == "publish_in_progress"
    reused = editor.post(
        "/api/v1/publish-runs/",
        {"template": template.pk, "app_users": []},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert reused.status_code == 422 and error_of(reused)["code"] == "idempotency_key_reused"

    with tenant(org_a):
        publish_run_execute(run["id"])
    done = editor.get(f"/api/v1/publish-runs/{run['id']}/").json()
    assert done["status"] == "succeeded", done
    assert {i["app_user_name"]: i["status"] for i in done["items"]} == {
        "alice": "published",
        "bob": "published",
    }
    assert done["summary"]["published"] == 2

    events, url = [], f"/api/v1/publish-runs/{run['id']}/events/?page_size=3"
    while url:
        page = editor.get(url).json()
        events += page["results"]
        url = page["next"]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(ids) > 3
    later = editor.get(f"/api/v1/publish-runs/{run['id']}/events/?after={ids[2]}").json()
    assert [e["id"] for e in later["results"]] == ids[3:]

    nothing = editor.post(f"/api/v1/publish-runs/{run['id']}/retry/")
    assert nothing.status_code == 409 and error_of(nothing)["code"] == "nothing_to_retry"

    versions = editor.get(f"/api/v1/templates/{template.pk}/versions/").json()["results"]
    assert len(versions) == 1
    version = editor.get(f"/api/v1/templates/{template.pk}/versions/{versions[0]['id']}/").json()
    assert editor.get(version["source_url"]).status_code == 200
    for variant in version["variants"]:
        workbook = editor.get(variant["workbook_url"])
        assert workbook.status_code == 200
        xform = editor.get(variant["xform_url"])
        assert xform.status_code == 200 and b"<h:html" in b"".join(xform.streaming_content)


def test_retry_of_a_failed_run_is_idempotent(org_a, template, editor):
    from tenants.publishing.models import PublishRun

    with tenant(org_a):
        run = PublishRun.objects.create(template=template, status="failed")
    key = str(uuid.uuid4())
    first = editor.post(f"/api/v1/publish-runs/{run.pk}/retry/", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 202, first.content
    second = editor.post(f"/api/v1/publish-runs/{run.pk}/retry/", HTTP_IDEMPOTENCY_KEY=key)
    assert second.status_code == 202 and second.json()["attempt"] == first.json()["attempt"] == 2
    assert "@" in first.json()["retried_by_label"]  # who retried: whose Google reads the sheet
    with tenant(org_a):
        assert PublishRun.objects.get(pk=run.pk).attempt == 2


def test_idempotency_keys_are_per_principal(org_a, template, client_for):
    key = str(uuid.uuid4())
    one, two = client_for("editor"), client_for("editor")
    first = one.post(
        "/api/v1/publish-runs/", {"template": template.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert first.status_code == 202
    other = two.post(
        "/api/v1/publish-runs/", {"template": template.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert other.status_code == 409  # not a replay of someone else's run: a real attempt
    bad = one.post(
        "/api/v1/publish-runs/",
        {"template": template.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="has space",
    )
    assert bad.status_code == 400
