"""Writing audit events (DESIGN.md §8: every action writes one)."""

from __future__ import annotations

from typing import Any

import structlog
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.audit.models import AuditEvent

log = structlog.get_logger(__name__)


def actor_fields(actor: Any) -> dict[str, Any]:
    """Turn a user (or None for the system) into stored actor fields.

    A user acting through an API token is recorded with the token too, so the
    trail tells "Ana, in her session" from "Ana's viewer token".
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor_id": None, "actor_label": "system", "actor_token": ""}
    identity = getattr(actor, "api_token_identity", None)
    prefix = getattr(getattr(identity, "token", None), "prefix", "")
    return {
        "actor_id": actor.pk,
        "actor_label": getattr(actor, "email", str(actor)),
        "actor_token": f"pmdm_{prefix}" if prefix else "",
    }


def audit_record(
    code: str,
    *,
    actor: Any = None,
    target: Any = None,
    target_label: str = "",
    data: dict[str, Any] | None = None,
    schema_name: str | None = None,
) -> AuditEvent:
    """Append one event to an organization's trail.

    ``schema_name`` names the organization when the caller runs in the public
    schema (member changes are public rows but tenant events); otherwise the
    current tenant schema is used, and recording from ``public`` is a bug.
    """
    # A deleted object is named by ``target_label`` alone (there is nothing to point at).
    target_fields: dict[str, Any] = {"target_label": target_label[:254]} if target_label else {}
    if target is not None:
        target_fields = {
            "target_type": target._meta.label_lower,
            "target_id": str(target.pk),
            "target_label": target_label or str(target)[:254],
        }
    context = structlog.contextvars.get_contextvars()
    request_id = context.get("request_id", "")
    # Bound per request by control_plane.middleware from the one client-address function.
    client_address = context.get("client_address") or None
    schema = schema_name or connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError(f"Audit event {code!r} recorded outside any organization.")
    with schema_context(schema):
        event = AuditEvent.objects.create(
            code=code,
            data=data or {},
            request_id=request_id,
            client_address=client_address,
            **actor_fields(actor),
            **target_fields,
        )
    log.info("audit", code=code, target=target_fields.get("target_id"))
    return event
