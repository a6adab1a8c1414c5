"""Web pages' rate limits (429 with ``Retry-After``), keyed by the one client address."""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from control_plane.accounts.services.login_guard import wait_text
from control_plane.client_address import client_address
from control_plane.ratelimits import gcra_take


def address_of(request: HttpRequest) -> str:
    return getattr(request, "client_address", None) or client_address(request)


def over_limit(key: str, rate: str | None) -> int | None:
    """Spend one unit of ``key``; the whole seconds to wait if over the limit, else None."""
    wait = gcra_take(key, rate)
    return None if wait is None else max(1, math.ceil(wait))


def limited(request: HttpRequest, wait: int, what: str = "requests") -> HttpResponse:
    response = render(
        request,
        "frontend/rate_limited.html",
        {"message": f"Too many {what} from your address. Try again in {wait_text(wait)}."},
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response
