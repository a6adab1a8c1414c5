"""Publishing sinks: stored run events and organization notices → channel-layer groups.

``tenants.publishing.events.emit`` stores an event and then calls
``run_event_sink``; ``organization_notice`` calls ``organization_notice_sink``
once its transaction has committed. Both send after commit (``on_commit``
runs at once outside a transaction), so a socket never hears of a row that a
reconnecting browser could not replay, or of a change that was rolled back.
Errors are logged and swallowed by the emitter: a socket problem never
breaks a publish.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction

from realtime.groups import org_group, run_group
from realtime.layers import group_send_from_sync
from realtime.services import notice_message, run_event_message
from tenants.publishing.models import PublishEvent

log = structlog.get_logger(__name__)


def run_event_sink(schema_name: str, event: PublishEvent) -> None:
    group = run_group(schema_name, event.run_id)
    message = run_event_message(schema_name, event)
    transaction.on_commit(lambda: _send(group, message), robust=True)


def organization_notice_sink(schema_name: str, notice_type: str, data: dict[str, Any]) -> None:
    _send(org_group(schema_name), notice_message(schema_name, notice_type, data))


def _send(group: str, message: dict[str, Any]) -> None:
    try:
        group_send_from_sync(group, message)
    except Exception as exc:  # noqa: BLE001 - stored already; a reconnect replays it
        log.warning("realtime.send_failed", group=group, error=type(exc).__name__)
