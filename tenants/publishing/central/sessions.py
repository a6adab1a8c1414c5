"""Central sessions kept for the life of a process and shared by its jobs.

Each login to Central creates a 24-hour admin session; logging in for every job
and never logging out left dozens of live tokens per day. A process (a worker, a
web server) now keeps one session per **(organization schema, server URL,
credentials)** and every client built for that triple uses it:

* The key holds the tenant's schema, so two organizations using the same
  Central, even with the same account, never share a token. The credentials
  enter the key only as an HMAC under a random key made at process start: the
  password is never stored or compared in the clear, and the fingerprint means
  nothing outside this process.
* A session is renewed before it expires (``CENTRAL_SESSION_REFRESH_SECONDS``
  before Central's ``expiresAt``), and once when Central answers 401 (expired
  or revoked); threads that see the same stale token share one login. A
  replaced session is logged out.
* Sessions we no longer need are ended with ``DELETE /v1/sessions/current``
  (the token travels in the header, never in a URL that proxies log): at process
  exit, when a server's credentials or address change, when a server is deleted,
  when a process sees new credentials for a server it holds a session for, and
  after ``CENTRAL_SESSION_IDLE_SECONDS`` without use (checked whenever a client is
  built), so that other processes do not keep sessions for long either.

Tokens live in memory only: never in the database, a file, a log line or a repr.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

log = structlog.get_logger(__name__)

DEFAULT_REFRESH_SECONDS = 600.0
DEFAULT_IDLE_SECONDS = 900.0
_PROCESS_KEY = secrets.token_bytes(32)

# A login: the new token and the session's lifetime in seconds (None if Central did not say).
Login = Callable[[], tuple[str, float | None]]


def credentials_fingerprint(username: str, password: str) -> str:
    """An HMAC of the credentials under a per-process random key (never the password)."""
    message = f"{username}\x00{password}".encode()
    return hmac.new(_PROCESS_KEY, message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class SessionKey:
    """Whose session: one organization, one Central server, one set of credentials."""

    schema: str
    base_url: str
    fingerprint: str


class SessionSlot:
    """One account's session on one Central, shared by threads: token and expiry.

    Logins happen under the slot's lock, so threads that need a token at the same
    time wait for one login instead of each making their own. The expiry is kept
    on our own monotonic clock, from the lifetime Central states (``expiresAt -
    createdAt``), so a skewed clock on either side does not matter. A session is
    renewed ``refresh_seconds`` before it ends, or at half its life if that is
    shorter (a Central configured with short sessions must not cost a login per
    request).
    """

    def __init__(
        self,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None
        self._deadline: float | None = None
        self._renew_at: float | None = None
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self.last_used = clock()

    def token(self, login: Login) -> tuple[str, str | None]:
        """A live token, logging in if there is none or it expires soon.

        Returns ``(token, retired)``: ``retired`` is a replaced token the caller
        should log out (outside this lock), or ``None``.
        """
        with self._lock:
            retired, token = None, self._token
            if token is None or self._expiring():
                retired, token = token, self._store(*login())
            self.last_used = self._clock()
            return token, retired

    def renew(self, stale: str, login: Login) -> str:
        """Replace a token Central refused; if another thread already did, use its token."""
        with self._lock:
            token = self._token
            if token is None or token == stale:
                token = self._store(*login())
            self.last_used = self._clock()
            return token

    def set(self, token: str, lifetime: float | None) -> None:
        with self._lock:
            self._store(token, lifetime)
            self.last_used = self._clock()

    def take(self) -> str | None:
        """Forget the token and hand it over (to be logged out)."""
        with self._lock:
            token, self._token, self._deadline, self._renew_at = self._token, None, None, None
            return token

    @property
    def current(self) -> str | None:
        return self._token

    def _store(self, token: str, lifetime: float | None) -> str:
        now = self._clock()
        self._token = token
        if lifetime is None:
            self._deadline = self._renew_at = None  # Central did not say; a 401 will tell us
        else:
            self._deadline = now + lifetime
            self._renew_at = self._deadline - min(self.refresh_seconds, lifetime / 2)
        return token

    def _expiring(self) -> bool:
        return self._renew_at is not None and self._clock() >= self._renew_at

    def __repr__(self) -> str:
        return f"SessionSlot(active={self._token is not None})"


class SessionRegistry:
    """The process's sessions, by :class:`SessionKey`. Thread-safe; one per process."""

    def __init__(
        self,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        end_session: Callable[[str, str], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._slots: dict[SessionKey, SessionSlot] = {}
        self.refresh_seconds = refresh_seconds
        self.idle_seconds = idle_seconds
        self._end_session = end_session
        self._clock = clock
        self._pid = os.getpid()

    def slot(self, key: SessionKey) -> SessionSlot:
        """The shared slot for ``key``; ends idle slots and this server's older credentials'."""
        ending: list[tuple[SessionKey, SessionSlot]] = []
        with self._lock:
            now = self._clock()
            for other, slot in list(self._slots.items()):
                stale_credentials = (
                    other.schema == key.schema
                    and other.base_url == key.base_url
                    and other.fingerprint != key.fingerprint
                )
                idle = other != key and now - slot.last_used > self.idle_seconds
                if stale_credentials or idle:
                    ending.append((other, self._slots.pop(other)))
            slot = self._slots.get(key)
            if slot is None:
                slot = SessionSlot(refresh_seconds=self.refresh_seconds, clock=self._clock)
                self._slots[key] = slot
        self._end(ending, reason="replaced or idle")
        return slot

    def end_server(self, schema: str, base_url: str, *, keep: str | None = None) -> int:
        """Log out this organization's sessions on ``base_url`` (except fingerprint ``keep``)."""
        with self._lock:
            ending = [
                (key, self._slots.pop(key))
                for key in list(self._slots)
                if key.schema == schema and key.base_url == base_url and key.fingerprint != keep
            ]
        return self._end(ending, reason="server changed")

    def end_all(self) -> int:
        """Log out every session of this process (at exit)."""
        if os.getpid() != self._pid:  # a forked child must not end its parent's sessions
            return 0
        with self._lock:
            ending = list(self._slots.items())
            self._slots.clear()
        return self._end(ending, reason="process exit")

    def forget(self, base_url: str | None = None) -> None:
        """Drop slots without telling Central (tests whose fake server is gone)."""
        with self._lock:
            for key in list(self._slots):
                if base_url is None or key.base_url == base_url:
                    del self._slots[key]

    def __len__(self) -> int:
        return len(self._slots)

    def _end(self, ending: list[tuple[SessionKey, SessionSlot]], *, reason: str) -> int:
        ended = 0
        for key, slot in ending:
            token = slot.take()
            if token is None:
                continue
            log.info("central.session_end", central=key.base_url, tenant=key.schema, reason=reason)
            end = self._end_session or _default_end_session
            try:
                end(key.base_url, token)
                ended += 1
            except Exception:  # noqa: BLE001 - best effort: the session expires by itself
                log.warning("central.session_end_failed", central=key.base_url, tenant=key.schema)
        return ended


def _default_end_session(base_url: str, token: str) -> None:
    from tenants.publishing.central.transport import end_session

    end_session(base_url, token)


_registry: SessionRegistry | None = None
_registry_lock = threading.Lock()


def session_registry() -> SessionRegistry:
    """This process's registry, created on first use (and logged out at exit)."""
    global _registry
    with _registry_lock:
        if _registry is None or _registry._pid != os.getpid():
            from django.conf import settings

            _registry = SessionRegistry(
                refresh_seconds=getattr(
                    settings, "CENTRAL_SESSION_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS
                ),
                idle_seconds=getattr(
                    settings, "CENTRAL_SESSION_IDLE_SECONDS", DEFAULT_IDLE_SECONDS
                ),
            )
            atexit.register(_registry.end_all)
        return _registry


def forget_sessions(base_url: str | None = None) -> None:
    """Drop this process's cached sessions for ``base_url`` (all if None) without telling
    Central: for a server known to be gone (a test's fake Central that stopped)."""
    if _registry is not None:
        _registry.forget(base_url)


def parse_expiry(value: object) -> datetime | None:
    """Central's ``expiresAt``/``createdAt`` (ISO 8601, ``Z``) as an aware datetime, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
