"""The control plane's own audit trail of organization-level events."""

from __future__ import annotations

from typing import Any

import structlog

from control_plane.organizations.models import Organization, PlatformAuditEvent

log = structlog.get_logger(__name__)


def platform_audit_record(
    code: str,
    *,
    organization: Organization | None,
    actor: Any = None,
    data: dict[str, Any] | None = None,
) -> PlatformAuditEvent:
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    event = PlatformAuditEvent.objects.create(
        code=code,
        organization=organization,
        actor=actor if authenticated else None,
        # Platform tokens are not user accounts: they name themselves.
        actor_label=getattr(actor, "email", "")
        if authenticated
        else getattr(actor, "audit_label", "") or "system",
        data=data or {},
    )
    log.info("platform_audit", code=code, organization=getattr(organization, "slug", None))
    return event
