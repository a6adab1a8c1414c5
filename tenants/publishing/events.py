"""Publish-run events: stored first, then sent to whoever listens.

``emit`` is the one function workers call. It writes the event row in its own
autocommit statement (so a browser that reconnects can replay it even if the
run later fails) and then hands it to every registered sink; the realtime
layer registers one that sends it through the channel layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from django.db import connection

from tenants.publishing.models import PublishEvent, PublishRun, PublishRunItem

log = structlog.get_logger(__name__)

EventSink = Callable[[str, PublishEvent], None]
OrganizationSink = Callable[[str, str, dict[str, Any]], None]
_SINKS: list[EventSink] = []
_ORGANIZATION_SINKS: list[OrganizationSink] = []


def register_sink(sink: EventSink) -> None:
    """Receive every stored run event as ``sink(schema_name, event)``."""
    if sink not in _SINKS:
        _SINKS.append(sink)


def register_organization_sink(sink: OrganizationSink) -> None:
    """Receive organization-wide notices as ``sink(schema_name, type, data)``."""
    if sink not in _ORGANIZATION_SINKS:
        _ORGANIZATION_SINKS.append(sink)


def organization_notice(type_: str, data: dict[str, Any]) -> None:
    """Tell live lists that something changed (``run.started``, ``app_user.changed``...).

    Sent after the surrounding transaction commits, so listeners never hear of
    a change that was rolled back.
    """
    from django.db import transaction

    schema_name = connection.schema_name

    def send() -> None:
        for sink in list(_ORGANIZATION_SINKS):
            try:
                sink(schema_name, type_, data)
            except Exception as exc:  # noqa: BLE001 - a listener must never break the action
                log.warning("organization_notice.sink_failed", error=str(exc))

    transaction.on_commit(send)


def event_payload(event: PublishEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "run": event.run_id,
        "app_user": event.app_user_name or None,
        "step": event.step,
        "state": event.state,
        "message": event.message,
        "data": event.data,
        "at": event.created_at.isoformat(),
    }


def emit(
    run: PublishRun,
    *,
    step: str,
    state: str,
    message: str = "",
    item: PublishRunItem | None = None,
    data: dict[str, Any] | None = None,
) -> PublishEvent:
    event = PublishEvent.objects.create(
        run=run,
        item=item,
        app_user_name=item.app_user_name if item else "",
        step=step,
        state=state,
        message=message[:4000],
        data=data or {},
    )
    for sink in list(_SINKS):
        try:
            sink(connection.schema_name, event)
        except Exception as exc:  # noqa: BLE001 - a listener must never break a publish
            log.warning("publish.event_sink_failed", error=str(exc), sink=repr(sink))
    return event
