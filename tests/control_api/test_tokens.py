"""Platform tokens: shown once, hashed, scoped, revocable; the management commands."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from control_plane.accounts.models import PlatformToken
from control_plane.accounts.services.platform_tokens import (
    hash_token,
    platform_token_authenticate,
    platform_token_create,
    platform_token_revoke,
)
from control_plane.organizations.models import PlatformAuditEvent
from tests.control_api.conftest import Api


def test_token_is_stored_only_as_a_hash(db):
    issued = platform_token_create(name="ops", scopes=["organizations:read"])

    row = PlatformToken.objects.get(pk=issued.token.pk)
    assert issued.secret.startswith(f"pmdp_{row.prefix}_")
    assert row.token_hash == hash_token(issued.secret)
    assert issued.secret not in str(PlatformToken.objects.values().get(pk=row.pk))
    assert PlatformAuditEvent.objects.filter(code="platform.token.created").exists()


def test_authenticate_checks_hash_and_revocation(db):
    issued = platform_token_create(name="ops", scopes=["organizations:write"])

    actor = platform_token_authenticate(issued.secret)
    assert actor is not None and actor.has_scope("organizations:read")  # write implies read
    assert platform_token_authenticate(issued.secret[:-2] + "xx") is None
    assert platform_token_authenticate("pmdm_" + issued.secret[5:]) is None
    platform_token_revoke(issued.token)
    assert platform_token_authenticate(issued.secret) is None


def test_unknown_scope_is_refused(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        platform_token_create(name="ops", scopes=["everything"])


def test_missing_bad_and_revoked_tokens_get_401(db, make_token, anonymous):
    response = anonymous.get("/api/v1/organizations/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")

    assert Api("pmdp_nope_nope").get("/api/v1/organizations/").status_code == 401
    raw = make_token("organizations:read")
    platform_token_revoke(PlatformToken.objects.get(prefix=raw.split("_")[1]))
    response = Api(raw).get("/api/v1/organizations/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_organization_tokens_do_not_work_on_the_control_plane(org_a, make_user, member_of):
    from control_plane.accounts.services.api_tokens import api_token_create

    owner = member_of(org_a, "owner")
    issued = api_token_create(organization=org_a, actor=owner, name="ci", role="owner")

    assert Api(issued.secret).get("/api/v1/organizations/").status_code == 401


def test_read_scope_cannot_write(make_token):
    reader = Api(make_token("organizations:read"))

    assert reader.get("/api/v1/organizations/").status_code == 200
    response = reader.post("/api/v1/organizations/", {"slug": "nope", "name": "Nope"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_token_endpoint_describes_the_caller_without_the_secret(make_token):
    raw = make_token("organizations:read", name="dashboards")

    body = Api(raw).get("/api/v1/token/").json()

    assert body["name"] == "dashboards"
    assert body["scopes"] == ["organizations:read"]
    assert raw not in str(body)


def test_commands_create_list_and_revoke(db):
    out = io.StringIO()
    call_command(
        "platform_token_create", "terraform-ci", "--scope", "organizations:write", stdout=out
    )
    raw = next(word for word in out.getvalue().split() if word.startswith("pmdp_"))
    assert platform_token_authenticate(raw) is not None

    quiet = io.StringIO()
    call_command(
        "platform_token_create", "x", "--scope", "organizations:read", "--quiet-token", stdout=quiet
    )
    assert quiet.getvalue().strip().startswith("pmdp_")

    listing = io.StringIO()
    call_command("platform_token_list", stdout=listing)
    assert "terraform-ci" in listing.getvalue() and raw not in listing.getvalue()

    call_command("platform_token_revoke", raw.split("_")[1], stdout=io.StringIO())
    assert platform_token_authenticate(raw) is None
    with pytest.raises(CommandError):
        call_command("platform_token_revoke", raw.split("_")[1], stdout=io.StringIO())
