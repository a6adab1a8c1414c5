"""JSON from outside, parsed with a nesting limit (DESIGN.md §7).

Python's parser recurses once per ``[`` or ``{``: ``[`` × 100 000 ends in a
``RecursionError`` (a 500 where it is not caught) and, deep enough, costs the
whole stack. Every parser of untrusted JSON (API bodies on both hosts,
WebSocket frames, cursors) goes through :func:`loads`, which counts the nesting
first, in one linear pass that skips string contents, and refuses anything
deeper than ``JSON_MAX_DEPTH`` before the parser sees it.
"""

from __future__ import annotations

import json
import re
from typing import Any

DEFAULT_MAX_DEPTH = 64
# A JSON string (escapes included, unrolled so that long strings match in one
# step) or one bracket: brackets inside strings are consumed with the string.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)


class JSONError(ValueError):
    """The text is not JSON we accept: malformed, or nested deeper than the limit."""


def max_depth() -> int:
    """``JSON_MAX_DEPTH`` from the settings, or the default outside Django."""
    try:
        from django.conf import settings

        if settings.configured:
            return int(getattr(settings, "JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))
    except ImportError:  # pragma: no cover - always installed here
        pass
    return DEFAULT_MAX_DEPTH


def check_depth(text: str, limit: int) -> None:
    """Raise ``JSONError`` when ``text`` opens more than ``limit`` arrays/objects at once."""
    if text.count("[") + text.count("{") <= limit:
        return  # cannot be deeper: skip the scan (the common, small case)
    depth = 0
    for match in _TOKENS.finditer(text):
        piece = match.group()
        if piece in "[{":
            depth += 1
            if depth > limit:
                raise JSONError(f"JSON nested deeper than {limit} levels is not accepted.")
        elif piece in "]}":
            depth -= 1


def loads(text: str | bytes, *, limit: int | None = None, **kwargs: Any) -> Any:
    """``json.loads`` for untrusted text: ``JSONError`` (a ``ValueError``) for bad or deep input."""
    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONError(f"JSON must be UTF-8: {exc}") from None
    check_depth(text, max_depth() if limit is None else limit)
    try:
        return json.loads(text, **kwargs)
    except RecursionError:  # a limit set above what the interpreter's stack allows
        raise JSONError("JSON nested too deeply.") from None
    except ValueError as exc:
        raise JSONError(str(exc)) from exc
