"""Wire protocol of ``/ws/``, version 1 (documented with examples in docs/realtime.md).

Every frame is a JSON object ``{"v": 1, "type": ..., ...}``. Client frames are
parsed here into typed messages or a ``ProtocolError``, which the consumer
turns into an ``error`` frame: bad input never raises out of a consumer and
never closes the socket. Close codes are only used while the connection is
being set up (host, origin, credentials, membership) or when access is lost.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from control_plane import safejson
from control_plane.logging_setup import SENSITIVE_KEYS

VERSION = 1
SUBPROTOCOL = "pmdm.v1"
MAX_REF_LENGTH = 64
_MAX_ID = 2**63 - 1


class CloseCode(enum.IntEnum):
    """Why the server closed a socket (4000-4999 is the application range)."""

    BAD_REQUEST = 4400  # the handshake itself is unusable (no Host header, wrong path)
    UNAUTHENTICATED = 4401  # no credentials, or invalid / expired ones
    NOT_MEMBER = 4403  # authenticated, but not a member of this organization (any more)
    UNKNOWN_HOST = 4404  # no organization at this host (unknown, archived, control plane)
    ORIGIN_REJECTED = 4406  # a browser page from a host that is not this organization's
    SUSPENDED = 4423  # the organization is suspended (its data is kept)
    NOT_READY = 4503  # the organization is still being provisioned; retry shortly


class ErrorCode(enum.StrEnum):
    MALFORMED = "malformed"  # not JSON, or not a JSON object
    TOO_LARGE = "too_large"
    BINARY_UNSUPPORTED = "binary_unsupported"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"  # a field is missing, unknown or of the wrong type
    NOT_FOUND = "not_found"  # no such run in this organization
    FORBIDDEN = "forbidden"  # the role may not follow this stream
    TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"


class Stream(enum.StrEnum):
    RUN = "run"
    ORGANIZATION = "organization"


class ProtocolError(Exception):
    def __init__(
        self, code: ErrorCode, message: str, *, field: str | None = None, ref: Any = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.ref = ref


@dataclass(frozen=True)
class Subscribe:
    stream: Stream
    run: int | None = None
    after: int | None = None  # last event id the client saw; None replays the whole run
    ref: str | int | None = None


@dataclass(frozen=True)
class Unsubscribe:
    stream: Stream
    run: int | None = None
    ref: str | int | None = None


@dataclass(frozen=True)
class Ping:
    ref: str | int | None = None


ClientMessage = Subscribe | Unsubscribe | Ping

_FIELDS = {
    "subscribe": {"v", "type", "ref", "stream", "run", "after"},
    "unsubscribe": {"v", "type", "ref", "stream", "run"},
    "ping": {"v", "type", "ref"},
}


def parse(text: str | None, data: bytes | None, *, max_bytes: int) -> ClientMessage:
    """One client frame → a message, or ``ProtocolError`` saying what is wrong with it."""
    if text is None:
        raise ProtocolError(ErrorCode.BINARY_UNSUPPORTED, "Send JSON text frames.")
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"Frames are limited to {max_bytes} bytes.")
    try:
        body = safejson.loads(text)
    except ValueError:  # malformed or nested too deeply
        raise ProtocolError(ErrorCode.MALFORMED, "The frame is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ProtocolError(ErrorCode.MALFORMED, "The frame must be a JSON object.")
    ref = _ref(body.get("ref"))
    version = body.get("v")
    if version != VERSION or isinstance(version, bool):
        raise ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION, f"Use protocol version {VERSION}.", field="v", ref=ref
        )
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, "Unknown message type.", field="type", ref=ref)
    unknown = sorted(set(body) - _FIELDS[kind])
    if unknown:
        raise ProtocolError(
            ErrorCode.INVALID, f"Unknown field {unknown[0][:40]!r}.", field=unknown[0][:40], ref=ref
        )
    if kind == "ping":
        return Ping(ref=ref)
    stream = _stream(body.get("stream"), ref)
    run = _positive_int(body, "run", ref) if stream is Stream.RUN else None
    if stream is Stream.RUN and run is None:
        raise ProtocolError(ErrorCode.INVALID, "Say which run to follow.", field="run", ref=ref)
    if stream is Stream.ORGANIZATION and ("run" in body or "after" in body):
        field = "run" if "run" in body else "after"
        raise ProtocolError(
            ErrorCode.INVALID, "The organization stream takes no run.", field=field, ref=ref
        )
    if kind == "unsubscribe":
        return Unsubscribe(stream=stream, run=run, ref=ref)
    after = _positive_int(body, "after", ref, allow_zero=True)
    return Subscribe(stream=stream, run=run, after=after, ref=ref)


def _ref(value: Any) -> str | int | None:
    """The client's correlation id, echoed back; anything odd is dropped, not an error."""
    if isinstance(value, str) and len(value) <= MAX_REF_LENGTH:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _MAX_ID:
        return value
    return None


def _stream(value: Any, ref: Any) -> Stream:
    try:
        return Stream(value)
    except ValueError:
        raise ProtocolError(
            ErrorCode.INVALID, "stream must be 'run' or 'organization'.", field="stream", ref=ref
        ) from None


def _positive_int(body: dict, name: str, ref: Any, *, allow_zero: bool = False) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= _MAX_ID:
        raise ProtocolError(
            ErrorCode.INVALID, f"{name} must be a whole number ≥ {low}.", field=name, ref=ref
        )
    return value


# --- server frames -----------------------------------------------------------------------


def encode(message: dict[str, Any]) -> str:
    return json.dumps({"v": VERSION, **message}, separators=(",", ":"), default=str)


def with_ref(message: dict[str, Any], ref: Any) -> dict[str, Any]:
    return {**message, "ref": ref} if ref is not None else message


def error(
    code: ErrorCode, message: str, *, field: str | None = None, ref: Any = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "error", "code": str(code), "message": message}
    if field is not None:
        body["field"] = field
    return with_ref(body, ref)


def from_protocol_error(exc: ProtocolError) -> dict[str, Any]:
    return error(exc.code, exc.message, field=exc.field, ref=exc.ref)


FINAL_RUN_STATES = frozenset({"succeeded", "partially_failed", "failed"})


def run_event(event: dict[str, Any], *, replayed: bool) -> dict[str, Any]:
    """One stored publish event; the run's last event also carries its summary."""
    body: dict[str, Any] = {"type": "run.event", "run": event["run"], "event": event}
    if replayed:
        body["replayed"] = True
    if event.get("step") == "run" and event.get("state") in FINAL_RUN_STATES:
        body["final"] = True
        body["summary"] = (event.get("data") or {}).get("summary", {})
    return body


def scrub(value: Any) -> Any:
    """Drop values under keys that name a secret, at any depth: a second line of defence
    (events and notices never carry secrets by design, but ``data`` is free-form)."""
    if isinstance(value, dict):
        return {
            key: "[redacted]"
            if isinstance(key, str) and any(mark in key.lower() for mark in SENSITIVE_KEYS)
            else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value
