"""Where to send people after logging in: only to our own hosts.

A ``next`` (or Google ``return_to``) is followed when it is a path on the
current host or an URL of the current page's own origin, or an absolute URL on
the control plane or an organization's
subdomain (``<slug>.BASE_DOMAIN``) with the configured scheme and port
(``PUBLIC_SCHEME``, ``PUBLIC_PORT``). Custom domains are not followed: they
are names an organization brought, not names we control, and accepting them
would make the login page an open redirect. Whether an organization exists
plays no part, so the answer tells nobody which ones do.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme

_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def our_host(hostname: str) -> bool:
    """The control plane or one label under it (an organization's subdomain)."""
    base = settings.BASE_DOMAIN
    if hostname == base:
        return True
    label, dot, rest = hostname.partition(".")
    return bool(dot) and rest == base and bool(_LABEL_RE.fullmatch(label))


def _public_port() -> int:
    return settings.PUBLIC_PORT or _DEFAULT_PORTS.get(settings.PUBLIC_SCHEME, 0)


def safe_next_url(request, candidate: str | None, default: str) -> str:
    if not candidate:
        return default
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts=set()):
        return candidate  # a path on this host ("//host" and "/\\host" are refused here)
    if candidate.startswith(f"{request.scheme}://{request.get_host()}/") and (
        url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()})
    ):
        return candidate  # the page's own origin (e.g. a Referer on a custom domain)
    try:
        parts = urlsplit(candidate)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        return default
    hostname = (parts.hostname or "").lower()
    if (
        parts.scheme == settings.PUBLIC_SCHEME
        and not (parts.username or parts.password)
        and port == _public_port()
        and our_host(hostname)
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={parts.netloc}, require_https=parts.scheme == "https"
        )
    ):
        return candidate
    return default
