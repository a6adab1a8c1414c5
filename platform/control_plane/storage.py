"""Per-organization storage prefixes (DESIGN.md §3).

Every file an organization owns lives under ``tenants/<schema>/`` in the
default storage (local files, or S3 when configured), and code reaches it only
through ``tenant_path`` so that no path can be built for another schema.
"""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name


def tenant_storage_prefix(schema_name: str) -> str:
    if not schema_name or schema_name == get_public_schema_name():
        raise ValueError("Files belong to an organization; no organization is active.")
    return f"tenants/{schema_name}"


def tenant_path(relative: str) -> str:
    """The storage name of ``relative`` for the organization active on this connection."""
    relative = relative.lstrip("/")
    if ".." in relative.split("/"):
        raise ValueError("Paths may not climb out of the organization's folder.")
    return f"{tenant_storage_prefix(connection.schema_name)}/{relative}"
