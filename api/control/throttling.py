"""Rate limits of the control-plane API (GCRA, from ``api.common.throttling``).

Rates are ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["platform_token"]`` (per
token) and ``["signup"]`` (per client address; signup creates accounts and
schemas, so it is kept low).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from api.common.throttling import GcraThrottle


class PlatformTokenThrottle(GcraThrottle):
    scope = "platform_token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "prefix"):
            return f"throttle:platform:{token.pk}"
        # Unauthenticated calls (and failed ones) share the address's budget.
        return f"throttle:platform-anon:{self.get_ident(request)}"


class SignupThrottle(GcraThrottle):
    scope = "signup"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return f"throttle:signup:{self.get_ident(request)}"
