"""Findings 5 and 10: a token's role caps what it does, even to its creator; owners' tokens.

The attacks: a viewer-scoped token of an owner sends ``DELETE
/api/v1/members/<its creator>/`` and removes an owner (the API treated it as
the owner leaving); an admin revokes the owners' tokens. Now leaving is a
session action of the person themselves, a token needs the role that removing
others needs (owner, to remove an owner), the audit event names the token as
well as the user, and only owners revoke owners' tokens.
"""

from __future__ import annotations

import pytest

from control_plane.accounts.models import ApiToken, Membership
from tenants.audit.models import AuditEvent
from tests.api.helpers import api_client, error_of, issue_token, tenant


def _prefix(raw: str) -> str:
    return raw.split("_")[1]


@pytest.fixture
def owners(org_a, member_of):
    """Two owners (so that neither is the last one)."""
    return member_of(org_a, "owner"), member_of(org_a, "owner")


def _membership(org, user) -> Membership:
    return Membership.objects.get(user=user, organization=org)


@pytest.mark.parametrize("scope", ["viewer", "editor", "admin"])
def test_a_token_below_owner_cannot_remove_its_owner_creator(org_a, owners, scope):
    owner, _ = owners
    client = api_client(org_a, token=issue_token(org_a, owner, scope))

    response = client.delete(f"/api/v1/members/{_membership(org_a, owner).pk}/")

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert Membership.objects.filter(user=owner, organization=org_a, role="owner").exists()


def test_a_viewer_token_cannot_remove_its_viewer_creator_either(org_a, member_of):
    viewer = member_of(org_a, "viewer")
    client = api_client(org_a, token=issue_token(org_a, viewer, "viewer"))
    response = client.delete(f"/api/v1/members/{_membership(org_a, viewer).pk}/")
    assert response.status_code == 403
    assert Membership.objects.filter(user=viewer, organization=org_a).exists()


def test_an_owner_token_may_remove_its_creator_and_the_audit_names_the_token(org_a, owners):
    owner, _ = owners
    raw = issue_token(org_a, owner, "owner")
    client = api_client(org_a, token=raw)

    response = client.delete(f"/api/v1/members/{_membership(org_a, owner).pk}/")

    assert response.status_code == 204
    with tenant(org_a):
        event = AuditEvent.objects.filter(code__startswith="organization.member.").latest("id")
    assert event.code == "organization.member.removed"  # not "left": a token does not leave
    assert event.actor_id == owner.pk and event.actor_label == owner.email
    assert event.actor_token == f"pmdm_{_prefix(raw)}"


def test_anyone_may_leave_in_their_own_session(org_a, member_of):
    viewer = member_of(org_a, "viewer")
    response = api_client(org_a, user=viewer).delete(
        f"/api/v1/members/{_membership(org_a, viewer).pk}/"
    )
    assert response.status_code == 204
    with tenant(org_a):
        event = AuditEvent.objects.filter(code="organization.member.left").latest("id")
    assert event.actor_id == viewer.pk and event.actor_token == ""


def test_the_service_caps_a_token_actor_at_the_tokens_role(org_a, owners, member_of):
    """The rule lives in the service, so every surface gets it (not only this view)."""
    from control_plane.accounts.services.api_tokens import api_token_authenticate
    from control_plane.accounts.services.memberships import membership_remove
    from control_plane.errors import NotAllowed

    owner, _ = owners
    editor = member_of(org_a, "editor")
    identity = api_token_authenticate(issue_token(org_a, owner, "viewer"), org_a)
    with pytest.raises(NotAllowed):
        membership_remove(_membership(org_a, editor), actor=identity.user)
    with pytest.raises(NotAllowed):
        membership_remove(_membership(org_a, owner), actor=identity.user)
    assert Membership.objects.filter(user__in=[owner, editor], organization=org_a).count() == 2


def test_actions_through_a_token_are_audited_with_the_token(org_a, member_of):
    admin = member_of(org_a, "admin")
    raw = issue_token(org_a, admin, "admin")
    response = api_client(org_a, token=raw).post(
        "/api/v1/tokens/", {"name": "CI", "role": "viewer"}, format="json"
    )
    assert response.status_code == 201
    with tenant(org_a):
        event = AuditEvent.objects.filter(code="organization.api_token.created").latest("id")
    assert event.actor_token == f"pmdm_{_prefix(raw)}"


# --- finding 10: owners' tokens ---------------------------------------------------------------


def test_an_admin_cannot_revoke_an_owners_token(org_a, owners, member_of, client_on):
    owner, _ = owners
    admin = member_of(org_a, "admin")
    owners_token = ApiToken.objects.get(prefix=_prefix(issue_token(org_a, owner, "editor")))

    api = api_client(org_a, token=issue_token(org_a, admin, "admin"))
    response = api.delete(f"/api/v1/tokens/{owners_token.pk}/")
    assert response.status_code == 403
    web = client_on(org_a, admin).post(f"/tokens/{owners_token.pk}/revoke/", {"confirm": "yes"})
    assert web.status_code == 302
    owners_token.refresh_from_db()
    assert owners_token.revoked_at is None


def test_an_owner_may_revoke_an_owners_token_and_an_admin_an_admins(org_a, owners, member_of):
    owner, other_owner = owners
    admin, other_admin = member_of(org_a, "admin"), member_of(org_a, "admin")
    owners_token = ApiToken.objects.get(prefix=_prefix(issue_token(org_a, owner, "editor")))
    admins_token = ApiToken.objects.get(prefix=_prefix(issue_token(org_a, other_admin, "editor")))

    as_owner = api_client(org_a, user=other_owner)
    assert as_owner.delete(f"/api/v1/tokens/{owners_token.pk}/").status_code == 204
    as_admin = api_client(org_a, user=admin)
    assert as_admin.delete(f"/api/v1/tokens/{admins_token.pk}/").status_code == 204


def test_an_owners_admin_token_cannot_revoke_owner_tokens(org_a, owners):
    """The token's scope caps its creator's rights here too."""
    owner, other_owner = owners
    owners_token = ApiToken.objects.get(prefix=_prefix(issue_token(org_a, other_owner, "viewer")))
    api = api_client(org_a, token=issue_token(org_a, owner, "admin"))
    assert api.delete(f"/api/v1/tokens/{owners_token.pk}/").status_code == 403
