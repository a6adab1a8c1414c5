"""Organization slugs: they become host names, schema names and URLs."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")

RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "apps",
        "assets",
        "auth",
        "autoconfig",
        "autodiscover",
        "billing",
        "blog",
        "cdn",
        "dashboard",
        "dns",
        "docs",
        "email",
        "ftp",
        "help",
        "imap",
        "internal",
        "localhost",
        "login",
        "logout",
        "mail",
        "media",
        "metrics",
        "mta-sts",
        "mx",
        "ns",
        "ns1",
        "ns2",
        "ns3",
        "ns4",
        "pop",
        "pop3",
        "public",
        "root",
        "sftp",
        "signup",
        "smtp",
        "spare",
        "static",
        "status",
        "support",
        "system",
        "template",
        "test",
        "vpn",
        "webmail",
        "ws",
        "www",
    }
)


def validate_slug(slug: str) -> str:
    """Return the slug if usable, else raise ValidationError saying why.

    3–40 characters of lowercase letters, digits and hyphens, starting and
    ending with a letter or digit, no double hyphen (IDNA reserves ``xn--``),
    and not a name the platform keeps for itself: its own pages, the usual
    infrastructure host names (mail, DNS, MTA-STS, CDN, status) and the
    spare-schema names (``spare-*``).
    """
    if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
        raise ValidationError(
            "Use 3 to 40 lowercase letters, digits and hyphens, starting and ending "
            "with a letter or digit.",
            code="invalid_slug",
        )
    if "--" in slug:
        raise ValidationError("Two hyphens in a row are not allowed.", code="invalid_slug")
    if slug in RESERVED_SLUGS or _is_spare_name(slug):
        raise ValidationError(f"“{slug}” is reserved; choose another name.", code="reserved_slug")
    return slug


def _is_spare_name(slug: str) -> bool:
    """``spare-*``: names that look like the pool's ready schemas (``SPARE_SCHEMA_PREFIX``)."""
    from django.conf import settings

    stem = settings.SPARE_SCHEMA_PREFIX.replace("_", "-").strip("-")
    return bool(stem) and (slug == stem or slug.startswith(f"{stem}-"))


def schema_name_for(slug: str) -> str:
    """``acme-health`` → ``org_acme_health`` (a valid, unquoted PostgreSQL name)."""
    from django.conf import settings

    return f"{settings.TENANT_SCHEMA_PREFIX}{slug.replace('-', '_')}"


def primary_domain_for(slug: str) -> str:
    from django.conf import settings

    return f"{slug}.{settings.BASE_DOMAIN}"
