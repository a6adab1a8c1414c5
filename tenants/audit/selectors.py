"""Reading the audit trail."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.audit.models import AuditEvent


def audit_events(*, code_prefix: str = "") -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if code_prefix:
        events = events.filter(code__startswith=code_prefix)
    return events
