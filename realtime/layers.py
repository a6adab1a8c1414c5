"""Channel layers, and sending to a group from sync code in any process.

Modes, chosen in settings by ``REDIS_URL`` (docs/realtime.md):

* **Redis** (CI, production): channels-redis' pub/sub layer by default - a
  group send is one ``PUBLISH``, pushed to every server process subscribed to
  the group, which fans out to its own sockets - or its list-based layer
  (``REALTIME_REDIS_LAYER=core``).
* **Embedded** (no Redis): ``PostgresChannelLayer`` below. Groups and
  channels live in the memory of the server process that holds the sockets
  (sockets only ever join groups there); a group send from *any* process -
  the job worker included - is a PostgreSQL ``NOTIFY`` that every server
  process ``LISTEN``s for and fans out locally. No broker beyond the database
  the product already needs, and several server processes work too.

``group_send_from_sync`` is what sinks call from sync code (job threads,
views): a ``NOTIFY`` on the caller's own connection (hence transactional), a
``PUBLISH`` from the calling thread, or for the list layer a call on one
long-lived event-loop thread per process - never ``async_to_sync``, which
would make (and leak) a new event loop and Redis connection per event.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from typing import Any

import psycopg
import structlog
from channels.layers import DEFAULT_CHANNEL_LAYER, InMemoryChannelLayer, channel_layers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import connection, connections
from psycopg import sql

log = structlog.get_logger(__name__)

# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; larger messages
# go through a table and the notification carries the row id.
MAX_NOTIFY_BYTES = 7900
OVERFLOW_TABLE = "public.realtime_overflowmessage"
OVERFLOW_KEEP = "10 minutes"
SEND_TIMEOUT = 5.0


def _encode(group: str, message: dict[str, Any]) -> str:
    return json.dumps({"g": group, "m": message}, separators=(",", ":"), default=str)


def _conninfo() -> str:
    """Connection string of Django's default database (the test database under pytest)."""
    settings_dict = connections["default"].settings_dict
    params = {
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": str(settings_dict.get("PORT") or ""),
        "application_name": "pmdm-realtime",
    }
    return psycopg.conninfo.make_conninfo(**{key: value for key, value in params.items() if value})


class _LoopState:
    """The LISTEN task and connections of one event loop (daphne has one; tests one per test)."""

    def __init__(self, layer: PostgresChannelLayer) -> None:
        self.layer = layer
        self.ready = asyncio.Event()
        self.sender: psycopg.AsyncConnection | None = None
        self.fetcher: psycopg.AsyncConnection | None = None
        self.send_lock = asyncio.Lock()
        self.task = asyncio.get_running_loop().create_task(self._listen(), name="realtime-listen")

    async def _listen(self) -> None:
        backoff = 0.2
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(_conninfo(), autocommit=True)
                try:
                    listen = sql.SQL("LISTEN {}").format(sql.Identifier(self.layer.notify_channel))
                    await conn.execute(listen)
                    self.ready.set()
                    backoff = 0.2
                    async for note in conn.notifies():
                        await self._dispatch(note.payload)
                finally:
                    self.ready.clear()
                    await conn.close()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect whatever went wrong
                log.warning("realtime.listener_lost", error=type(exc).__name__, retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _dispatch(self, payload: str) -> None:
        try:
            body = json.loads(payload)
            if "r" in body:
                body = json.loads(await self._fetch_overflow(int(body["r"])))
            self.layer.deliver_local(body["g"], body["m"])
        except Exception as exc:  # noqa: BLE001 - one bad notification must not stop the rest
            log.warning("realtime.notification_dropped", error=type(exc).__name__)

    async def _fetch_overflow(self, row_id: int) -> str:
        if self.fetcher is None or self.fetcher.closed:
            self.fetcher = await psycopg.AsyncConnection.connect(_conninfo(), autocommit=True)
        cursor = await self.fetcher.execute(
            f"SELECT payload FROM {OVERFLOW_TABLE} WHERE id = %s",  # noqa: S608 - constant
            [row_id],
        )
        row = await cursor.fetchone()
        if row is None:
            raise LookupError(row_id)
        return row[0]

    async def notify(self, payload: str) -> None:
        async with self.send_lock:
            if self.sender is None or self.sender.closed:
                self.sender = await psycopg.AsyncConnection.connect(_conninfo(), autocommit=True)
            await _notify_async(self.sender, self.layer.notify_channel, payload)

    async def close(self) -> None:
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
        for conn in (self.sender, self.fetcher):
            if conn is not None:
                await conn.close()


class PostgresChannelLayer(InMemoryChannelLayer):
    """In-process channels and groups; group sends cross processes via LISTEN/NOTIFY."""

    def __init__(
        self,
        channel: str = "pmdm",
        expiry: int = 60,
        group_expiry: int = 86400,
        capacity: int = 100,
        channel_capacity: dict | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            expiry=expiry,
            group_expiry=group_expiry,
            capacity=capacity,
            channel_capacity=channel_capacity,
            **kwargs,
        )
        if not re.fullmatch(settings.REALTIME_CHANNEL_PREFIX_PATTERN, channel):
            # Settings refuse a bad REALTIME_CHANNEL_PREFIX at start-up; this guards direct use.
            raise ImproperlyConfigured(f"Not a usable LISTEN channel prefix: {channel!r}")
        self.notify_channel = f"{channel}_realtime"
        self._states: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        self._cleaned_at = 0.0

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        for other in [other for other in self._states if other.is_closed()]:
            del self._states[other]
        state = self._states.get(loop)
        if state is None or state.task.done():
            state = self._states[loop] = _LoopState(self)
        return state

    async def group_add(self, group: str, channel: str) -> None:
        """Join locally, and make sure this process is listening before returning.

        Subscribers replay from the database *after* joining, so anything
        stored later must reach them: returning only once LISTEN is active
        guarantees that.
        """
        await super().group_add(group, channel)
        await asyncio.wait_for(self._state().ready.wait(), timeout=SEND_TIMEOUT)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.require_valid_group_name(group)
        await self._state().notify(_encode(group, message))

    def group_send_sync(self, group: str, message: dict[str, Any]) -> None:
        """NOTIFY on the calling thread's Django connection (sent when its transaction commits).

        Straight on the driver connection: django-tenants' cursor would first
        set the ``search_path``, a round trip nothing here needs.
        """
        self.require_valid_group_name(group)
        payload = _encode(group, message)
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            if len(payload.encode()) <= MAX_NOTIFY_BYTES:
                cursor.execute("SELECT pg_notify(%s, %s)", [self.notify_channel, payload])
                return
            cursor.execute(_OVERFLOW_SQL, [payload, self.notify_channel])
            cursor.execute(_OVERFLOW_CLEANUP_SQL)

    async def receive(self, channel: str) -> dict[str, Any]:
        """The in-memory layer's receive without its sweep of every channel on every call.

        ``deliver_local`` sweeps expired messages once a second instead; with
        hundreds of sockets the per-receive sweep was most of the server's work.
        """
        self.require_valid_channel_name(channel)
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            _, message = await queue.get()
        finally:
            if queue.empty() and self.channels.get(channel) is queue:
                del self.channels[channel]
        return message

    def deliver_local(self, group: str, message: dict[str, Any]) -> None:
        """Put a message on every local channel of ``group`` (called by the listener)."""
        now = time.time()
        if now - self._cleaned_at > 1.0:
            self._cleaned_at = now
            self._clean_expired()
        for channel in list(self.groups.get(group, {})):
            queue = self.channels.setdefault(
                channel, asyncio.Queue(maxsize=self.get_capacity(channel))
            )
            try:
                # One decoded dict per notification, shared read-only by the group's consumers.
                queue.put_nowait((now + self.expiry, message))
            except asyncio.QueueFull:
                log.warning("realtime.channel_full", group=group)

    async def close(self) -> None:
        """Stop listening on the current event loop (tests; daphne keeps it for its lifetime)."""
        loop = asyncio.get_running_loop()
        state = self._states.pop(loop, None)
        if state is not None:
            await state.close()


_OVERFLOW_SQL = f"""
    WITH stored AS (
        INSERT INTO {OVERFLOW_TABLE} (payload, created_at) VALUES (%s, now()) RETURNING id
    )
    SELECT pg_notify(%s, json_build_object('r', stored.id)::text) FROM stored
"""  # noqa: S608 - the table name is a constant
_OVERFLOW_CLEANUP_SQL = (
    f"DELETE FROM {OVERFLOW_TABLE} WHERE created_at < now() - interval '{OVERFLOW_KEEP}'"  # noqa: S608
)


async def _notify_async(conn: psycopg.AsyncConnection, channel: str, payload: str) -> None:
    if len(payload.encode()) <= MAX_NOTIFY_BYTES:
        await conn.execute("SELECT pg_notify(%s, %s)", [channel, payload])
    else:
        await conn.execute(_OVERFLOW_SQL, [payload, channel])


# --- sending from sync code ---------------------------------------------------------------


class _PubSubPublisher:
    """``PUBLISH`` from the calling thread, in the wire format of channels-redis' pub/sub layer.

    A group send on that layer is one ``PUBLISH`` of the serialized message to
    ``<prefix>__group__<group>``; doing it with a thread-safe sync client saves
    a hop to the sender loop (and its GIL hand-offs) on every event. Used when
    the layer has a single Redis host; tests check that what it publishes
    reaches sockets served by the real async layer.
    """

    def __init__(self, layer: Any, config: dict[str, Any]) -> None:
        import redis

        [host] = config["hosts"]
        host = {"address": host} if isinstance(host, str) else dict(host)
        self.layer = layer
        self.prefix = config.get("prefix", "asgi")
        self.client = redis.Redis.from_url(host.pop("address"), **host)

    def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.client.publish(f"{self.prefix}__group__{group}", self.layer.serialize(message))


class _SenderLoop:
    """One event loop thread per process, with its own layer instance, for other layers."""

    def __init__(self) -> None:
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="realtime-sender", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run_forever()
        finally:
            # Closed here, on its own thread once stopped: channels-redis hooks
            # loop.close() to await the release of that loop's connections. A loop
            # left unclosed was closed by the garbage collector at some random
            # moment, often on a thread running another loop, where that release
            # cannot run ("coroutine RedisLoopLayer.flush was never awaited").
            self.loop.close()

    def group_send(self, group: str, message: dict[str, Any]) -> None:
        future = asyncio.run_coroutine_threadsafe(self.layer.group_send(group, message), self.loop)
        future.result(timeout=SEND_TIMEOUT)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=SEND_TIMEOUT)


_sender: tuple[int, Any] | None = None  # (pid, sender)
_sender_lock = threading.Lock()


def _make_sender(layer: Any) -> Any:
    from channels_redis.pubsub import RedisPubSubChannelLayer

    config = channel_layers.configs[DEFAULT_CHANNEL_LAYER].get("CONFIG", {})
    if isinstance(layer, RedisPubSubChannelLayer) and len(config.get("hosts", [])) == 1:
        return _PubSubPublisher(layer, config)
    return _SenderLoop()


def group_send_from_sync(group: str, message: dict[str, Any]) -> None:
    """Send ``message`` to ``group`` from sync code, whichever layer is configured."""
    global _sender
    layer = channel_layers[DEFAULT_CHANNEL_LAYER]
    if isinstance(layer, PostgresChannelLayer):
        layer.group_send_sync(group, message)
        return
    with _sender_lock:
        if _sender is None or _sender[0] != os.getpid():
            _sender = (os.getpid(), _make_sender(layer))
        sender = _sender[1]
    sender.group_send(group, message)


def _reset_sender(setting: str, **kwargs: Any) -> None:
    global _sender
    if setting == "CHANNEL_LAYERS" and _sender is not None:
        with _sender_lock:
            if isinstance(_sender[1], _SenderLoop):
                _sender[1].stop()
            _sender = None


setting_changed.connect(_reset_sender)
