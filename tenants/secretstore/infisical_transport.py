"""How the secret store reaches Infisical: settings, the SDK's transport, value encoding.

What we change about ``infisicalsdk`` and why:

- its ``requests`` session is replaced by the guarded outbound transport
  (``control_plane.outbound``: addresses checked at connect time, no redirects);
- its request layer retries every call, creates included, 4 times with 1-8 s
  sleeps and no timeout; ``SDKClient`` uses the same calls without that
  decorator and with a timeout (``INFISICAL_TIMEOUT``, 5 s), and
  ``InfisicalClient`` retries, with backoff, only what is safe to repeat;
- its secrets cache is off (it starts a thread per client and is keyed by
  project only); ``cache.py`` holds ours, keyed by tenant.

The access token of the machine identity is kept in-process until shortly
before it expires: it is the platform's credential, the same for every
organization, so sharing it leaks nothing between tenants.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field

import requests
from infisical_sdk import InfisicalSDKClient
from infisical_sdk.infisical_requests import APIError, InfisicalRequests
from infisical_sdk.resources import Auth, V3RawSecrets

from control_plane.outbound import OutboundRefused, guarded_session
from tenants.secretstore.errors import SecretStoreMisconfigured
from tenants.secretstore.values import SecretValue

# Infisical stores text; bytes go base64-encoded with this comment beside them.
BINARY_COMMENT = "publishmdm:base64"


@dataclass(frozen=True)
class InfisicalConfig:
    url: str
    client_id: str
    client_secret: str = field(repr=False)
    environment: str
    project_prefix: str
    timeout: float
    read_retries: int
    backoff: float

    @classmethod
    def from_settings(cls) -> InfisicalConfig:
        from django.conf import settings

        if not (settings.INFISICAL_CLIENT_ID and settings.INFISICAL_CLIENT_SECRET):
            raise SecretStoreMisconfigured(
                "Infisical is not configured: set INFISICAL_CLIENT_ID and INFISICAL_CLIENT_SECRET."
            )
        return cls(
            url=settings.INFISICAL_URL.rstrip("/"),
            client_id=settings.INFISICAL_CLIENT_ID,
            client_secret=settings.INFISICAL_CLIENT_SECRET,
            environment=settings.INFISICAL_ENVIRONMENT,
            project_prefix=settings.INFISICAL_PROJECT_PREFIX,
            timeout=settings.INFISICAL_TIMEOUT,
            read_retries=max(0, settings.INFISICAL_READ_RETRIES),
            backoff=max(0.0, settings.INFISICAL_RETRY_BACKOFF),
        )


# --- the SDK, with timeouts and without its blanket retries ------------------------


class _Requests(InfisicalRequests):
    get = InfisicalRequests.get.__wrapped__
    post = InfisicalRequests.post.__wrapped__
    patch = InfisicalRequests.patch.__wrapped__
    delete = InfisicalRequests.delete.__wrapped__

    def __init__(self, host: str, timeout: float):
        super().__init__(host=host)
        headers = dict(self.session.headers)
        self.session.close()
        # The guarded outbound transport (DESIGN.md §6), with the timeout as default.
        self.session = guarded_session(timeout=timeout)
        self.session.headers.update(headers)


class SDKClient(InfisicalSDKClient):
    """The SDK's client on our transport; only ``auth``, ``secrets`` and ``api`` are used."""

    def __init__(self, host: str, timeout: float):
        super().__init__(host=host, cache_ttl=None)
        self.api.session.close()
        self.api = _Requests(host, timeout)
        self.auth = Auth(self.api, self.set_token)
        self.secrets = V3RawSecrets(self.api, self.cache)


tokens: dict[tuple[str, str, str], tuple[SecretValue, float]] = {}
tokens_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop cached access tokens (tests; after rotating the machine identity)."""
    with tokens_lock:
        tokens.clear()


def encode_value(value: SecretValue) -> tuple[str, str]:
    raw = value.reveal()
    if isinstance(raw, bytes):
        return base64.b64encode(raw).decode(), BINARY_COMMENT
    return raw, ""


def decode_value(text: str, comment: str | None) -> SecretValue:
    if comment == BINARY_COMMENT:
        return SecretValue(base64.b64decode(text))
    return SecretValue(text)


def error_message(exc: APIError) -> str:
    response = exc.response if isinstance(exc.response, dict) else {}
    message = response.get("message", "")
    return message if isinstance(message, str) else str(message)


def describe_error(exc: APIError) -> str:
    response = exc.response if isinstance(exc.response, dict) else {}
    kind = response.get("error") or "Error"
    request_id = response.get("reqId")
    text = f"{kind}: {error_message(exc) or 'no message'} (HTTP {exc.status_code}"
    return text + (f", reqId {request_id})" if request_id else ")")


def network_reason(exc: Exception, timeout: float) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, OutboundRefused):
        return f"refused: {exc}"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "aborted" in text or "RemoteDisconnected" in text:
            return "the connection closed before Infisical answered"
        return "cannot connect"
    return type(exc).__name__
