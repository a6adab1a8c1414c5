"""How large a request body may be, by path, and the 413 answer when it is larger.

The server (``control_plane.runtime.server``) applies these before it reads a
body (DESIGN.md §7): ``MAX_REQUEST_BYTES`` on the few paths that take file
uploads, ``MAX_REQUEST_BYTES_NON_UPLOAD`` everywhere else. Both sit above the
application's own, finer limits (``API_MAX_UPLOAD_BYTES``, ``API_MAX_JSON_BYTES``,
``DATA_UPLOAD_MAX_MEMORY_SIZE``, the services' file limits), which answer
bodies in between with field-level messages; the server's limit is what keeps
an anonymous gigabyte out of the process.

A new view that accepts files adds its path here; ``tests/security`` checks
that every multipart operation of the API schema is listed.
"""

from __future__ import annotations

import json
import re

from django.conf import settings

# Paths (percent-decoded, without the query) that take file uploads, on any host.
UPLOAD_PATHS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        # organization API
        r"/api/v1/templates/",
        r"/api/v1/templates/[0-9]+/source/",
        r"/api/v1/app-users/import/(?:preview/)?",
        # web workspace
        r"/templates/new/",
        r"/templates/[0-9]+/(?:edit|attachments)/",
        r"/app-users/import/",
    )
)


def is_upload_path(path: str) -> bool:
    return any(pattern.fullmatch(path) for pattern in UPLOAD_PATHS)


def body_limit(path: str) -> int:
    """The largest body, in bytes, the server accepts for a request to ``path``."""
    if is_upload_path(path):
        return settings.MAX_REQUEST_BYTES
    return settings.MAX_REQUEST_BYTES_NON_UPLOAD


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit} bytes"


def refusal(path: str, accept: str, limit: int) -> tuple[bytes, bytes]:
    """``(content type, body)`` of the 413 answer: the API's error format, or a page."""
    message = f"The request body is too large (the limit here is {_size(limit)})."
    if path.startswith("/api/") or "text/html" not in accept:
        body = {"error": {"code": "payload_too_large", "message": message, "fields": {}}}
        return b"application/json", json.dumps(body).encode()
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Too large · Publish MDM</title></head><body><main>"
        f"<h1>This upload is too large</h1><p>{message}</p>"
        '<p><a href="/">Go to the start page</a></p></main></body></html>'
    )
    return b"text/html; charset=utf-8", page.encode()
