"""How API callers prove who they are on an organization's host.

Scripts send ``Authorization: Bearer pmdm_<prefix>_<secret>``; browsers use
their session, with Django's CSRF check on unsafe methods (DRF's
``SessionAuthentication``). A token is checked against the organization of
the host it is sent to, so organization A's token on B's host is simply an
invalid token (401), and revocation or expiry takes effect on the next call:
nothing about a token is cached between requests.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.authentication import SessionAuthentication as _DrfSessionAuthentication
from rest_framework.request import Request

from control_plane.accounts.services.api_tokens import (
    TOKEN_PREFIX,
    TokenIdentity,
    api_token_authenticate,
)

BEARER = "Bearer"


def bearer_credential(request: Request) -> str | None:
    """The raw credential of an ``Authorization: Bearer ...`` header, if any."""
    header = get_authorization_header(request)
    if not header:
        return None
    try:
        scheme, _, credential = header.decode("latin-1").partition(" ")
    except UnicodeDecodeError:
        return None
    if scheme.lower() != BEARER.lower():
        return None
    return credential.strip()


class ApiTokenAuthentication(BaseAuthentication):
    """Organization API tokens (``pmdm_...``), valid only on their organization's host.

    ``request.user`` becomes the token's creator and ``request.auth`` the
    :class:`TokenIdentity`, whose ``role`` (never above the creator's current
    role) is what permissions check. Bearer credentials of other kinds
    (``pmdp_`` platform tokens) are left to the authenticators that know them.
    """

    def authenticate(self, request: Request) -> tuple[Any, TokenIdentity] | None:
        raw = bearer_credential(request)
        if raw is None or not raw.startswith(f"{TOKEN_PREFIX}_"):
            return None
        organization = getattr(request._request, "tenant", None)
        closed = getattr(request._request, "closed_host", None)
        if organization is None and closed is not None:
            # A suspended or not-ready organization's own tokens still say who is calling
            # (the permission then answers 403/503 to its members); anything else is 401.
            organization = closed.organization
        identity = api_token_authenticate(raw, organization) if organization else None
        if identity is None:
            raise exceptions.AuthenticationFailed(
                "The token is unknown, expired, revoked, or not valid on this host.",
                code="invalid_token",
            )
        return identity.user, identity

    def authenticate_header(self, request: Request) -> str:
        return f'{BEARER} realm="api"'


class SessionAuthentication(_DrfSessionAuthentication):
    """The browser's login session; unsafe methods need the CSRF token (``X-CSRFToken``)."""


def token_identity(request: Request) -> TokenIdentity | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, TokenIdentity) else None
