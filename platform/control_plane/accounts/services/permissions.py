"""Who may act on an organization's members."""

from __future__ import annotations

from typing import Any

from control_plane.accounts.models import Membership
from control_plane.accounts.roles import Role
from control_plane.errors import NotAllowed


def actor_role(actor: Any, organization) -> str | None:
    """The actor's role in ``organization``; ``owner`` for the system (actor None).

    A user acting through an API token holds no more than the token's role, even
    on their own membership: the token's scope caps everything it does.
    """
    from control_plane.accounts.roles import role_at_least
    from control_plane.accounts.services.api_tokens import token_of

    if actor is None:
        return Role.OWNER
    if not getattr(actor, "is_authenticated", False):
        return None
    role = (
        Membership.objects.filter(user=actor, organization=organization)
        .values_list("role", flat=True)
        .first()
    )
    identity = token_of(actor)
    if identity is None or role is None:
        return role
    if identity.token.organization_id != organization.pk:
        return None
    return identity.role if role_at_least(role, identity.role) else role


def require_role(actor: Any, organization, minimum: str, what: str) -> str:
    from control_plane.accounts.roles import role_at_least

    role = actor_role(actor, organization)
    if role is None or not role_at_least(role, minimum):
        raise NotAllowed(f"Your role does not allow you to {what}.")
    return role
