"""A small, thread-safe client of the control-plane API.

Terraform applies resources in parallel and ``tf`` serves each call on its own
gRPC thread, so one client is shared by all of them: urllib3's pool is
thread-safe and keeps connections alive, which matters because every resource
polls while its organization provisions.

Every call the provider makes is idempotent on the server (create is
idempotent on the slug, invitations on email and role, PATCH sets absolute
values, archive and revoke accept repeats), so retrying after a dropped
connection, a 429 or a 503 is safe for all of them.

``*.localhost`` names are sent to 127.0.0.1 with the original ``Host`` header
(RFC 6761 reserves them for loopback; browsers do the same, glibc does not),
so ``http://publishmdm.localhost:8000`` works as it does in a browser.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # imported when a client is made: schema-only starts never need it
    import urllib3

USER_AGENT = "terraform-provider-publishmdm/0.1.0"
RETRIES = 5
MAX_RETRY_WAIT = 10.0


@dataclass
class ApiError(Exception):
    """A failed call, with the API's error body (``{"error": {code, message, fields}}``)."""

    status: int
    code: str
    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in self.fields.items())
        return f"{self.message} ({self.status} {self.code})" + (f" [{details}]" if details else "")


def _loopback(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


class Client:
    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        import urllib3

        parts = urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"The control-plane URL must be http(s)://host[:port], not {url!r}.")
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connect_to = "127.0.0.1" if _loopback(host) else host
        headers = {
            "Host": parts.netloc,
            "Authorization": f"Bearer {token}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        options: dict[str, Any] = {
            "maxsize": 16,
            "block": False,
            "headers": headers,
            "retries": False,
            "timeout": urllib3.Timeout(connect=10.0, read=timeout),
        }
        if parts.scheme == "https":
            self._pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
                connect_to, port, server_hostname=host, assert_hostname=host, **options
            )
        else:
            self._pool = urllib3.HTTPConnectionPool(connect_to, port, **options)
        self.prefix = parts.path + "/api/v1"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded JSON answer (None for 204); raises ApiError for 4xx/5xx."""
        import urllib3

        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        url = self.prefix + path
        for attempt in range(RETRIES + 1):
            try:
                response = self._pool.urlopen(
                    method, url, body=payload, headers={**self._pool.headers, **headers}
                )
            except (
                urllib3.exceptions.ProtocolError,
                urllib3.exceptions.TimeoutError,
                urllib3.exceptions.NewConnectionError,
            ) as exc:
                if attempt == RETRIES:
                    raise ApiError(
                        0, "unreachable", f"Cannot reach {self._pool.host}: {exc}"
                    ) from exc
                time.sleep(min(0.2 * 2**attempt, MAX_RETRY_WAIT))
                continue
            if response.status in (429, 502, 503, 504) and attempt < RETRIES:
                wait = response.headers.get("Retry-After", "")
                time.sleep(min(float(wait) if wait.isdigit() else 0.5 * 2**attempt, MAX_RETRY_WAIT))
                continue
            return self._decode(response)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _decode(response: urllib3.BaseHTTPResponse) -> Any:
        data: Any = None
        if response.data:
            try:
                data = json.loads(response.data)
            except ValueError:
                data = None
        if response.status < 400:
            return data
        error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
        raise ApiError(
            response.status,
            error.get("code", "http_error"),
            error.get("message", f"HTTP {response.status}"),
            error.get("fields") or {},
        )

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)
