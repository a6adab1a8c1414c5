"""API tokens of an organization: create (shown once), list, revoke, authenticate.

Format: ``pmdm_<prefix>_<secret>``. The prefix finds the row, the SHA-256 of
the whole token must match in constant time, and the token works only on its
own organization's host. Revocation and expiry take effect on the next call.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from control_plane.accounts.models import ApiToken, Membership
from control_plane.accounts.roles import Role, role_at_least
from control_plane.accounts.services.permissions import require_role
from control_plane.errors import InvalidState, NotAllowed
from tenants.audit.services import audit_record

TOKEN_PREFIX = "pmdm"  # noqa: S105 - a public marker, not a secret
# Writing ``last_used_at`` on every call would turn reads into writes; once a
# minute is precise enough for "last used".
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the full token, shown once


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(
    *, organization, actor: Any, name: str, role: str, expires_at: datetime | None = None
) -> IssuedToken:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name that says what uses it."})
    if role not in Role.values:
        raise ValidationError({"role": "Choose owner, admin, editor or viewer."})
    creator_role = require_role(actor, organization, Role.ADMIN, "create API tokens")
    if not role_at_least(creator_role, role):
        raise NotAllowed("A token's role cannot be higher than your own.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            organization=organization,
            name=name,
            role=role,
            prefix=prefix,
            token_hash=hash_token(raw),
            created_by=actor,
            expires_at=expires_at,
        )
        audit_record(
            "organization.api_token.created",
            actor=actor,
            target=token,
            data={"role": role, "prefix": prefix},
            schema_name=organization.schema_name,
        )
    return IssuedToken(token, raw)


def api_token_revoke(token: ApiToken, *, actor: Any) -> ApiToken:
    revoker = require_role(actor, token.organization, Role.ADMIN, "revoke API tokens")
    if revoker != Role.OWNER and _belongs_to_an_owner(token):
        # Otherwise an admin could cut off the owners' automation.
        raise NotAllowed("Only an owner can revoke an owner's tokens.")
    if token.revoked_at:
        raise InvalidState("This token is already revoked.")
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            "organization.api_token.revoked",
            actor=actor,
            target=token,
            data={"prefix": token.prefix},
            schema_name=token.organization.schema_name,
        )
    return token


def _belongs_to_an_owner(token: ApiToken) -> bool:
    if token.role == Role.OWNER:
        return True
    return Membership.objects.filter(
        user_id=token.created_by_id, organization_id=token.organization_id, role=Role.OWNER
    ).exists()


@dataclass(frozen=True)
class TokenIdentity:
    """Who a token speaks for: its creator's account, limited to the token's role."""

    token: ApiToken
    user: Any
    role: str


def api_token_authenticate(raw: str, organization) -> TokenIdentity | None:
    """The identity of ``raw`` on ``organization``'s host, or None (unknown, wrong org,
    revoked, expired, or its creator no longer a member)."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("created_by").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    if token.organization_id != organization.pk or not token.is_usable():
        return None
    creator_role = (
        Membership.objects.filter(user_id=token.created_by_id, organization=organization)
        .values_list("role", flat=True)
        .first()
    )
    if creator_role is None or token.created_by is None or not token.created_by.is_active:
        return None
    # Never more than the creator holds today (a demoted creator demotes their tokens).
    role = token.role if role_at_least(creator_role, token.role) else creator_role
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    identity = TokenIdentity(token=token, user=token.created_by, role=role)
    # The user object acts for this request only: services see that it is acting through
    # a token (whose role caps theirs) and the audit trail records which token.
    token.created_by.api_token_identity = identity
    return identity


def token_of(actor: Any) -> TokenIdentity | None:
    """The API token an actor is acting through, or None (a session, or the system)."""
    identity = getattr(actor, "api_token_identity", None)
    return identity if isinstance(identity, TokenIdentity) else None
