"""Rate limits per token, per user and per anonymous address (429 with ``Retry-After``).

Each limit is a GCRA ("generic cell rate algorithm", a leaky bucket kept as
one timestamp per key): a rate of ``600/min`` allows a burst of 600 and then
one request every 100 ms. One number per key keeps the check to a cache get
and set, where DRF's own throttles store and rewrite the list of every
recent request's time. ``Retry-After`` is exact: when the next request fits.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``token``,
``user``, ``anon``), read on every request so that tests and operators can
change them; counters live in the cache named by ``API_THROTTLE_CACHE``
(a shared Redis in production makes the limit hold across processes); the
algorithm is ``control_plane.ratelimits``. Anonymous budgets are keyed by
``control_plane.client_address``: a forged ``X-Forwarded-For`` moves nothing.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from api.common.authentication import token_identity
from control_plane.client_address import client_address
from control_plane.ratelimits import gcra_take


class GcraThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        raise NotImplementedError

    def get_ident(self, request: Request) -> str:
        """The client address, from forwarded headers only behind ``TRUSTED_PROXIES``
        (DRF's own reads ``X-Forwarded-For`` from anyone)."""
        return client_address(request)

    def allow_request(self, request: Request, view: Any) -> bool:
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.wait_seconds = gcra_take(key, api_settings.DEFAULT_THROTTLE_RATES.get(self.scope))
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds


class TokenRateThrottle(GcraThrottle):
    """One budget per API token, whichever host or process it calls."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        identity = token_identity(request)
        if identity is not None:
            return f"throttle:token:{identity.token.pk}"
        auth = getattr(request, "auth", None)
        if auth is not None and hasattr(auth, "_meta"):  # other token models (platform tokens)
            return f"throttle:token:{auth._meta.label_lower}:{auth.pk}"
        return None


class UserRateThrottle(GcraThrottle):
    """One budget per signed-in person using the session (tokens have their own)."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if getattr(request, "auth", None) is not None:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return f"throttle:user:{user.pk}"


class AnonRateThrottle(GcraThrottle):
    """Unauthenticated calls per client address (slows down token guessing)."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return f"throttle:anon:{self.get_ident(request)}"
