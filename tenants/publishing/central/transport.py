"""HTTP plumbing of the Central client: session token, retries, concurrency, errors.

Kept apart from the endpoint methods so that the rules that matter for safety
live in one place:

* The session token lives in a :class:`~tenants.publishing.central.sessions.SessionSlot`:
  this object's own, or one the process shares between the clients of one
  organization, server and account (``sessions.py``; never a file). It is
  obtained lazily, renewed before it expires and once when Central answers 401.
* Every exchange has a timeout. Idempotent calls (GET, PUT, DELETE, and POSTs the
  caller marks safe) are retried with exponential backoff and jitter on network
  errors, 429 and 5xx. Other POSTs are never retried blindly, except on 429,
  which means Central did not act on the request.
* A bounded semaphore caps the requests in flight from this client, i.e. per
  server per tenant, because the publish job shares one client across threads.
* Neither the password nor the token reaches a log line, an exception or a repr.
* An unreachable server is named with what we were doing: "Could not reach
  central.example.org while uploading attachment ...: connection refused".
"""

from __future__ import annotations

import email.utils
import random
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog

from control_plane.outbound import OutboundRefused, guarded_session
from tenants.publishing.central.errors import (
    CentralAuthError,
    CentralConflict,
    CentralError,
    CentralForbidden,
    CentralNotFound,
    CentralUnavailable,
    CentralValidationError,
)
from tenants.publishing.central.sessions import SessionSlot, parse_expiry
from tenants.publishing.network import CENTRAL_POLICY

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
SESSIONS_PATH = "/v1/sessions"
LOGOUT_TIMEOUT = 5.0


class Transport:
    """One account's authenticated, rate-limited, retrying connection to one Central."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float,
        max_concurrency: int,
        retries: int,
        backoff: float,
        max_retry_after: float = 60.0,
        session: requests.Session | None = None,
        session_slot: SessionSlot | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.base_url = normalize_base_url(base_url)
        self.username = username
        self._password = password
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._owns_session = session is None
        self._session = session or _new_session(max_concurrency)
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._owns_slot = session_slot is None
        self._slot = session_slot or SessionSlot()
        self._log = structlog.get_logger(__name__).bind(central=urlsplit(self.base_url).netloc)

    # --- authentication ---------------------------------------------------------

    @property
    def _token(self) -> str | None:
        return self._slot.current

    def login(self, *, operation: str = "sign in", timeout: float | None = None) -> None:
        """Open a fresh session now (used to check credentials), without retries."""
        fresh = self._create_session(f"{operation} as {self.username}", timeout=timeout, attempts=1)
        old = self._slot.take()
        self._slot.set(*fresh)
        if old is not None:
            self._end_session(old)

    def _ensure_token(self, operation: str) -> str:
        token, retired = self._slot.token(
            lambda: self._create_session(f"sign in as {self.username} to {operation}")
        )
        if retired is not None:  # renewed before it expired: end the old one
            self._end_session(retired)
        return token

    def _renew_token(self, stale: str, operation: str) -> str:
        """Replace a token Central rejected; threads that hit the same 401 share one login."""
        return self._slot.renew(
            stale, lambda: self._create_session(f"sign in again as {self.username} to {operation}")
        )

    def _create_session(
        self, operation: str, *, timeout: float | None = None, attempts: int | None = None
    ) -> tuple[str, float | None]:
        """Log in; the token and the session's lifetime in seconds (None if not given)."""
        # Retrying a login is safe: an extra session is harmless and expires by itself.
        response, tries = self._send(
            "POST",
            SESSIONS_PATH,
            operation=operation,
            retryable=True,
            token=None,
            timeout=timeout,
            attempts=attempts,
            json={"email": self.username, "password": self._password},
        )
        if response.status_code in (400, 401, 403):
            raise self._error(
                response,
                operation,
                cls=CentralAuthError,
                hint="check the e-mail and password saved for this server",
            )
        if response.status_code >= 400:
            raise self._error(response, operation, attempts=tries)
        token = _json_or_none(response)
        if not isinstance(token, dict) or not isinstance(token.get("token"), str):
            raise CentralError(
                f"Central answered the sign-in with no session token ({operation})",
                operation=operation,
                status=response.status_code,
            )
        created, expires = (
            parse_expiry(token.get("createdAt")),
            parse_expiry(token.get("expiresAt")),
        )
        lifetime = (expires - created).total_seconds() if created and expires else None
        return token["token"], lifetime

    def logout(self) -> None:
        """End the session on Central (best effort) and forget the token."""
        token = self._slot.take()
        if token is not None:
            self._end_session(token)

    def _end_session(self, token: str) -> bool:
        """``DELETE /v1/sessions/current`` with ``token`` (in the header, not the URL)."""
        try:
            response, _ = self._send(
                "DELETE",
                f"{SESSIONS_PATH}/current",
                operation="sign out",
                retryable=False,
                token=token,
                timeout=min(self.timeout, LOGOUT_TIMEOUT),
            )
        except CentralError:
            return False  # the session expires by itself; nothing to do about it here
        return response.status_code < 400

    def close(self) -> None:
        """Release connections; a session of our own is ended, a shared one stays."""
        if self._owns_slot:
            self.logout()
        if self._owns_session:
            self._session.close()

    # --- requests ---------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        retryable: bool | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send an authenticated request; raise a :class:`CentralError` for any error status.

        ``retryable`` defaults to "the method is idempotent"; pass ``True`` for a POST
        whose repetition cannot do harm (an upload that replaces, a grant that
        answers 409 when done).
        """
        if retryable is None:
            retryable = method in IDEMPOTENT_METHODS
        token = self._ensure_token(operation)
        response, tries = self._send(
            method, path, operation=operation, retryable=retryable, token=token, **kwargs
        )
        if response.status_code == 401:
            # Expired or revoked session: log in again once and repeat once.
            token = self._renew_token(token, operation)
            response, tries = self._send(
                method, path, operation=operation, retryable=retryable, token=token, **kwargs
            )
        if response.status_code >= 400:
            raise self._error(response, operation, attempts=tries)
        return response

    def _send(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        retryable: bool,
        token: str | None,
        timeout: float | None = None,
        attempts: int | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[requests.Response, int]:
        """One logical call: up to ``retries + 1`` exchanges; the last answer and their count."""
        total = attempts if attempts is not None else self.retries + 1
        all_headers = {"Accept": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        url = self.base_url + path
        limit = self.timeout if timeout is None else timeout
        for attempt in range(1, total + 1):
            started = time.monotonic()
            try:
                with self._slots:
                    response = self._session.request(
                        method, url, headers=all_headers, timeout=limit, **kwargs
                    )
            except requests.RequestException as exc:
                elapsed = round((time.monotonic() - started) * 1000)
                reason = _describe_network_error(exc, limit)
                self._log.warning(
                    "central.request_failed",
                    method=method,
                    path=path,
                    ms=elapsed,
                    attempt=attempt,
                    error=reason,
                )
                if attempt < total and retryable and not isinstance(exc, OutboundRefused):
                    time.sleep(self._delay(attempt, None))
                    continue
                text = _unreachable(
                    self.base_url, operation, exc, reason=reason, timeout=limit, attempts=attempt
                )
                text = self._redact(text)
                raise CentralUnavailable(text, operation=operation, message=text) from None
            elapsed = round((time.monotonic() - started) * 1000)
            status = response.status_code
            self._log.info(
                "central.request",
                method=method,
                path=path,
                status=status,
                ms=elapsed,
                attempt=attempt,
            )
            if attempt < total and (status == 429 or (status >= 500 and retryable)):
                time.sleep(self._delay(attempt, response))
                continue
            return response, attempt
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        """Retry-After when Central (or its proxy) gives one, else backoff with jitter."""
        if response is not None:
            retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                return min(retry_after, self.max_retry_after)
        base = self.backoff * (2 ** (attempt - 1))
        return base + random.uniform(0, self.backoff)  # noqa: S311 - jitter, not crypto

    # --- errors -----------------------------------------------------------------

    def _error(
        self,
        response: requests.Response,
        operation: str,
        *,
        cls: type[CentralError] | None = None,
        attempts: int = 1,
        hint: str = "",
    ) -> CentralError:
        status = response.status_code
        parsed = _json_or_none(response)
        body = parsed if isinstance(parsed, dict) else None
        code = body.get("code") if body else None
        message = str(body.get("message") or "") if body else ""
        message = message or response.reason or f"HTTP {status}"
        label = _format_code(code) if code is not None else str(status)
        if cls is None:
            cls = _class_for(status)
        if cls is CentralUnavailable:
            text = f"Central could not {operation} ({label}): {message} ({_attempts(attempts)})"
        else:
            text = f"Central refused to {operation} ({label}): {message}"
        details = body.get("details") if body else None
        if isinstance(details, dict) and details.get("error"):
            text += f" — {details['error']}"
        if hint:
            text += f" ({hint})"
        return cls(
            self._redact(text),
            operation=operation,
            status=status,
            code=code,
            message=self._redact(message),
            body=self._redact_body(body),
        )

    def _redact(self, text: str) -> str:
        """Second line of defence: no secret may leave in a message."""
        for secret in (self._password, self._token):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "[redacted]")
        return text

    def _redact_body(self, value: Any) -> Any:
        # Central echoes given values in some messages (400.3 on sign-in lists them).
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, dict):
            return {key: self._redact_body(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._redact_body(item) for item in value]
        return value

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, username={self.username!r})"


def normalize_base_url(base_url: str) -> str:
    """``https://c.example.org/`` and ``https://c.example.org/v1`` both mean the server root."""
    url = base_url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url


def _new_session(pool_size: int) -> requests.Session:
    """The guarded outbound session (DESIGN.md §6): every connection's address is checked
    and pinned, redirects are refused, no proxies; urllib3 never retries behind our back."""
    return guarded_session(policy=CENTRAL_POLICY, pool_maxsize=pool_size)


def _class_for(status: int) -> type[CentralError]:
    if status == 401:
        return CentralAuthError
    if status == 403:
        return CentralForbidden
    if status == 404:
        return CentralNotFound
    if status == 409:
        return CentralConflict
    if status == 429 or status >= 500:
        return CentralUnavailable
    if status == 400:
        return CentralValidationError
    return CentralError


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _format_code(code: Any) -> str:
    if isinstance(code, float):
        return f"{code:g}"
    return str(code)


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def end_session(base_url: str, token: str, *, timeout: float = LOGOUT_TIMEOUT) -> bool:
    """Log out one session of ``base_url`` (best effort); True if Central ended it."""
    transport = Transport(
        base_url, "", "", timeout=timeout, max_concurrency=1, retries=0, backoff=0.0
    )
    try:
        return transport._end_session(token)
    finally:
        transport._session.close()


def _describe_network_error(exc: requests.RequestException, timeout: float) -> str:
    """What went wrong, in words: "connection refused", "no answer within 10 s"..."""
    if isinstance(exc, OutboundRefused):
        return f"the address is not allowed ({exc})"
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {timeout:g} s"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the TLS handshake failed (certificate or protocol)"
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, TimeoutError):
            return f"no connection within {timeout:g} s"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return f"request failed ({type(exc).__name__})"


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (``__cause__``, ``__context__``, urllib3's ``reason``)."""
    seen: list[BaseException] = []
    pending: list[object] = [exc]
    while pending and len(seen) < 20:
        item = pending.pop(0)
        if not isinstance(item, BaseException) or any(item is s for s in seen):
            continue
        seen.append(item)
        pending += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return seen


_GERUNDS = {"get": "getting", "set": "setting", "sign": "signing", "put": "putting"}


def _doing(operation: str) -> str:
    """ "upload attachment 'a' to form 'f'" → "uploading attachment 'a' to form 'f'"."""
    verb, _, rest = operation.partition(" ")
    if verb in _GERUNDS:
        verb = _GERUNDS[verb]
    elif verb.endswith("e") and not verb.endswith("ee"):
        verb = verb[:-1] + "ing"
    else:
        verb += "ing"
    return f"{verb} {rest}".strip()


def _unreachable(
    base_url: str,
    operation: str,
    exc: requests.RequestException,
    *,
    reason: str,
    timeout: float,
    attempts: int,
) -> str:
    """A network failure naming the server and what we were doing."""
    host = urlsplit(base_url).netloc or base_url
    tries = _attempts(attempts)
    if isinstance(exc, requests.ReadTimeout):  # reached, but no answer in time
        return f"{host} did not answer within {timeout:g} s while {_doing(operation)} ({tries})"
    return f"Could not reach {host} while {_doing(operation)}: {reason} ({tries})"


def _parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
