"""Turning Django's database settings back into a ``DATABASE_URL``.

Processes we start ourselves (the worker under ``serve``, test and benchmark
subprocesses) must reach the very database this process uses. Rebuilding the
URL from ``connection.settings_dict`` gives them exactly that - the test
database under pytest, a TCP host or the embedded server's Unix-socket
directory - in the form ``settings.py`` reads back (the socket directory
percent-encoded in the host part).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """The ``postgres://`` URL that ``settings.py`` parses back into ``settings_dict``."""
    auth = quote(str(settings_dict.get("USER") or ""), safe="")
    if settings_dict.get("PASSWORD"):
        auth += ":" + quote(str(settings_dict["PASSWORD"]), safe="")
    host = quote(str(settings_dict.get("HOST") or ""), safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    name = quote(str(settings_dict.get("NAME") or ""), safe="")
    options = {
        key: value
        for key, value in (settings_dict.get("OPTIONS") or {}).items()
        if isinstance(value, str | int)
    }
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{name}{query}"
