"""Rate limits kept in a shared cache: GCRA budgets and back-off lockouts.

GCRA ("generic cell rate algorithm", a leaky bucket kept as one timestamp per
key): a rate of ``10/hour`` allows a burst of 10 and then one request every
6 minutes; the wait it reports is exact. The counters live in the cache named
by ``API_THROTTLE_CACHE`` (point ``API_CACHE_URL`` at Redis in production so
that limits hold across processes and machines). The API's throttles
(``api.common.throttling``) and the web pages' limits (``frontend``) share
this code and, for signup, one budget per client address.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import BaseCache, caches

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"600/min"`` → ``(600, 60)``; None or ``""`` means no limit."""
    if not rate:
        return None
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


def limits_cache() -> BaseCache:
    return caches[getattr(settings, "API_THROTTLE_CACHE", "default")]


def gcra_take(key: str, rate: str | None, *, consume: bool = True) -> float | None:
    """Spend one unit of ``key``'s budget; None if allowed, else the seconds to wait.

    ``consume=False`` only asks (e.g. before checking a password, whose failure
    alone is what spends the budget).
    """
    parsed = parse_rate(rate)
    if parsed is None:
        return None
    count, period = parsed
    interval = period / count
    cache = limits_cache()
    now = time.time()
    theoretical = max(cache.get(key) or now, now)
    allowed_from = theoretical + interval - period
    if now < allowed_from:
        return allowed_from - now
    if consume:
        cache.set(key, theoretical + interval, timeout=period + 1)
    return None


def backoff_locked(key: str) -> float | None:
    """Seconds until ``key``'s lockout ends, or None if it is not locked."""
    state = limits_cache().get(key)
    if not state:
        return None
    remaining = state.get("until", 0) - time.time()
    return remaining if remaining > 0 else None


def backoff_failure(key: str, *, free: int, base: float, maximum: float, forget: int) -> float:
    """Record one failure; after ``free`` of them each one locks ``key`` for twice as long
    as the last (``base``, ``2 × base``, … up to ``maximum`` seconds). Never permanent: the
    lock always ends, and the count is forgotten ``forget`` seconds after the last failure.
    Returns the lock's length in seconds (0 while failures are still free)."""
    cache = limits_cache()
    state = cache.get(key) or {"failures": 0, "until": 0.0}
    state["failures"] += 1
    excess = state["failures"] - free
    lock = min(base * 2 ** (excess - 1), maximum) if excess > 0 else 0.0
    state["until"] = time.time() + lock
    cache.set(key, state, timeout=forget)
    return lock


def backoff_reset(key: str) -> None:
    limits_cache().delete(key)
