"""Invitations made by the platform (operators, Terraform) rather than by a member.

They go through the same ``invitation_create`` / ``invitation_revoke`` as a
member's (acting as the system, which holds owner rights), so the email, the
token and the organization's own audit trail are the same; the control plane's
audit trail records which platform token asked. Both are idempotent, because
Terraform retries and re-applies: asking again for the same open invitation
returns it, revoking a revoked one does nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from control_plane.accounts.models import Invitation
from control_plane.accounts.services.invitations import (
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from control_plane.errors import Conflict, InvalidState
from control_plane.organizations.models import Organization, OrganizationStatus
from control_plane.organizations.services.platform_audit import platform_audit_record


def _open_invitation(organization: Organization, email: str) -> Invitation | None:
    return Invitation.objects.filter(
        organization=organization,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).first()


def platform_invitation_ensure(
    *, organization: Organization, email: str, role: str, actor: Any
) -> tuple[Invitation, bool]:
    """The open invitation of ``email`` with ``role`` (created when missing); ``(inv, created)``.

    An expired open invitation with the same role is resent (fresh link); one
    with another role is a ``Conflict``: revoke it first.
    """
    if organization.status != OrganizationStatus.ACTIVE:
        raise InvalidState(
            f"{organization.slug} is {organization.status}; invitations can be sent "
            "once it is active.",
            code="organization_not_active",
        )
    email = (email or "").strip()
    existing = _open_invitation(organization, email)
    if existing is not None:
        if existing.role != role:
            raise Conflict(
                f"{email} already has an open invitation as {existing.role}; revoke it first.",
                code="already_invited",
                field="email",
            )
        if existing.is_expired():
            invitation_resend(existing, actor=None)
            _record("organization.invitation.resent", existing, actor)
        return existing, False
    try:
        with transaction.atomic():
            issued = invitation_create(
                organization=organization, email=email, role=role, actor=None
            )
            _record("organization.invitation.created", issued.invitation, actor)
    except Conflict as exc:
        if exc.code != "already_invited":
            raise
        # The same request won a race a moment ago: it is the same invitation.
        existing = _open_invitation(organization, email)
        if existing is None or existing.role != role:
            raise
        return existing, False
    return issued.invitation, True


def platform_invitation_revoke(invitation: Invitation, *, actor: Any) -> Invitation:
    """Withdraw an open invitation; a revoked one is left as it is.

    An accepted invitation cannot be withdrawn (the person is a member now;
    removing members is the organization's own business): ``InvalidState``.
    """
    if invitation.revoked_at:
        return invitation
    if invitation.accepted_at:
        raise InvalidState(
            f"{invitation.email} accepted this invitation and is a member; "
            "it can no longer be revoked.",
            code="invitation_accepted",
        )
    with transaction.atomic():
        invitation_revoke(invitation, actor=None)
        _record("organization.invitation.revoked", invitation, actor)
    return invitation


def _record(code: str, invitation: Invitation, actor: Any) -> None:
    platform_audit_record(
        code,
        organization=invitation.organization,
        actor=actor,
        data={"invitation_id": invitation.pk, "email": invitation.email, "role": invitation.role},
    )
