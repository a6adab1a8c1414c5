"""Platform tokens on the control-plane host: ``Authorization: Bearer pmdp_...``."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from api.common.authentication import BEARER, bearer_credential
from control_plane.accounts.services.platform_tokens import (
    TOKEN_PREFIX,
    PlatformActor,
    platform_token_authenticate,
)


class PlatformTokenAuthentication(BaseAuthentication):
    """``request.user`` becomes a :class:`PlatformActor`, ``request.auth`` the token row.

    Nothing is cached between requests: a revoked token fails on its next call.
    """

    def authenticate(self, request: Request) -> tuple[PlatformActor, Any] | None:
        raw = bearer_credential(request)
        if raw is None:
            return None
        actor = platform_token_authenticate(raw) if raw.startswith(f"{TOKEN_PREFIX}_") else None
        if actor is None:
            raise exceptions.AuthenticationFailed(
                "The platform token is unknown, malformed or revoked.", code="invalid_token"
            )
        return actor, actor.token

    def authenticate_header(self, request: Request) -> str:
        return f'{BEARER} realm="control-plane"'


def platform_actor(request: Request) -> PlatformActor:
    """The caller (views behind ``PlatformScopePermission`` always have one)."""
    return request.user
