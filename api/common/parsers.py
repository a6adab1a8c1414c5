"""Request parsers with size limits, so an oversized body is a clear 413, not a 400 or a crash.

The ``Content-Length`` check in ``views.ApiViewMixin`` refuses most oversized
bodies before a byte is read; the JSON parser also stops reading at the limit,
for bodies sent without a length.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers

from api.common.errors import PayloadTooLarge
from control_plane import safejson


def json_limit() -> int:
    return getattr(settings, "API_MAX_JSON_BYTES", 1024 * 1024)


def upload_limit() -> int:
    return getattr(settings, "API_MAX_UPLOAD_BYTES", 12 * 1024 * 1024)


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = json_limit()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes.")
        if not raw:
            return {}
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return safejson.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except ValueError as exc:  # malformed, not in the charset, or nested too deeply
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class LimitedMultiPartParser(parsers.MultiPartParser):
    """File uploads (``multipart/form-data``); the body limit is ``API_MAX_UPLOAD_BYTES``.

    Django's parser is lenient: a body cut off (or made up) before its closing
    boundary parses as "no fields", which a PATCH would accept as a change of
    nothing. A body must end with its closing delimiter (RFC 2046 §5.1.1);
    every client sends it.
    """

    def parse(self, stream, media_type: str | None = None, parser_context: Any = None) -> Any:
        boundary = _boundary(media_type or "")
        if stream is None or not boundary:
            raise exceptions.ParseError("The multipart body has no boundary.")
        watcher = _ClosingDelimiter(stream, b"--" + boundary + b"--")
        result = super().parse(watcher, media_type, parser_context)
        if not watcher.seen:
            raise exceptions.ParseError(
                "The multipart body is incomplete: it does not end with its closing boundary."
            )
        return result


def _boundary(media_type: str) -> bytes:
    for param in media_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return value.strip('"').encode("latin-1", "replace")
    return b""


class _ClosingDelimiter:
    """A stream that notes whether the closing delimiter went through it."""

    def __init__(self, stream: Any, delimiter: bytes) -> None:
        self._stream = stream
        self._delimiter = delimiter
        self._tail = b""
        self.seen = False

    def read(self, *args: Any) -> bytes:
        data = self._stream.read(*args)
        if not self.seen and data:
            window = self._tail + data
            self.seen = self._delimiter in window
            self._tail = window[-len(self._delimiter) :]
        return data


class LimitedFormParser(parsers.FormParser):
    """``application/x-www-form-urlencoded``, limited like JSON."""


def body_limit_for(content_type: str) -> int:
    return upload_limit() if content_type.startswith("multipart/") else json_limit()
