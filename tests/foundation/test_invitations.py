"""Invitations: tokens, their failure modes, accepting, resending and revoking."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from control_plane.accounts.models import Invitation, Membership, User
from control_plane.accounts.roles import Role
from control_plane.accounts.services.invitations import (
    InvitationInvalid,
    invitation_accept,
    invitation_create,
    invitation_lookup,
    invitation_resend,
    invitation_revoke,
)
from control_plane.errors import Conflict
from control_plane.organizations.services.lifecycle import organization_suspend
from tenants.audit.models import AuditEvent
from tests.factories import PASSWORD

INVITEE = "invitee@example.org"


@pytest.fixture
def admin(org_a, member_of):
    return member_of(org_a, Role.ADMIN)


@pytest.fixture
def issued(org_a, admin):
    return invitation_create(organization=org_a, email=INVITEE, role=Role.EDITOR, actor=admin)


def _codes(organization) -> list[str]:
    """Member and invitation events in order (provisioning wrote others before)."""
    with schema_context(organization.schema_name):
        events = AuditEvent.objects.filter(code__regex=r"^organization\.(member|invitation)\.")
        return list(events.order_by("id").values_list("code", flat=True))


def _token_in(message) -> str:
    return re.search(r"/invitations/([^/\s]+)/", message.body).group(1)


def test_only_the_hash_of_the_token_is_stored(issued):
    invitation = Invitation.objects.get(pk=issued.invitation.pk)

    assert invitation.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in invitation.token_hash
    assert issued.accept_url == f"http://publishmdm.localhost:8000/invitations/{issued.token}/"


def test_the_email_carries_the_link(org_a, admin, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = invitation_create(organization=org_a, email=INVITEE, role="viewer", actor=admin)

    (message,) = mailoutbox
    assert message.to == [INVITEE]
    assert _token_in(message) == issued.token
    assert "Viewer" in message.body


def test_no_email_leaves_when_the_invitation_is_rolled_back(
    org_a, admin, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            invitation_create(organization=org_a, email=INVITEE, role="viewer", actor=admin)
            raise RuntimeError("the surrounding work failed")

    assert mailoutbox == []
    assert not Invitation.objects.exists()


def test_a_second_open_invitation_for_the_same_address_conflicts(org_a, admin, issued):
    with pytest.raises(Conflict) as excinfo:
        invitation_create(organization=org_a, email=INVITEE.upper(), role="viewer", actor=admin)
    assert excinfo.value.code == "already_invited"


def test_unknown_token_is_refused(db):
    with pytest.raises(InvitationInvalid) as excinfo:
        invitation_lookup("no-such-token")
    assert excinfo.value.code == "invitation_unknown"
    assert "not valid" in excinfo.value.message


def test_revoked_token_is_refused(issued, admin):
    invitation_revoke(issued.invitation, actor=admin)

    with pytest.raises(InvitationInvalid) as excinfo:
        invitation_lookup(issued.token)
    assert excinfo.value.code == "invitation_revoked"
    assert "withdrawn" in excinfo.value.message


def test_used_token_is_refused(issued, make_user):
    invitation_accept(issued.token, user=make_user(email=INVITEE))

    with pytest.raises(InvitationInvalid) as excinfo:
        invitation_lookup(issued.token)
    assert excinfo.value.code == "invitation_used"
    assert "already been used" in excinfo.value.message


def test_expired_token_is_refused(issued, make_user):
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    with pytest.raises(InvitationInvalid) as excinfo:
        invitation_accept(issued.token, user=make_user(email=INVITEE))
    assert excinfo.value.code == "invitation_expired"
    assert "expired" in excinfo.value.message
    assert not Membership.objects.filter(user__email=INVITEE).exists()


def test_invitation_to_a_suspended_organization_is_refused(org_a, issued):
    organization_suspend(org_a, actor=None)

    with pytest.raises(InvitationInvalid) as excinfo:
        invitation_lookup(issued.token)
    assert excinfo.value.code == "organization_unavailable"


def test_accepting_with_another_account_is_refused(issued, make_user):
    with pytest.raises(InvitationInvalid) as excinfo:
        invitation_accept(issued.token, user=make_user(email="someone-else@example.org"))
    assert excinfo.value.code == "invitation_wrong_account"
    assert Invitation.objects.get(pk=issued.invitation.pk).accepted_at is None


def test_accepting_makes_a_member_with_the_invited_role(org_a, issued, make_user):
    user = make_user(email="INVITEE@example.org")  # the address matches whatever its case

    membership = invitation_accept(issued.token, user=user)

    assert (membership.organization, membership.role) == (org_a, Role.EDITOR)
    invitation = Invitation.objects.get(pk=issued.invitation.pk)
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    assert _codes(org_a)[-1] == "organization.member.joined"


def test_resending_replaces_the_token(
    org_a, admin, issued, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        again = invitation_resend(issued.invitation, actor=admin)

    assert again.token != issued.token
    with pytest.raises(InvitationInvalid) as excinfo:
        invitation_lookup(issued.token)
    assert excinfo.value.code == "invitation_unknown"
    assert invitation_lookup(again.token).pk == issued.invitation.pk
    (message,) = mailoutbox
    assert _token_in(message) == again.token
    assert Invitation.objects.get(pk=issued.invitation.pk).send_count == 2


def test_every_invitation_action_is_audited(org_a, admin, make_user):
    first = invitation_create(organization=org_a, email=INVITEE, role="viewer", actor=admin)
    invitation_resend(first.invitation, actor=admin)
    invitation_revoke(first.invitation, actor=admin)
    second = invitation_create(organization=org_a, email=INVITEE, role="viewer", actor=admin)
    invitation_accept(second.token, user=make_user(email=INVITEE))

    assert _codes(org_a) == [
        "organization.member.invited",
        "organization.invitation.resent",
        "organization.invitation.revoked",
        "organization.member.invited",
        "organization.member.joined",
    ]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_resend_and_revoke_need_an_admin(role, org_a, issued, member_of):
    from control_plane.errors import NotAllowed

    actor = member_of(org_a, role)
    with pytest.raises(NotAllowed):
        invitation_resend(issued.invitation, actor=actor)
    with pytest.raises(NotAllowed):
        invitation_revoke(issued.invitation, actor=actor)


# --- the /invitations/<token>/ page on the control plane ------------------------------


def _expire(issued):
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )


def _revoke(issued):
    Invitation.objects.filter(pk=issued.invitation.pk).update(revoked_at=timezone.now())


def _use(issued):
    Invitation.objects.filter(pk=issued.invitation.pk).update(accepted_at=timezone.now())


def _replace(issued):
    Invitation.objects.filter(pk=issued.invitation.pk).update(token_hash="0" * 64)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_expire, "This invitation expired on"),
        (_revoke, "This invitation was withdrawn."),
        (_use, "This invitation has already been used."),
        (_replace, "This invitation link is not valid."),
    ],
)
def test_invitation_page_explains_why_a_link_does_not_work(spoil, message, issued, client_on):
    spoil(issued)

    for response in (
        client_on(None).get(f"/invitations/{issued.token}/"),
        client_on(None).post(f"/invitations/{issued.token}/", {"password": PASSWORD}),
    ):
        assert response.status_code == 410
        assert message in response.content.decode()
    assert not User.objects.filter(email=INVITEE).exists()


def test_accepting_on_the_page_when_logged_in(org_a, issued, make_user, client_on):
    user = make_user(email=INVITEE)
    client = client_on(None, user)

    page = client.get(f"/invitations/{issued.token}/")
    assert page.status_code == 200
    assert "Accept invitation" in page.content.decode()
    response = client.post(f"/invitations/{issued.token}/")

    assert response.status_code == 302
    assert response["Location"] == "http://acme.publishmdm.localhost:8000/"
    assert Membership.objects.get(user=user, organization=org_a).role == Role.EDITOR
    assert client.get("/", HTTP_HOST=org_a.primary_domain).status_code == 200


def test_accepting_on_the_page_with_the_wrong_account_is_refused(issued, make_user, client_on):
    client = client_on(None, make_user(email="other@example.org"))

    response = client.post(f"/invitations/{issued.token}/")

    assert response.status_code == 409
    assert f"This invitation was sent to {INVITEE}" in response.content.decode()
    assert not Membership.objects.filter(user__email="other@example.org").exists()


def test_accepting_after_creating_an_account_on_the_page(org_a, issued, client_on):
    client = client_on(None)
    form = client.get(f"/invitations/{issued.token}/")
    assert "Create your account" in form.content.decode()

    response = client.post(
        f"/invitations/{issued.token}/", {"full_name": "Ada Invitee", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "http://acme.publishmdm.localhost:8000/"
    user = User.objects.get(email=INVITEE)
    assert user.full_name == "Ada Invitee" and user.check_password(PASSWORD)
    assert Membership.objects.get(user=user, organization=org_a).role == Role.EDITOR
    # Logged in by the same request: the organization opens without a login.
    assert client.get("/", HTTP_HOST=org_a.primary_domain).status_code == 200


def test_a_weak_password_on_the_invitation_page_creates_nothing(issued, client_on):
    response = client_on(None).post(f"/invitations/{issued.token}/", {"password": "password"})

    assert response.status_code == 200
    assert 'id="id_password-error"' in response.content.decode()
    assert not User.objects.filter(email=INVITEE).exists()
    assert Invitation.objects.get(pk=issued.invitation.pk).accepted_at is None


def test_an_invitee_with_an_account_is_asked_to_log_in(issued, make_user, client_on):
    make_user(email=INVITEE)

    page = client_on(None).get(f"/invitations/{issued.token}/")
    posted = client_on(None).post(f"/invitations/{issued.token}/", {"password": "whatever-1"})

    assert f"Log in as {INVITEE} to accept" in page.content.decode()
    assert not Membership.objects.filter(user__email=INVITEE).exists()
    assert posted.status_code == 200
