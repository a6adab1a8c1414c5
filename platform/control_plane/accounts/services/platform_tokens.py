"""Platform tokens: the credentials of operators and Terraform on the control-plane API.

Format: ``pmdp_<prefix>_<secret>`` (``pmdp`` = Publish MDM platform, unlike the
organizations' ``pmdm_`` tokens, so a leaked token is recognisable and secret
scanners can tell the two apart). Only the SHA-256 of the whole token is
stored; it is shown once, by ``platform_token_create``. Scopes limit what a
token may do; ``organizations:write`` includes reading.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from control_plane.accounts.models import PlatformToken
from control_plane.errors import InvalidState
from control_plane.organizations.services.platform_audit import platform_audit_record

TOKEN_PREFIX = "pmdp"  # noqa: S105 - a public marker, not a secret

SCOPE_ORGANIZATIONS_READ = "organizations:read"
SCOPE_ORGANIZATIONS_WRITE = "organizations:write"
SCOPES: dict[str, str] = {
    SCOPE_ORGANIZATIONS_READ: "read organizations, their domains, invitations and plans",
    SCOPE_ORGANIZATIONS_WRITE: "create, change, suspend, resume and archive organizations "
    "and invite their members (includes organizations:read)",
}
# A scope grants these too.
_IMPLIED: dict[str, set[str]] = {SCOPE_ORGANIZATIONS_WRITE: {SCOPE_ORGANIZATIONS_READ}}
# Writing ``last_used_at`` on every call would turn reads into writes.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedPlatformToken:
    token: PlatformToken
    secret: str  # the full token, shown once


@dataclass(frozen=True)
class PlatformActor:
    """Who acts when a platform token calls the API.

    Not a user account (``is_authenticated`` is False, so services never try
    to store it as a user); audit events carry ``audit_label`` instead.
    """

    token: PlatformToken
    is_authenticated = False
    is_platform = True

    @property
    def audit_label(self) -> str:
        return f"platform-token:{self.token.name} ({TOKEN_PREFIX}_{self.token.prefix})"

    @property
    def pk(self) -> None:
        return None

    def has_scope(self, scope: str) -> bool:
        return scope in granted_scopes(self.token.scopes)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def granted_scopes(scopes: list[str]) -> set[str]:
    granted = set(scopes)
    for scope in scopes:
        granted |= _IMPLIED.get(scope, set())
    return granted


def platform_token_create(*, name: str, scopes: list[str]) -> IssuedPlatformToken:
    """Issue a token; the returned secret is the only time it is ever visible."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name that says what uses it."})
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValidationError(
            {"scopes": f"Choose one or more of {', '.join(SCOPES)} (unknown: {unknown})."}
        )
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = PlatformToken.objects.create(
            name=name, prefix=prefix, token_hash=hash_token(raw), scopes=sorted(set(scopes))
        )
        platform_audit_record(
            "platform.token.created",
            organization=None,
            data={"name": name, "prefix": prefix, "scopes": token.scopes},
        )
    return IssuedPlatformToken(token, raw)


def platform_token_revoke(token: PlatformToken) -> PlatformToken:
    if token.revoked_at:
        raise InvalidState("This token is already revoked.")
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        platform_audit_record(
            "platform.token.revoked",
            organization=None,
            data={"name": token.name, "prefix": token.prefix},
        )
    return token


def platform_token_authenticate(raw: str) -> PlatformActor | None:
    """The actor for ``raw``, or None when it is malformed, unknown or revoked."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = PlatformToken.objects.filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    if token.revoked_at is not None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        PlatformToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return PlatformActor(token)
