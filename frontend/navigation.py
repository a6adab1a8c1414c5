"""Where to send people after logging in: only to our own hosts."""

from __future__ import annotations

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme

from control_plane.organizations.models import Domain


def safe_next_url(request, candidate: str | None, default: str) -> str:
    if not candidate:
        return default
    hosts = {request.get_host()}
    from urllib.parse import urlsplit

    target_host = urlsplit(candidate).hostname or ""
    if target_host == settings.BASE_DOMAIN or Domain.objects.filter(domain=target_host).exists():
        hosts.add(urlsplit(candidate).netloc)
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts=hosts, require_https=request.is_secure()
    ):
        return candidate
    return default
