"""The OpenAPI document: generated without warnings, valid, complete, served to members only."""

from __future__ import annotations

import re

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


def _inline_code(html: str) -> list[str]:
    """Inline scripts, style elements and style attributes (none may remain)."""
    scripts = [m for m in re.findall(r"<script([^>]*)>", html) if "src=" not in m]
    return scripts + re.findall(r"<style", html) + re.findall(r"\sstyle=", html)


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_carry_no_inline_code_and_keep_the_csp(page, org_a, client_on, member_of):
    member = client_on(org_a, member_of(org_a, "viewer"))
    response = member.get(page)
    html = response.content.decode()
    assert _inline_code(html) == []
    assert "fonts.googleapis" not in html
    policy = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    if page == "/api/redoc/":
        # Redoc's run-time styles: a fresh nonce per answer, handed over by its init script.
        nonce = re.search(r"'nonce-([\w-]+)'", policy["style-src"]).group(1)
        assert f'<script src="/static/api/redoc-init.js" nonce="{nonce}">' in html
        assert nonce not in member.get(page)["Content-Security-Policy"]
    else:
        assert policy["style-src"] == "'self'"
        script = member.get(page + "?script=")
        assert script["Content-Type"].startswith("application/javascript")
        assert "SwaggerUIBundle(" in script.content.decode()


def test_the_api_index_links_the_schema_and_the_docs(org_a, org_b, client_for, member_of):
    assert api_client(org_a).get("/api/v1/").status_code == 401
    assert api_client(org_a, user=member_of(org_b, "owner")).get("/api/v1/").status_code == 404
    response = client_for("viewer").get("/api/v1/")
    assert response.status_code == 200
    index = response.json()
    origin = f"http://{org_a.primary_domain}"
    assert index["schema"].startswith(origin) and index["schema"].endswith("/api/schema/")
    assert index["docs"].endswith("/api/docs/") and index["redoc"].endswith("/api/redoc/")
    assert index["resources"]["templates"].endswith("/api/v1/templates/")
    assert api_client(org_a).get("/api/v2/").status_code == 404


def test_operation_descriptions_are_never_a_base_class_docstring():
    from api.common.views import ApiViewMixin

    inherited = ApiViewMixin.__doc__.strip()
    for path, item in tenant_schema()["paths"].items():
        for method, operation in item.items():
            assert operation.get("description", "") != inherited, (method, path)
    me = tenant_schema()["paths"]["/api/v1/me/"]["get"]
    assert me["description"].startswith("Who the credentials speak for")
