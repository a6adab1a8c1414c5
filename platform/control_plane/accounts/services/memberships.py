"""Changing members' roles, removing members, leaving an organization."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from control_plane.accounts.models import Membership
from control_plane.accounts.roles import Role, can_grant
from control_plane.accounts.services.api_tokens import token_of
from control_plane.accounts.services.permissions import require_role
from control_plane.errors import InvalidState, NotAllowed
from tenants.audit.services import audit_record

LAST_OWNER_REMOVAL = "The last owner cannot leave or be removed; make someone else owner first."
OWNER_REMOVES_OWNER = "Only an owner can remove an owner."


def removal_refusal(
    membership: Membership, *, actor_id: int, actor_role: str, owner_count: int
) -> str | None:
    """Why ``membership_remove`` would refuse this (for pages to say so up front), or None."""
    if membership.role == Role.OWNER and owner_count == 1:
        return LAST_OWNER_REMOVAL
    if (
        membership.user_id != actor_id
        and membership.role == Role.OWNER
        and actor_role != Role.OWNER
    ):
        return OWNER_REMOVES_OWNER
    return None


def _owner_count(organization) -> int:
    return Membership.objects.filter(organization=organization, role=Role.OWNER).count()


def _lock(membership: Membership) -> Membership:
    # Lock every owner row of the organization so two simultaneous demotions
    # cannot both see "another owner remains".
    list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    return (
        Membership.objects.select_for_update()
        .select_related("user", "organization")
        .get(pk=membership.pk)
    )


def membership_change_role(membership: Membership, role: str, *, actor: Any) -> Membership:
    if role not in Role.values:
        raise InvalidState("Choose one of owner, admin, editor or viewer.")
    with transaction.atomic():
        membership = _lock(membership)
        organization = membership.organization
        granter = require_role(actor, organization, Role.ADMIN, "change roles")
        if Role.OWNER in (role, membership.role) and granter != Role.OWNER:
            raise NotAllowed("Only an owner can make or unmake an owner.")
        if not can_grant(granter, role):
            raise NotAllowed("Your role does not allow granting that role.")
        if membership.role == Role.OWNER and role != Role.OWNER and _owner_count(organization) == 1:
            raise InvalidState("The last owner cannot be demoted; make someone else owner first.")
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        audit_record(
            "organization.member.role_changed",
            actor=actor,
            target=membership,
            target_label=membership.user.email,
            data={"from": previous, "to": role},
            schema_name=organization.schema_name,
        )
    return membership


def membership_remove(membership: Membership, *, actor: Any) -> None:
    with transaction.atomic():
        membership = _lock(membership)
        organization = membership.organization
        # Leaving is something people do themselves, in their session; a token acting
        # on its creator's membership needs what removing anyone needs.
        is_self = getattr(actor, "pk", None) == membership.user_id and token_of(actor) is None
        if not is_self:
            remover = require_role(actor, organization, Role.ADMIN, "remove members")
            if membership.role == Role.OWNER and remover != Role.OWNER:
                raise NotAllowed(OWNER_REMOVES_OWNER)
        if membership.role == Role.OWNER and _owner_count(organization) == 1:
            raise InvalidState(LAST_OWNER_REMOVAL)
        email = membership.user.email
        membership.delete()
        audit_record(
            "organization.member.left" if is_self else "organization.member.removed",
            actor=actor,
            target_label=email,
            data={"email": email},
            schema_name=organization.schema_name,
        )


def membership_leave(membership: Membership) -> None:
    membership_remove(membership, actor=membership.user)


def memberships_of(organization):
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email")
    )
