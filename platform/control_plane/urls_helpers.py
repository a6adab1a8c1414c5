"""Absolute URLs for the control plane and for each organization's host."""

from __future__ import annotations

from django.conf import settings


def _origin(host: str) -> str:
    port = settings.PUBLIC_PORT
    default = {"http": 80, "https": 443}.get(settings.PUBLIC_SCHEME)
    suffix = f":{port}" if port and port != default else ""
    return f"{settings.PUBLIC_SCHEME}://{host}{suffix}"


def host_url(host: str, path: str = "/") -> str:
    """``path`` on ``host`` with the configured scheme and port (never the request's)."""
    return _origin(host) + path


def base_url(path: str = "/") -> str:
    return _origin(settings.BASE_DOMAIN) + path


def organization_url(organization, path: str = "/") -> str:
    from control_plane.organizations.services.slugs import primary_domain_for

    return _origin(organization.primary_domain or primary_domain_for(organization.slug)) + path


def organization_url_template() -> str:
    """``http://{slug}.publishmdm.localhost:8000/``: a new organization's address, to fill in."""
    return _origin("{slug}." + settings.BASE_DOMAIN) + "/"
