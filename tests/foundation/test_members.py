"""Roles and membership rules, through the services and the members pages."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from control_plane.accounts.models import Invitation, Membership
from control_plane.accounts.roles import Role
from control_plane.accounts.services.invitations import invitation_create
from control_plane.accounts.services.memberships import (
    membership_change_role,
    membership_leave,
    membership_remove,
)
from control_plane.errors import InvalidState, NotAllowed
from tenants.audit.models import AuditEvent


def _membership(user, organization) -> Membership:
    return Membership.objects.get(user=user, organization=organization)


def _audit(organization, code):
    with schema_context(organization.schema_name):
        return list(AuditEvent.objects.filter(code=code))


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_viewers_and_editors_cannot_invite(role, org_a, member_of):
    actor = member_of(org_a, role)

    with pytest.raises(NotAllowed):
        invitation_create(
            organization=org_a, email="new@example.org", role=Role.VIEWER, actor=actor
        )
    assert not Invitation.objects.filter(organization=org_a).exists()


def test_admin_invites_up_to_admin_but_not_owner(org_a, member_of):
    admin = member_of(org_a, Role.ADMIN)

    invitation_create(
        organization=org_a, email="second-admin@example.org", role="admin", actor=admin
    )
    with pytest.raises(NotAllowed, match="Only an owner"):
        invitation_create(organization=org_a, email="boss@example.org", role="owner", actor=admin)
    assert not Invitation.objects.filter(email="boss@example.org").exists()


def test_owner_may_invite_an_owner(org_a, member_of):
    owner = member_of(org_a, Role.OWNER)

    issued = invitation_create(
        organization=org_a, email="co@example.org", role="owner", actor=owner
    )

    assert issued.invitation.role == Role.OWNER


def test_an_owner_of_another_organization_cannot_invite_here(org_a, org_b, member_of):
    outsider = member_of(org_b, Role.OWNER)

    with pytest.raises(NotAllowed):
        invitation_create(organization=org_a, email="x@example.org", role="viewer", actor=outsider)


def test_only_an_owner_can_remove_an_owner(org_a, member_of):
    owner, other_owner = member_of(org_a, Role.OWNER), member_of(org_a, Role.OWNER)
    admin = member_of(org_a, Role.ADMIN)

    with pytest.raises(NotAllowed, match="Only an owner can remove an owner"):
        membership_remove(_membership(other_owner, org_a), actor=admin)
    membership_remove(_membership(other_owner, org_a), actor=owner)

    assert not Membership.objects.filter(user=other_owner, organization=org_a).exists()
    (event,) = _audit(org_a, "organization.member.removed")
    assert event.actor_id == owner.pk
    assert event.data == {"email": other_owner.email}


def test_admin_cannot_make_or_unmake_owners(org_a, member_of):
    member_of(org_a, Role.OWNER)
    owner = member_of(org_a, Role.OWNER)
    admin = member_of(org_a, Role.ADMIN)
    editor = member_of(org_a, Role.EDITOR)

    with pytest.raises(NotAllowed):
        membership_change_role(_membership(editor, org_a), Role.OWNER, actor=admin)
    with pytest.raises(NotAllowed):
        membership_change_role(_membership(owner, org_a), Role.EDITOR, actor=admin)
    assert _membership(editor, org_a).role == Role.EDITOR
    assert _membership(owner, org_a).role == Role.OWNER


def test_editors_cannot_change_roles(org_a, member_of):
    editor, viewer = member_of(org_a, Role.EDITOR), member_of(org_a, Role.VIEWER)

    with pytest.raises(NotAllowed):
        membership_change_role(_membership(viewer, org_a), Role.EDITOR, actor=editor)


def test_role_change_is_recorded(org_a, member_of):
    admin, viewer = member_of(org_a, Role.ADMIN), member_of(org_a, Role.VIEWER)

    membership_change_role(_membership(viewer, org_a), Role.EDITOR, actor=admin)

    assert _membership(viewer, org_a).role == Role.EDITOR
    (event,) = _audit(org_a, "organization.member.role_changed")
    assert event.data == {"from": "viewer", "to": "editor"}
    assert event.actor_label == admin.email


def test_the_last_owner_cannot_leave_or_be_demoted(org_a, member_of):
    owner = member_of(org_a, Role.OWNER)

    with pytest.raises(InvalidState, match="last owner"):
        membership_leave(_membership(owner, org_a))
    with pytest.raises(InvalidState, match="last owner"):
        membership_change_role(_membership(owner, org_a), Role.ADMIN, actor=owner)
    assert _membership(owner, org_a).role == Role.OWNER


def test_an_owner_may_step_down_when_another_owner_remains(org_a, member_of):
    owner, other = member_of(org_a, Role.OWNER), member_of(org_a, Role.OWNER)

    membership_change_role(_membership(owner, org_a), Role.ADMIN, actor=owner)
    membership_leave(_membership(owner, org_a))

    assert list(Membership.objects.filter(organization=org_a).values_list("user", flat=True)) == [
        other.pk
    ]
    (event,) = _audit(org_a, "organization.member.left")
    assert event.actor_id == owner.pk


# --- the members pages --------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_members_page_is_403_below_admin(role, org_a, member_of, client_on):
    client = client_on(org_a, member_of(org_a, role))

    assert client.get("/members/").status_code == 403
    assert client.post("/members/", {"email": "x@example.org", "role": "viewer"}).status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_member_actions_are_403_below_admin(role, org_a, member_of, client_on, admin_invitation):
    other = member_of(org_a, Role.VIEWER)
    pk = _membership(other, org_a).pk
    client = client_on(org_a, member_of(org_a, role))
    yes = {"confirm": "yes"}

    assert client.post(f"/members/{pk}/role/", {"role": "admin"}).status_code == 403
    assert client.post(f"/members/{pk}/remove/", yes).status_code == 403
    assert client.post(f"/invitations/{admin_invitation.pk}/revoke/", yes).status_code == 403
    assert client.post(f"/invitations/{admin_invitation.pk}/resend/").status_code == 403
    assert _membership(other, org_a).role == Role.VIEWER
    assert Invitation.objects.get(pk=admin_invitation.pk).is_open


@pytest.fixture
def admin_invitation(org_a, member_of):
    admin = member_of(org_a, Role.ADMIN)
    return invitation_create(
        organization=org_a, email="pending@example.org", role="viewer", actor=admin
    ).invitation


def test_revoking_and_resending_through_the_page(
    org_a, member_of, client_on, admin_invitation, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_on(org_a, member_of(org_a, Role.ADMIN))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/invitations/{admin_invitation.pk}/resend/")
    client.post(f"/invitations/{admin_invitation.pk}/revoke/", {"confirm": "yes"})

    assert [m.to for m in mailoutbox] == [["pending@example.org"]]
    assert Invitation.objects.get(pk=admin_invitation.pk).revoked_at is not None
    assert "No open invitations." in client.get("/members/").content.decode()


def test_invitations_of_another_organization_cannot_be_reached_by_id(
    org_b, member_of, client_on, admin_invitation
):
    client = client_on(org_b, member_of(org_b, Role.OWNER))

    assert client.post(f"/invitations/{admin_invitation.pk}/revoke/").status_code == 404
    assert client.post(f"/invitations/{admin_invitation.pk}/resend/").status_code == 404
    assert Invitation.objects.get(pk=admin_invitation.pk).is_open


def test_inviting_from_the_members_page_sends_an_email_and_records_it(
    org_a, member_of, client_on, mailoutbox, django_capture_on_commit_callbacks
):
    admin = member_of(org_a, Role.ADMIN)
    client = client_on(org_a, admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/members/", {"email": "Newbie@Example.org", "role": "editor"})

    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=org_a)
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "Newbie@Example.org",
        "editor",
        admin,
    )
    (message,) = mailoutbox
    assert message.to == ["Newbie@Example.org"]
    assert org_a.name in message.subject
    assert "http://publishmdm.localhost:8000/invitations/" in message.body
    (event,) = _audit(org_a, "organization.member.invited")
    assert event.actor_id == admin.pk
    assert event.data == {"email": "Newbie@Example.org", "role": "editor"}
    assert "Newbie@Example.org" in client.get("/members/").content.decode()


def test_members_page_shows_service_errors_on_the_form(org_a, member_of, client_on):
    admin = member_of(org_a, Role.ADMIN)
    existing = member_of(org_a, Role.VIEWER)
    client = client_on(org_a, admin)

    owner_attempt = client.post("/members/", {"email": "boss@example.org", "role": "owner"})
    member_attempt = client.post("/members/", {"email": existing.email.upper(), "role": "viewer"})

    assert owner_attempt.status_code == 200
    assert "Only an owner can invite another owner." in owner_attempt.content.decode()
    assert "is already a member" in member_attempt.content.decode()
    assert not Invitation.objects.exists()


def test_admin_removing_an_owner_through_the_page_is_refused(org_a, member_of, client_on):
    owner = member_of(org_a, Role.OWNER)
    admin = member_of(org_a, Role.ADMIN)
    client = client_on(org_a, admin)

    response = client.post(
        f"/members/{_membership(owner, org_a).pk}/remove/", {"confirm": "yes"}, follow=True
    )

    assert "Only an owner can remove an owner." in response.content.decode()
    assert Membership.objects.filter(user=owner, organization=org_a).exists()


def test_changing_a_role_through_the_page(org_a, member_of, client_on):
    admin, viewer = member_of(org_a, Role.ADMIN), member_of(org_a, Role.VIEWER)

    client_on(org_a, admin).post(
        f"/members/{_membership(viewer, org_a).pk}/role/", {"role": "editor"}
    )

    assert _membership(viewer, org_a).role == Role.EDITOR


def test_members_of_another_organization_cannot_be_reached_by_id(
    org_a, org_b, member_of, client_on
):
    victim = member_of(org_a, Role.VIEWER)
    pk = _membership(victim, org_a).pk
    client = client_on(org_b, member_of(org_b, Role.OWNER))

    assert client.post(f"/members/{pk}/remove/").status_code == 404
    assert client.post(f"/members/{pk}/role/", {"role": "admin"}).status_code == 404
    assert _membership(victim, org_a).role == Role.VIEWER


def test_leaving_through_the_page(org_a, member_of, client_on):
    editor = member_of(org_a, Role.EDITOR)

    response = client_on(org_a, editor).post("/members/leave/", {"confirm": "yes"})

    assert response.status_code == 302
    assert response["Location"] == "http://publishmdm.localhost:8000/organizations/"
    assert not Membership.objects.filter(user=editor).exists()


def test_the_last_owner_leaving_through_the_page_is_refused(org_a, member_of, client_on):
    owner = member_of(org_a, Role.OWNER)

    response = client_on(org_a, owner).post("/members/leave/", {"confirm": "yes"}, follow=True)

    assert "The last owner cannot leave" in response.content.decode()
    assert Membership.objects.filter(user=owner, organization=org_a).exists()
