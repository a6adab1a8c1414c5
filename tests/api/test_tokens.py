"""API tokens through the API: shown once, stored hashed, bounded roles, revocation and expiry."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from control_plane.accounts.models import ApiToken
from control_plane.accounts.services.api_tokens import hash_token
from tests.api.helpers import api_client, error_of, issue_token


def test_create_shows_the_secret_once_and_stores_a_hash(org_a, admin):
    response = admin.post("/api/v1/tokens/", {"name": "ci", "role": "editor"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["token"]
    assert secret.startswith(f"pmdm_{body['prefix']}_")
    assert response["Location"].endswith(f"/api/v1/tokens/{body['id']}/")
    row = ApiToken.objects.get(pk=body["id"])
    assert row.token_hash == hash_token(secret) and secret not in str(row.__dict__)
    listed = admin.get("/api/v1/tokens/").content.decode()
    detail = admin.get(f"/api/v1/tokens/{body['id']}/").content.decode()
    assert secret not in listed and secret not in detail
    assert api_client(org_a, token=secret).get("/api/v1/me/").json()["role"] == "editor"


def test_token_role_cannot_exceed_the_callers(admin, client_for):
    response = admin.post("/api/v1/tokens/", {"name": "x", "role": "owner"}, format="json")
    assert response.status_code == 403
    owner = client_for("owner")
    assert (
        owner.post("/api/v1/tokens/", {"name": "x", "role": "owner"}, format="json").status_code
        == 201
    )


def test_revocation_takes_effect_at_once(org_a, admin):
    body = admin.post("/api/v1/tokens/", {"name": "ci", "role": "viewer"}, format="json").json()
    script = api_client(org_a, token=body["token"])
    assert script.get("/api/v1/me/").status_code == 200
    assert admin.delete(f"/api/v1/tokens/{body['id']}/").status_code == 204
    response = script.get("/api/v1/me/")
    assert response.status_code == 401 and error_of(response)["code"] == "invalid_token"
    listed = admin.get(f"/api/v1/tokens/{body['id']}/").json()
    assert listed["active"] is False and listed["revoked_at"]
    assert admin.delete(f"/api/v1/tokens/{body['id']}/").status_code == 409


def test_expiry_takes_effect_at_once(org_a, admin):
    soon = timezone.now() + timedelta(hours=1)
    body = admin.post(
        "/api/v1/tokens/",
        {"name": "ci", "role": "viewer", "expires_at": soon.isoformat()},
        format="json",
    ).json()
    script = api_client(org_a, token=body["token"])
    assert script.get("/api/v1/me/").status_code == 200
    ApiToken.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert script.get("/api/v1/me/").status_code == 401
    past = admin.post(
        "/api/v1/tokens/",
        {"name": "old", "role": "viewer", "expires_at": "2000-01-01T00:00:00Z"},
        format="json",
    )
    assert past.status_code == 400 and "expires_at" in error_of(past)["fields"]


def test_last_used_is_recorded(org_a, admin):
    body = admin.post("/api/v1/tokens/", {"name": "ci", "role": "viewer"}, format="json").json()
    assert body["last_used_at"] is None
    api_client(org_a, token=body["token"]).get("/api/v1/me/")
    assert ApiToken.objects.get(pk=body["id"]).last_used_at is not None


def test_token_of_a_member_of_both_organizations_is_refused_on_the_other_host(
    org_a, org_b, member_of
):
    """The token's own organization decides, not its creator's memberships: a creator who
    belongs to both organizations must not carry an A token onto B's host."""
    from control_plane.accounts.models import Membership

    user = member_of(org_a, "admin")
    Membership.objects.create(user=user, organization=org_b, role="admin")
    raw = issue_token(org_a, user, "admin")
    assert api_client(org_a, token=raw).get("/api/v1/me/").status_code == 200
    response = api_client(org_b, token=raw).get("/api/v1/me/")
    assert response.status_code == 401 and error_of(response)["code"] == "invalid_token"
    assert api_client(org_b, token=raw).get("/api/v1/projects/").status_code == 401
