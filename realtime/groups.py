"""The one place that names channel-layer groups.

A group name carries the tenant schema, so two organizations' objects with
the same id (ids come from per-schema sequences and do collide) can never
share a group. Nothing else composes group names: sinks and consumers call
these helpers, and a test greps the code base for hand-made names.
"""

from __future__ import annotations

import re

# django-tenants schema names (``org_<slug>``) and Channels' group-name alphabet.
_SCHEMA_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_MAX_ID = 2**63 - 1
PREFIX = "t"


def _schema(schema: str) -> str:
    if not isinstance(schema, str) or not _SCHEMA_RE.fullmatch(schema) or schema == "public":
        raise ValueError(f"not a tenant schema name: {schema!r}")
    return schema


def _object_id(object_id: int) -> int:
    if (
        isinstance(object_id, bool)
        or not isinstance(object_id, int)
        or not 0 < object_id <= _MAX_ID
    ):
        raise ValueError(f"not an object id: {object_id!r}")
    return object_id


def run_group(schema: str, run_id: int) -> str:
    """Sockets following one publish run: ``t.<schema>.run.<id>``."""
    return f"{PREFIX}.{_schema(schema)}.run.{_object_id(run_id)}"


def org_group(schema: str) -> str:
    """Sockets following an organization's live lists: ``t.<schema>.org``."""
    return f"{PREFIX}.{_schema(schema)}.org"


def health_group(token: str) -> str:
    """A throw-away group for the health check's round trip (no tenant, never subscribed)."""
    if not token.isalnum():
        raise ValueError(f"not a health token: {token!r}")
    return f"health.{token}"


def schema_of(group: str) -> str:
    """The tenant schema a group belongs to (for checks and logs)."""
    parts = group.split(".")
    if len(parts) < 3 or parts[0] != PREFIX:
        raise ValueError(f"not a tenant group: {group!r}")
    return _schema(parts[1])
