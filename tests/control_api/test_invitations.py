"""Invitations made through the control plane (Terraform's publishmdm_invitation)."""

from __future__ import annotations

from django.core import mail
from django.utils import timezone

from control_plane.accounts.models import Invitation
from control_plane.organizations.models import PlatformAuditEvent
from tenants.audit.models import AuditEvent

INVITES = "/api/v1/organizations/acme/invitations/"


def test_invite_is_idempotent_and_audited(api, org_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(INVITES, {"email": "Owner@Example.org", "role": "owner"})
    again = api.post(INVITES, {"email": "owner@example.org", "role": "owner"})
    other_role = api.post(INVITES, {"email": "owner@example.org", "role": "admin"})

    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "open" and first.json()["organization"] == "acme"
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert other_role.status_code == 409
    assert other_role.json()["error"]["code"] == "already_invited"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Owner@Example.org"]
    event = PlatformAuditEvent.objects.get(code="organization.invitation.created")
    assert event.organization_id == org_a.pk and event.actor_label.startswith("platform-token:")
    from django_tenants.utils import schema_context

    with schema_context(org_a.schema_name):
        assert AuditEvent.objects.filter(code="organization.member.invited").count() == 1


def test_read_list_and_revoke(api, org_a):
    invitation_id = api.post(INVITES, {"email": "a@example.org", "role": "editor"}).json()["id"]

    assert api.get(f"{INVITES}{invitation_id}/").json()["role"] == "editor"
    assert [i["id"] for i in api.get(INVITES).json()["results"]] == [invitation_id]
    assert api.delete(f"{INVITES}{invitation_id}/").status_code == 204
    assert api.get(f"{INVITES}{invitation_id}/").json()["status"] == "revoked"
    assert api.delete(f"{INVITES}{invitation_id}/").status_code == 204  # idempotent
    assert PlatformAuditEvent.objects.filter(code="organization.invitation.revoked").count() == 1


def test_an_accepted_invitation_cannot_be_revoked(api, org_a):
    invitation_id = api.post(INVITES, {"email": "b@example.org", "role": "viewer"}).json()["id"]
    Invitation.objects.filter(pk=invitation_id).update(accepted_at=timezone.now())

    response = api.delete(f"{INVITES}{invitation_id}/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invitation_accepted"
    assert api.get(f"{INVITES}{invitation_id}/").json()["status"] == "accepted"


def test_invitations_need_an_active_organization(api, new_organization):
    organization = new_organization(provision=False)

    response = api.post(
        f"/api/v1/organizations/{organization.slug}/invitations/",
        {"email": "c@example.org", "role": "owner"},
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "organization_not_active"


def test_invitations_of_one_organization_are_not_reachable_through_another(api, org_a, org_b):
    invitation_id = api.post(INVITES, {"email": "d@example.org", "role": "owner"}).json()["id"]

    path = f"/api/v1/organizations/globex/invitations/{invitation_id}/"
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404
    assert api.get("/api/v1/organizations/globex/invitations/").json()["results"] == []


def test_invalid_email_and_role(api, org_a):
    response = api.post(INVITES, {"email": "not-an-email", "role": "boss"})

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"email", "role"}
