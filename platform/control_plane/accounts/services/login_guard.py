"""Slowing down password guessing: failed logins per account (back-off) and per address.

Per account: the first ``LOGIN_LOCKOUT_AFTER`` failures in a row are free;
each further one locks the account's password login for twice as long as the
last (``LOGIN_LOCKOUT_SECONDS``, doubling, at most ``LOGIN_LOCKOUT_MAX_SECONDS``).
A lock always ends (no permanent lock-out that an attacker could use to keep
someone out), and a successful login clears the count. The same rule applies
to addresses that have no account, so a lockout does not tell whether an
account exists. Per client address: ``RATE_LIMIT_LOGIN_ADDRESS`` failed
attempts (GCRA), which bounds guessing across many accounts from one place.
The password is not even checked while either limit holds.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import structlog
from django.conf import settings

from control_plane.ratelimits import backoff_failure, backoff_locked, backoff_reset, gcra_take

log = structlog.get_logger(__name__)
DAY = 86400


@dataclass(frozen=True)
class LoginBlocked:
    message: str
    retry_after: int


def _account_key(email: str) -> str:
    digest = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()
    return f"login:account:{digest}"


def _address_key(address: str) -> str:
    return f"login:address:{address}"


def wait_text(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, math.ceil(seconds))} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def login_blocked(email: str, address: str) -> LoginBlocked | None:
    """Whether a password login for ``email`` from ``address`` may be tried now."""
    locked = backoff_locked(_account_key(email))
    if locked is not None:
        return LoginBlocked(
            f"Too many failed logins for this account. Try again in {wait_text(locked)}.",
            math.ceil(locked),
        )
    wait = gcra_take(_address_key(address), settings.RATE_LIMIT_LOGIN_ADDRESS, consume=False)
    if wait is not None:
        return LoginBlocked(
            f"Too many failed logins from your address. Try again in {wait_text(wait)}.",
            math.ceil(wait),
        )
    return None


def login_failed(email: str, address: str) -> None:
    lock = backoff_failure(
        _account_key(email),
        free=settings.LOGIN_LOCKOUT_AFTER,
        base=settings.LOGIN_LOCKOUT_SECONDS,
        maximum=settings.LOGIN_LOCKOUT_MAX_SECONDS,
        forget=DAY,
    )
    gcra_take(_address_key(address), settings.RATE_LIMIT_LOGIN_ADDRESS)
    log.info("auth.login_failed", locked_seconds=round(lock))


def login_succeeded(email: str) -> None:
    backoff_reset(_account_key(email))
