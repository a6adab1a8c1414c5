"""What a socket may follow and what it is owed: run lookups, replay, notice visibility.

The consumer only parses frames and calls these. Functions that read tenant
tables are plain sync functions meant to run through ``context.tenant_call``
(which sets the socket's schema in the database thread); the consumer never
touches the ORM itself.
"""

from __future__ import annotations

from typing import Any

from control_plane.accounts.roles import Role, role_at_least
from realtime.protocol import Stream, scrub
from tenants.publishing.events import event_payload
from tenants.publishing.models import PublishEvent, PublishRun

REPLAY_PAGE = 500

# The least role that may follow each stream.
STREAM_MIN_ROLE: dict[Stream, str] = {
    Stream.RUN: Role.VIEWER,
    Stream.ORGANIZATION: Role.VIEWER,
}

# The least role that sees each organization notice. Every member sees runs and
# app users today; device events (and anything else sensitive) declare a higher
# minimum with ``notice_type_register`` from their app's ``ready()``. A type
# nobody registered is shown to admins and owners only: a new notice must be
# opened up on purpose, never leak by default.
_NOTICE_MIN_ROLE: dict[str, str] = {
    "run.queued": Role.VIEWER,
    "run.started": Role.VIEWER,
    "run.finished": Role.VIEWER,
    "app_user.changed": Role.VIEWER,
    "app_user.recreated": Role.VIEWER,
}
UNREGISTERED_NOTICE_MIN_ROLE = Role.ADMIN


def notice_type_register(notice_type: str, minimum_role: str) -> None:
    """Declare who sees organization notices of ``notice_type`` (e.g. ``device.changed``)."""
    _NOTICE_MIN_ROLE[notice_type] = Role(minimum_role)


def notice_min_role(notice_type: str) -> str:
    return _NOTICE_MIN_ROLE.get(notice_type, UNREGISTERED_NOTICE_MIN_ROLE)


def may_follow(role: str, stream: Stream) -> bool:
    return role_at_least(role, STREAM_MIN_ROLE[stream])


def may_see_notice(role: str, notice_type: str, declared_min_role: str | None = None) -> bool:
    """True when ``role`` reaches both the registry's minimum and the sender's, if stricter."""
    minimum = notice_min_role(notice_type)
    if declared_min_role in Role.values and role_at_least(declared_min_role, minimum):
        minimum = declared_min_role
    return role_at_least(role, minimum)


def notice_message(schema: str, notice_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message for an organization notice (sinks send it)."""
    return {
        "type": "realtime.org_notice",
        "schema": schema,
        "notice": notice_type,
        "min_role": notice_min_role(notice_type),
        "data": scrub(data),
    }


def run_event_message(schema: str, event: PublishEvent) -> dict[str, Any]:
    """The channel-layer message for a stored run event (sinks send it)."""
    return {"type": "realtime.run_event", "schema": schema, "event": public_event(event)}


def public_event(event: PublishEvent) -> dict[str, Any]:
    payload = event_payload(event)
    payload["data"] = scrub(payload.get("data") or {})
    return payload


# --- tenant-schema reads (run through context.tenant_call) ---------------------------------


def run_status(run_id: int) -> str | None:
    """The run's status, or None when this organization has no such run."""
    return PublishRun.objects.filter(pk=run_id).values_list("status", flat=True).first()


def events_after(run_id: int, after: int, limit: int = REPLAY_PAGE) -> list[dict[str, Any]]:
    """Up to ``limit`` stored events of the run with id > ``after``, oldest first."""
    events = PublishEvent.objects.filter(run_id=run_id, pk__gt=after).order_by("pk")[:limit]
    return [public_event(event) for event in events]


class SeenEvents:
    """Event ids already sent on one run subscription, to send each exactly once.

    Events are sent live as they arrive and replayed from the database; the
    two overlap around the moment of subscribing, and parallel publish
    threads can deliver a lower id just after a higher one. Remembering ids
    (not just the highest) drops true duplicates without dropping a late
    lower id. The set is pruned from below past ``limit`` ids; anything at or
    under the pruned floor counts as seen.
    """

    def __init__(self, after: int = 0, limit: int = 5000) -> None:
        self.floor = after
        self.ids: set[int] = set()
        self.limit = limit

    def add(self, event_id: int) -> bool:
        """Record ``event_id``; False when it was already sent (or is at/below the floor)."""
        if event_id <= self.floor or event_id in self.ids:
            return False
        self.ids.add(event_id)
        if len(self.ids) > self.limit:
            keep = sorted(self.ids)[self.limit // 2 :]
            self.floor = keep[0] - 1
            self.ids = set(keep)
        return True

    @property
    def last(self) -> int:
        return max(self.ids, default=self.floor)
