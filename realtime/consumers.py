"""``/ws/``: one socket per page, multiplexing run and organization streams.

Thin by design: frames are parsed by ``protocol``, permissions and reads
come from ``services`` and ``access`` (always through ``context.tenant_call``
/ ``public_call``, which set the schema per call). The socket's tenant and
identity were settled by the middleware before ``connect``.

Replay without gaps or duplicates: on ``subscribe`` the socket joins the
run's group *first*, then reads stored events after the client's ``after``.
Live events that arrive meanwhile wait in the channel (a consumer handles
one message at a time) and are sent afterwards unless already replayed
(``services.SeenEvents``). An event is always stored before it is sent, so
anything not in the replay arrives live.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import structlog
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from realtime import access, protocol, services
from realtime.context import SocketIdentity, SocketTenant, public_call, tenant_call
from realtime.groups import org_group, run_group
from realtime.protocol import ErrorCode, ProtocolError, Stream

log = structlog.get_logger(__name__)

RATE_PER_SECOND = 20.0
RATE_BURST = 40.0


class _Bucket:
    """Token bucket for client frames: a flood earns ``rate_limited`` errors, not a closed socket."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RealtimeConsumer(AsyncWebsocketConsumer):
    tenant: SocketTenant
    identity: SocketIdentity

    async def connect(self) -> None:
        self.tenant = self.scope["tenant"]
        self.identity = self.scope["identity"]
        self.runs: dict[int, services.SeenEvents] = {}
        self.following_organization = False
        self.next_check = time.monotonic() + _check_interval()
        self.checking: asyncio.Future | None = None
        self.closing = False
        self.bucket = _Bucket(RATE_PER_SECOND, RATE_BURST)
        offered = protocol.SUBPROTOCOL in self.scope.get("subprotocols", ())
        await self.accept(subprotocol=protocol.SUBPROTOCOL if offered else None)
        await self._send(
            {
                "type": "hello",
                "organization": self.tenant.slug,
                "user": self.identity.user_id,
                "role": self.identity.role,
                "auth": self.identity.method,
                "limits": {
                    "max_bytes": settings.REALTIME_MAX_MESSAGE_BYTES,
                    "max_subscriptions": settings.REALTIME_MAX_SUBSCRIPTIONS,
                    "messages_per_second": RATE_PER_SECOND,
                },
            }
        )
        log.info("realtime.connected")

    async def disconnect(self, code: int) -> None:
        if getattr(self, "checking", None) is not None:
            self.checking.cancel()
        groups = [run_group(self.tenant.schema, run_id) for run_id in getattr(self, "runs", {})]
        if getattr(self, "following_organization", False):
            groups.append(org_group(self.tenant.schema))
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        log.info("realtime.disconnected", code=code)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, minus its per-message ``aclose_old_connections``.

        Channels (4.2+) hops to the one database thread before *every* message
        to close stale connections. Live events touch no database, and every
        database call of ours is a ``database_sync_to_async`` that does that
        cleanup around itself, so the hop would only queue every socket's
        deliveries behind one thread (most of the delivery cost measured by
        benchmarks/realtime.py).
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- client frames ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        ref = None
        try:
            if not self.bucket.take():
                raise ProtocolError(ErrorCode.RATE_LIMITED, "Too many messages; slow down.")
            message = protocol.parse(
                text_data, bytes_data, max_bytes=settings.REALTIME_MAX_MESSAGE_BYTES
            )
            ref = message.ref
            if isinstance(message, protocol.Ping):
                await self._send(protocol.with_ref({"type": "pong", "at": _now()}, ref))
            elif await self._still_allowed():
                if isinstance(message, protocol.Subscribe):
                    await self._subscribe(message)
                else:
                    await self._unsubscribe(message)
        except ProtocolError as exc:
            await self._send(protocol.from_protocol_error(exc))
        except Exception:
            log.exception("realtime.receive_failed")
            await self._send(protocol.error(ErrorCode.INTERNAL, "Something went wrong.", ref=ref))

    async def _subscribe(self, message: protocol.Subscribe) -> None:
        if not services.may_follow(self.identity.role, message.stream):
            raise ProtocolError(
                ErrorCode.FORBIDDEN, "Your role may not follow this stream.", ref=message.ref
            )
        if message.stream is Stream.ORGANIZATION:
            await self.channel_layer.group_add(org_group(self.tenant.schema), self.channel_name)
            self.following_organization = True
            await self._send(
                protocol.with_ref({"type": "subscribed", "stream": "organization"}, message.ref)
            )
            return
        run_id = message.run
        if run_id not in self.runs and len(self.runs) >= settings.REALTIME_MAX_SUBSCRIPTIONS:
            raise ProtocolError(
                ErrorCode.TOO_MANY_SUBSCRIPTIONS, "Unsubscribe from a run first.", ref=message.ref
            )
        status = await tenant_call(services.run_status, run_id)
        if status is None:
            # Also what another organization's run id gets: ids are per organization.
            raise ProtocolError(ErrorCode.NOT_FOUND, "No such run.", field="run", ref=message.ref)
        await self.channel_layer.group_add(run_group(self.tenant.schema, run_id), self.channel_name)
        seen = self.runs[run_id] = services.SeenEvents(after=message.after or 0)
        await self._send(
            protocol.with_ref(
                {"type": "subscribed", "stream": "run", "run": run_id, "status": status},
                message.ref,
            )
        )
        replayed, cursor = 0, message.after or 0
        while True:
            page = await tenant_call(services.events_after, run_id, cursor)
            for event in page:
                if seen.add(event["id"]):
                    await self._send(protocol.run_event(event, replayed=True))
                    replayed += 1
            if len(page) < services.REPLAY_PAGE:
                break
            cursor = page[-1]["id"]
        await self._send(
            protocol.with_ref(
                {"type": "replayed", "run": run_id, "count": replayed, "last_event": seen.last},
                message.ref,
            )
        )
        log.info("realtime.subscribed", run=run_id, after=message.after, replayed=replayed)

    async def _unsubscribe(self, message: protocol.Unsubscribe) -> None:
        if message.stream is Stream.ORGANIZATION:
            if self.following_organization:
                await self.channel_layer.group_discard(
                    org_group(self.tenant.schema), self.channel_name
                )
            self.following_organization = False
            body: dict[str, Any] = {"type": "unsubscribed", "stream": "organization"}
        else:
            if self.runs.pop(message.run, None) is not None:
                await self.channel_layer.group_discard(
                    run_group(self.tenant.schema, message.run), self.channel_name
                )
            body = {"type": "unsubscribed", "stream": "run", "run": message.run}
        await self._send(protocol.with_ref(body, message.ref))

    # --- channel-layer messages ------------------------------------------------------------

    async def realtime_run_event(self, message: dict[str, Any]) -> None:
        try:
            if not self._own(message):
                return
            event = message["event"]
            seen = self.runs.get(event["run"])
            if seen is None or not seen.add(event["id"]) or not self._live_allowed():
                return
            await self._send(protocol.run_event(event, replayed=False))
        except Exception:
            log.exception("realtime.run_event_failed")

    async def realtime_org_notice(self, message: dict[str, Any]) -> None:
        try:
            if not self._own(message) or not self.following_organization:
                return
            if not self._live_allowed():
                return
            notice = message["notice"]
            if not services.may_see_notice(self.identity.role, notice, message.get("min_role")):
                return
            await self._send({"type": "org.event", "event": notice, "data": message["data"]})
        except Exception:
            log.exception("realtime.org_notice_failed")

    # --- helpers ---------------------------------------------------------------------------

    def _own(self, message: dict[str, Any]) -> bool:
        """Defence in depth: group names already carry the schema; the message must agree."""
        if message.get("schema") == self.tenant.schema:
            return True
        log.error("realtime.cross_tenant_message_dropped", message_schema=message.get("schema"))
        return False

    async def _still_allowed(self) -> bool:
        """For client frames: re-check access first when a check is due."""
        if not self.closing and time.monotonic() >= self.next_check:
            await self._revalidate()
        return not self.closing

    def _live_allowed(self) -> bool:
        """For live messages: never wait on the database; start a due check alongside.

        Every socket connected at once would otherwise re-check at once, each
        holding its next event behind a query on the shared database thread.
        Checks are spread out (``_check_interval``) and run beside delivery; a
        socket that lost access is closed as soon as its check answers.
        """
        if self.closing:
            return False
        if self.checking is None and time.monotonic() >= self.next_check:
            self.checking = asyncio.ensure_future(self._revalidate())
        return True

    async def _revalidate(self) -> None:
        """Re-check the organization, credential and membership (``access.revalidate``)."""
        try:
            result = await public_call(access.revalidate, self.tenant, self.identity)
        except Exception:
            log.exception("realtime.revalidate_failed")  # keep the socket; retry next time
            result = self.identity
        finally:
            self.next_check = time.monotonic() + _check_interval()
            self.checking = None
        if isinstance(result, SocketIdentity):
            self.identity = result
            return
        if not self.closing:
            log.info("realtime.access_lost", close_code=int(result))
            self.closing = True
            await self.close(code=int(result))

    async def _send(self, message: dict[str, Any]) -> None:
        await self.send(text_data=protocol.encode(message))


def _check_interval() -> float:
    """``REALTIME_REVALIDATE_SECONDS``, give or take a quarter, so checks do not come in waves."""
    return settings.REALTIME_REVALIDATE_SECONDS * random.uniform(0.75, 1.25)  # noqa: S311


def _now() -> str:
    return timezone.now().isoformat()
