"""Inviting people to an organization, and accepting, revoking and resending invitations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from control_plane.accounts.models import Invitation, Membership, User
from control_plane.accounts.roles import Role, can_grant
from control_plane.accounts.services.permissions import actor_role, require_role
from control_plane.errors import Conflict, InvalidState, NotAllowed, ServiceError
from control_plane.urls_helpers import base_url
from tenants.audit.services import audit_record

log = structlog.get_logger(__name__)


class InvitationInvalid(ServiceError):
    code = "invitation_invalid"


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once: only its hash is stored

    @property
    def accept_url(self) -> str:
        return base_url(f"/invitations/{self.token}/")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _hash(token)


def _send(issued: IssuedInvitation) -> None:
    invitation = issued.invitation
    organization = invitation.organization
    send_mail(
        subject=f"You are invited to {organization.name} on Publish MDM",
        message=(
            f"You have been invited to join {organization.name} as {invitation.get_role_display()}.\n\n"
            f"Accept the invitation: {issued.accept_url}\n\n"
            f"The link expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


def invitation_create(*, organization, email: str, role: str, actor: Any) -> IssuedInvitation:
    """Invite ``email`` with ``role``; raises NotAllowed/Conflict/ValidationError."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": "Enter a valid email address."}) from exc
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of owner, admin, editor or viewer."})
    granter = require_role(actor, organization, Role.ADMIN, "invite members")
    if not can_grant(granter, role):
        raise NotAllowed("Only an owner can invite another owner.")
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member.", code="already_member", field="email")
    token, token_hash = _new_token()
    now = timezone.now()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                role=role,
                token_hash=token_hash,
                invited_by=actor if getattr(actor, "is_authenticated", False) else None,
                expires_at=now + timedelta(days=settings.INVITATION_TTL_DAYS),
                last_sent_at=now,
                send_count=1,
            )
            audit_record(
                "organization.member.invited",
                actor=actor,
                target=invitation,
                target_label=email,
                data={"email": email, "role": role},
                schema_name=organization.schema_name,
            )
            issued = IssuedInvitation(invitation, token)
            transaction.on_commit(lambda: _send(issued))
    except IntegrityError as exc:
        raise Conflict(
            f"{email} already has an open invitation; resend it instead.",
            code="already_invited",
            field="email",
        ) from exc
    return issued


def invitation_resend(invitation: Invitation, *, actor: Any) -> IssuedInvitation:
    """Send a fresh link (the old one stops working) and extend the expiry."""
    require_role(actor, invitation.organization, Role.ADMIN, "resend invitations")
    if not invitation.is_open:
        raise InvalidState("Only open invitations can be resent.")
    token, token_hash = _new_token()
    now = timezone.now()
    with transaction.atomic():
        invitation.token_hash = token_hash
        invitation.expires_at = now + timedelta(days=settings.INVITATION_TTL_DAYS)
        invitation.last_sent_at = now
        invitation.send_count += 1
        invitation.save(update_fields=["token_hash", "expires_at", "last_sent_at", "send_count"])
        audit_record(
            "organization.invitation.resent",
            actor=actor,
            target=invitation,
            target_label=invitation.email,
            schema_name=invitation.organization.schema_name,
        )
        issued = IssuedInvitation(invitation, token)
        transaction.on_commit(lambda: _send(issued))
    return issued


def invitation_revoke(invitation: Invitation, *, actor: Any) -> Invitation:
    require_role(actor, invitation.organization, Role.ADMIN, "revoke invitations")
    if not invitation.is_open:
        raise InvalidState("This invitation is no longer open.")
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            "organization.invitation.revoked",
            actor=actor,
            target=invitation,
            target_label=invitation.email,
            schema_name=invitation.organization.schema_name,
        )
    return invitation


def invitation_lookup(token: str) -> Invitation:
    """The open invitation for ``token``, or InvitationInvalid saying why not."""
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(token_hash=_hash(token or ""))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid(
            "This invitation link is not valid. It may have been replaced by a newer one.",
            code="invitation_unknown",
        )
    if invitation.revoked_at:
        raise InvitationInvalid(
            "This invitation was withdrawn. Ask the organization for a new one.",
            code="invitation_revoked",
        )
    if invitation.accepted_at:
        raise InvitationInvalid(
            "This invitation has already been used. Log in to reach the organization.",
            code="invitation_used",
        )
    if invitation.is_expired():
        raise InvitationInvalid(
            f"This invitation expired on {invitation.expires_at:%Y-%m-%d}. "
            "Ask the organization to resend it.",
            code="invitation_expired",
        )
    if not invitation.organization.is_usable:
        raise InvitationInvalid(
            "This organization is not available at the moment.", code="organization_unavailable"
        )
    return invitation


def invitation_accept(token: str, *, user: User) -> Membership:
    """Join the organization as the invited role; the account's email must match."""
    with transaction.atomic():
        invitation = invitation_lookup(token)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at:
            raise InvitationInvalid(
                "This invitation has already been used.", code="invitation_used"
            )
        if invitation.email.lower() != user.email.lower():
            raise InvitationInvalid(
                f"This invitation was sent to {invitation.email}. "
                "Log in with that address to accept it.",
                code="invitation_wrong_account",
            )
        membership, created = Membership.objects.get_or_create(
            user=user, organization=invitation.organization, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            "organization.member.joined",
            actor=user,
            target=membership,
            target_label=user.email,
            data={"role": membership.role, "new": created},
            schema_name=invitation.organization.schema_name,
        )
    return membership


def open_invitations(organization) -> list[Invitation]:
    return list(
        Invitation.objects.filter(
            organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
        ).select_related("invited_by")
    )


__all__ = [
    "IssuedInvitation",
    "InvitationInvalid",
    "actor_role",
    "invitation_accept",
    "invitation_create",
    "invitation_lookup",
    "invitation_resend",
    "invitation_revoke",
    "open_invitations",
]
