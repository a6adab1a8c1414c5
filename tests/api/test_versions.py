"""Versions through the API: archive instead of delete, restore, diff, rollback, isolation."""

from __future__ import annotations

import pytest

from tests.api.helpers import api_client, error_of, issue_token, tenant
from tests.publishing.publishing_helpers import app_users, simple_form, template_for
from tests.xlsforms import make_xlsform

CHANGED = make_xlsform(
    [
        {"type": "text", "name": "respondent", "label": "Full name"},
        {"type": "calculate", "name": "district", "calculation": "''"},
        {"type": "integer", "name": "age", "label": "Age"},
    ],
    settings={"form_title": "x", "form_id": "x", "default_language": "English"},
)


def _version(template, label: str, source: bytes):
    from tenants.publishing.models import FormTemplateVersion
    from tenants.publishing.services.templates import store_source

    name, sha = store_source(template.pk, source)
    return FormTemplateVersion.objects.create(
        template=template, version=label, source_file=name, source_sha256=sha
    )


@pytest.fixture
def versions(org_a, project):
    """A template of A with two stored versions (v1: simple form, v2: changed)."""
    with tenant(org_a):
        template = template_for(project, app_users(project, ["alice"]))
        return template, _version(template, "v1", simple_form()), _version(template, "v2", CHANGED)


def test_diff_between_two_versions(versions, client_for):
    template, v1, v2 = versions
    viewer = client_for("viewer")

    response = viewer.get(f"/api/v1/templates/{template.pk}/versions/{v1.pk}/diff/{v2.pk}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["template"] == template.pk and body["identical"] is False
    assert (body["from_version"]["version"], body["to_version"]["version"]) == ("v1", "v2")
    survey = body["survey"]
    assert [r["key"] for r in survey["added"]] == ["age"]
    assert [r["key"] for r in survey["removed"]] == ["n1"]
    (respondent,) = survey["changed"]
    assert respondent["key"] == "respondent" and respondent["old_row"] == 2
    assert respondent["cells"] == [{"column": "label", "old": "Name", "new": "Full name"}]
    assert [r["key"] for r in body["settings"]["added"]] == ["default_language"]
    assert body["choices"] == {"added": [], "removed": [], "changed": []}
    back = viewer.get(f"/api/v1/templates/{template.pk}/versions/{v2.pk}/diff/{v1.pk}/").json()
    assert [r["key"] for r in back["survey"]["added"]] == ["n1"]
    same = viewer.get(f"/api/v1/templates/{template.pk}/versions/{v1.pk}/diff/{v1.pk}/").json()
    assert same["identical"] is True


def test_diff_is_404_for_versions_of_another_template(versions, org_a, project, client_for):
    template, v1, _ = versions
    with tenant(org_a):
        other = template_for(project, [], form_id_base="other")
        foreign = _version(other, "v1", simple_form())
    viewer = client_for("viewer")

    for path in (
        f"/api/v1/templates/{template.pk}/versions/{v1.pk}/diff/{foreign.pk}/",
        f"/api/v1/templates/{other.pk}/versions/{v1.pk}/diff/{foreign.pk}/",
        f"/api/v1/templates/{template.pk}/versions/{v1.pk}/diff/999999/",
    ):
        response = viewer.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"


def test_diff_of_a_lost_source_is_a_clear_409(versions, client_for):
    from django.core.files.storage import default_storage

    template, v1, v2 = versions
    default_storage.delete(v2.source_file)

    response = client_for("viewer").get(
        f"/api/v1/templates/{template.pk}/versions/{v1.pk}/diff/{v2.pk}/"
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "artifact_unavailable"
    assert "v2" in error_of(response)["message"]


def test_rollback_starts_a_run_with_the_old_source(versions, org_a, client_for):
    from tenants.publishing.models import PublishRun

    template, v1, _ = versions
    path = f"/api/v1/templates/{template.pk}/versions/{v1.pk}/rollback/"

    assert client_for("viewer").post(path, {}, format="json").status_code == 403
    response = client_for("editor").post(path, {}, format="json")

    assert response.status_code == 202, response.content
    run = response.json()
    assert response["Location"].endswith(f"/api/v1/publish-runs/{run['id']}/")
    assert run["status"] == "queued" and [i["app_user_name"] for i in run["items"]] == ["alice"]
    assert run["rollback_of"] == v1.pk
    with tenant(org_a):
        assert PublishRun.objects.get(pk=run["id"]).rollback_of_id == v1.pk
    busy = client_for("editor").post(path, {}, format="json")
    assert busy.status_code == 409 and error_of(busy)["code"] == "publish_in_progress"


def test_delete_archives_and_an_admin_restores(versions, client_for):
    template, v1, v2 = versions
    editor, admin = client_for("editor"), client_for("admin")
    detail = f"/api/v1/templates/{template.pk}/"

    assert editor.delete(detail).status_code == 204

    listed = [t["id"] for t in editor.get("/api/v1/templates/").json()["results"]]
    archived = [t["id"] for t in editor.get("/api/v1/templates/?archived=true").json()["results"]]
    assert template.pk not in listed and archived == [template.pk]
    assert editor.get(detail).json()["archived_at"] is not None
    # History and downloads stay.
    version = editor.get(f"{detail}versions/{v1.pk}/").json()
    assert editor.get(version["source_url"]).status_code == 200
    assert editor.get(f"{detail}versions/{v1.pk}/diff/{v2.pk}/").status_code == 200
    # An archived template is read-only; deleting again changes nothing.
    changed = editor.patch(detail, {"title_base": "New"}, format="json")
    assert changed.status_code == 409 and error_of(changed)["code"] == "template_archived"
    rollback = editor.post(f"{detail}versions/{v1.pk}/rollback/", {}, format="json")
    assert rollback.status_code == 409 and error_of(rollback)["code"] == "template_archived"
    assert editor.delete(detail).status_code == 204

    assert editor.post(f"{detail}restore/").status_code == 403
    restored = admin.post(f"{detail}restore/")

    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert template.pk in [t["id"] for t in editor.get("/api/v1/templates/").json()["results"]]
    again = admin.post(f"{detail}restore/")
    assert again.status_code == 409 and error_of(again)["code"] == "template_not_archived"


def test_globex_cannot_diff_rollback_or_restore_acme_versions(versions, org_b, member_of):
    template, v1, v2 = versions
    owner_b = api_client(org_b, token=issue_token(org_b, member_of(org_b, "owner"), "owner"))
    base = f"/api/v1/templates/{template.pk}"

    assert owner_b.get(f"{base}/versions/{v1.pk}/diff/{v2.pk}/").status_code == 404
    assert owner_b.post(f"{base}/versions/{v1.pk}/rollback/", {}, format="json").status_code == 404
    assert owner_b.post(f"{base}/restore/").status_code == 404
    assert owner_b.delete(f"{base}/").status_code == 404
