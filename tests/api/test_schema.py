"""The OpenAPI document: generated without warnings, valid, complete, served to members only."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from api.tenant.schema_views import tenant_schema
from tests.api.helpers import api_client


def test_generation_fails_on_no_warning_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    document = yaml.safe_load(target.read_text())
    validate_schema(document)
    assert document["paths"], "no operations"


def test_every_operation_documents_auth_errors_and_conventions():
    document = tenant_schema()
    assert set(document["components"]["securitySchemes"]) == {"apiToken", "sessionCookie"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            for code in ("401", "403", "404", "429"):
                assert code in responses, (where, code)
            assert "Retry-After" in responses["429"].get("headers", {}), where
            assert operation["security"] == [{"apiToken": []}, {"sessionCookie": []}], where
            params = {p["name"] for p in operation.get("parameters", [])}
            if method in ("put", "patch", "delete"):
                assert "If-Match" in params and "412" in responses, where
            if method == "get" and "results" in str(responses.get("200", {})):
                assert {"cursor", "page_size"} <= params, where


def test_schema_endpoint_needs_membership(org_a, org_b, client_for, member_of):
    assert api_client(org_a).get("/api/schema/").status_code == 401
    outsider = api_client(org_a, user=member_of(org_b, "owner"))
    assert outsider.get("/api/schema/").status_code == 404
    response = client_for("viewer").get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/v1/publish-runs/" in response.json()["paths"]


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_are_served_from_the_package(page, org_a, client_on, member_of):
    member = client_on(org_a, member_of(org_a, "viewer"))
    response = member.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html
    assert client_on(org_a).get(page).status_code == 302  # browsers log in first
