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
        "billing",
        "blog",
        "cdn",
        "dashboard",
        "docs",
        "help",
        "internal",
        "login",
        "logout",
        "mail",
        "media",
        "metrics",
        "public",
        "root",
        "signup",
        "smtp",
        "spare",
        "static",
        "status",
        "support",
        "system",
        "template",
        "test",
        "www",
        "ws",
    }
)


def validate_slug(slug: str) -> str:
    """Return the slug if usable, else raise ValidationError saying why.

    3–40 characters of lowercase letters, digits and hyphens, starting and
    ending with a letter or digit, no double hyphen (IDNA reserves ``xn--``),
    and not a name the platform keeps for itself.
    """
    if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
        raise ValidationError(
            "Use 3 to 40 lowercase letters, digits and hyphens, starting and ending "
            "with a letter or digit.",
            code="invalid_slug",
        )
    if "--" in slug:
        raise ValidationError("Two hyphens in a row are not allowed.", code="invalid_slug")
    if slug in RESERVED_SLUGS:
        raise ValidationError(f"“{slug}” is reserved; choose another name.", code="reserved_slug")
    return slug


def schema_name_for(slug: str) -> str:
    """``acme-health`` → ``org_acme_health`` (a valid, unquoted PostgreSQL name)."""
    from django.conf import settings

    return f"{settings.TENANT_SCHEMA_PREFIX}{slug.replace('-', '_')}"


def primary_domain_for(slug: str) -> str:
    from django.conf import settings

    return f"{slug}.{settings.BASE_DOMAIN}"
