"""The API's conventions: error format, pagination, filtering, ETags, size limits, CSRF."""

from __future__ import annotations

import pytest

from tests.api.helpers import api_client, error_of, tenant


@pytest.fixture
def variables(org_a):
    from tenants.publishing.models import TemplateVariable

    with tenant(org_a):
        return [TemplateVariable.objects.create(name=f"v{i:02d}") for i in range(7)]


def test_validation_errors_use_the_one_format(editor):
    response = editor.post("/api/v1/variables/", {"name": ""}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "blank"
    assert "name" in error["fields"]


def test_service_errors_keep_their_code_and_field(editor, variables):
    response = editor.post("/api/v1/variables/", {"name": "v00"}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"name": ["A variable named v00 already exists."]}


def test_unknown_api_paths_and_methods_answer_json(editor):
    response = editor.get("/api/v1/nothing-here/")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    response = editor.post("/api/v1/audit-events/", {}, format="json")
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_malformed_json_is_a_400(editor):
    response = editor.post("/api/v1/variables/", "{nope", content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "parse_error"


def _walk(client, url):
    seen = []
    while url:
        body = client.get(url).json()
        seen += [row["name"] for row in body["results"]]
        url = body["next"]
    return seen


def test_cursor_pages_are_stable_under_inserts(org_a, editor, variables):
    from tenants.publishing.models import TemplateVariable

    first = editor.get("/api/v1/variables/?page_size=3&ordering=name").json()
    assert [r["name"] for r in first["results"]] == ["v00", "v01", "v02"]
    assert first["previous"] is None
    with tenant(org_a):  # rows appear before and after the cursor while we page
        TemplateVariable.objects.create(name="a_before")
        TemplateVariable.objects.create(name="v015")
        TemplateVariable.objects.create(name="z_after")
    rest = _walk(editor, first["next"])
    assert rest == ["v03", "v04", "v05", "v06", "z_after"]
    second = editor.get(first["next"]).json()
    back = editor.get(second["previous"]).json()
    assert [r["name"] for r in back["results"]] == ["v01", "v015", "v02"]


def test_pagination_limits_and_bad_cursors(editor, variables):
    assert editor.get("/api/v1/variables/?page_size=500").status_code == 400
    response = editor.get("/api/v1/variables/?cursor=not-a-cursor")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_cursor"
    descending = editor.get("/api/v1/variables/?page_size=2&ordering=-name").json()
    other_order = editor.get(descending["next"].replace("-name", "created_at"))
    assert other_order.status_code == 400


def test_filtering_and_ordering(editor, variables):
    names = [
        r["name"] for r in editor.get("/api/v1/variables/?name=v0&ordering=-name").json()["results"]
    ]
    assert names == [f"v{i:02d}" for i in reversed(range(7))]
    assert editor.get("/api/v1/variables/?name=v03").json()["results"][0]["name"] == "v03"


def test_etag_and_if_match(editor, variables):
    url = f"/api/v1/variables/{variables[0].pk}/"
    etag = editor.get(url)["ETag"]
    assert etag.startswith('"') and editor.head(url)["ETag"] == etag
    changed = editor.patch(url, {"description": "new"}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    stale = editor.patch(url, {"description": "lost"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and error_of(stale)["code"] == "precondition_failed"
    assert editor.delete(url, HTTP_IF_MATCH=etag).status_code == 412
    assert editor.get(url).json()["description"] == "new"
    assert editor.delete(url, HTTP_IF_MATCH=changed["ETag"]).status_code == 204


def test_oversized_bodies_get_413(settings, editor):
    settings.API_MAX_JSON_BYTES = 100
    response = editor.post("/api/v1/variables/", {"name": "x" * 200}, format="json")
    assert response.status_code == 413 and error_of(response)["code"] == "payload_too_large"
    settings.API_MAX_UPLOAD_BYTES = 1000
    response = editor.post(
        "/api/v1/app-users/import/preview/",
        {"project": 1, "file": _upload(b"x" * 5000)},
        format="multipart",
    )
    assert response.status_code == 413


def _upload(data: bytes, name: str = "users.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_session_writes_need_the_csrf_token(org_a, member_of):
    client = api_client(org_a, user=member_of(org_a, "editor"), csrf=True)
    response = client.post("/api/v1/variables/", {"name": "district"}, format="json")
    assert response.status_code == 403 and "CSRF" in error_of(response)["message"]
    token = "a" * 32  # the browser echoes its csrftoken cookie in the header
    client.cookies["csrftoken"] = token
    response = client.post(
        "/api/v1/variables/", {"name": "district"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.content


def test_throttling_per_token_and_per_user(settings, org_a, client_for, member_of):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min", "user": "2/min", "anon": "100/min"},
    }
    first, second = client_for("viewer"), client_for("viewer")
    for _ in range(3):
        assert first.get("/api/v1/me/").status_code == 200
    throttled = first.get("/api/v1/me/")
    assert throttled.status_code == 429 and error_of(throttled)["code"] == "throttled"
    assert 1 <= int(throttled["Retry-After"]) <= 20
    assert second.get("/api/v1/me/").status_code == 200  # another token: its own budget
    browser = client_for("viewer", auth="session")
    assert [browser.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]


def test_bad_tokens_are_throttled_per_address(settings, org_a):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100/min", "user": "100/min", "anon": "2/min"},
    }
    client = api_client(org_a, token="pmdm_deadbeef_guess")
    codes = [client.get("/api/v1/me/").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
