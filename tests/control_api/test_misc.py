"""Plans, signup, rate limits, body limits and the OpenAPI document of the control plane."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from control_plane.accounts.models import User
from control_plane.organizations.models import Organization
from tests.control_api.conftest import Api

SIGNUP = "/api/v1/signup/"


def _signup_body(slug: str = "new-co", email: str = "founder@example.org") -> dict:
    return {
        "email": email,
        "password": "a-long-unusual-passphrase-77",
        "full_name": "Ada Founder",
        "organization_name": "New Co",
        "slug": slug,
    }


def test_plans_are_readable_with_any_token(make_token):
    reader = Api(make_token("organizations:read"))

    plans = reader.get("/api/v1/plans/").json()["results"]
    team = reader.get("/api/v1/plans/team/").json()

    assert [p["slug"] for p in plans] == ["free", "team", "enterprise"]
    assert team["limits"] == {"max_members": 50, "max_app_users": 1000, "max_custom_domains": 3}
    assert reader.get("/api/v1/plans/gold/").status_code == 404


def test_signup_creates_account_and_organization(anonymous):
    response = anonymous.post(SIGNUP, _signup_body())

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "founder@example.org"
    assert body["organization"]["slug"] == "new-co"
    assert body["organization"]["status"] == "pending"
    organization = Organization.objects.get(slug="new-co")
    assert organization.owner_email == "founder@example.org"
    assert "password" not in str(body)
    assert "sessionid" not in response.cookies  # no login from an API call


def test_signup_reports_every_invalid_field(anonymous, org_a):
    response = anonymous.post(
        SIGNUP, {**_signup_body(slug="acme", email="nope"), "password": "123"}
    )

    assert response.status_code == 400
    assert {"slug", "email", "password"} <= set(response.json()["error"]["fields"])
    assert not User.objects.filter(email="nope").exists()


def test_signup_is_rate_limited_per_address(anonymous, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "signup": "2/hour",
        },
    }
    statuses = [
        anonymous.post(SIGNUP, _signup_body(slug=f"co-{i}", email=f"f{i}@example.org")).status_code
        for i in range(3)
    ]

    assert statuses == [201, 201, 429]
    throttled = anonymous.post(SIGNUP, _signup_body(slug="co-9", email="f9@example.org"))
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0


def test_platform_tokens_are_rate_limited(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "platform_token": "3/min",
        },
    }

    statuses = [api.get("/api/v1/plans/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_oversized_bodies_get_413(api, settings):
    settings.API_MAX_JSON_BYTES = 1000

    response = api.post("/api/v1/organizations/", {"slug": "big", "name": "x" * 2000})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_unknown_api_paths_answer_json_404(api):
    response = api.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_schema_is_served_on_the_base_host_without_warnings(anonymous):
    out = io.StringIO()
    call_command(
        "spectacular",
        "--urlconf",
        "api.control.urls_schema",
        "--fail-on-warn",
        "--validate",
        stdout=out,
        stderr=out,
    )

    response = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Publish MDM control-plane API"
    assert "/api/v1/organizations/{slug}/archive/" in document["paths"]
    assert "platformToken" in document["components"]["securitySchemes"]
    assert not any(p.startswith("/api/v1/projects") for p in document["paths"])
    for page in ("/api/docs/", "/api/redoc/", "/api/schema/swagger/", "/api/schema/redoc/"):
        response = anonymous.get(page)
        assert response.status_code == 200
        assert "<style" not in response.content.decode()
        assert "unsafe" not in response["Content-Security-Policy"]


def test_the_api_index_links_the_operations_and_the_docs(anonymous):
    response = anonymous.get("/api/v1/")

    assert response.status_code == 200
    index = response.json()
    assert index["title"] == "Publish MDM control-plane API"
    assert index["docs"].endswith("/api/docs/") and index["schema"].endswith("/api/schema/")
    assert index["resources"]["organizations"].endswith("/api/v1/organizations/")


@pytest.mark.parametrize("method", ["get", "post"])
def test_errors_are_never_html(anonymous, method):
    response = getattr(anonymous, method)("/api/v1/organizations/")

    assert response["Content-Type"].startswith("application/json")
