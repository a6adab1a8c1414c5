"""Scopes of platform tokens: a view names the scope each method kind needs.

No token → 401; a valid token without the scope → 403 ``insufficient_scope``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from control_plane.accounts.services.platform_tokens import (
    SCOPE_ORGANIZATIONS_READ,
    SCOPE_ORGANIZATIONS_WRITE,
    PlatformActor,
)


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"


class PlatformScopePermission(BasePermission):
    """``read_scope`` for GET/HEAD/OPTIONS, ``write_scope`` for everything else."""

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = request.user
        if not isinstance(actor, PlatformActor):
            raise exceptions.NotAuthenticated("Send a platform token: Authorization: Bearer pmdp_…")
        if request.method in SAFE_METHODS:
            scope = getattr(view, "read_scope", SCOPE_ORGANIZATIONS_READ)
        else:
            scope = getattr(view, "write_scope", SCOPE_ORGANIZATIONS_WRITE)
        if scope and not actor.has_scope(scope):
            raise InsufficientScope(
                f"This token lacks the {scope} scope.", code="insufficient_scope"
            )
        return True
