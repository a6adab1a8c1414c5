"""``GET /healthz/realtime``: is the ASGI server's event loop and channel layer working?

Answered on the event loop itself, ahead of Django (``with_realtime_health``
in ``control_plane.asgi``): it stays truthful when Django's worker threads are
busy, and it round-trips a real group message through the configured layer
(Redis, or PostgreSQL NOTIFY and this process's listener), which is the path
every socket event takes. Django's ``/healthz`` covers the database.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from channels.layers import get_channel_layer

from realtime.groups import health_group

PATH = "/healthz/realtime"
TIMEOUT = 2.0


async def layer_round_trip() -> dict[str, Any]:
    layer = get_channel_layer()
    started = time.perf_counter()
    channel = await layer.new_channel("health.")
    group = health_group(uuid.uuid4().hex)
    try:
        await layer.group_add(group, channel)
        receiving = asyncio.ensure_future(layer.receive(channel))
        deadline = time.monotonic() + TIMEOUT
        # Resend until it arrives: a pub/sub subscription may go live a moment
        # after group_add returns; a healthy layer answers well within the deadline.
        while not receiving.done() and time.monotonic() < deadline:
            await layer.group_send(group, {"type": "health.ping"})
            await asyncio.wait([receiving], timeout=0.25)
        if not receiving.done():
            receiving.cancel()
            raise TimeoutError("no round trip through the channel layer")
        ok = receiving.result().get("type") == "health.ping"
    finally:
        await layer.group_discard(group, channel)
    return {
        "ok": ok,
        "backend": type(layer).__name__,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }


async def health_app(scope: dict, receive: Any, send: Any) -> None:
    try:
        checks = {"channel_layer": await layer_round_trip()}
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks = {"channel_layer": {"ok": False, "error": type(exc).__name__}}
    healthy = all(check["ok"] for check in checks.values())
    body = json.dumps({"status": "ok" if healthy else "unavailable", "checks": checks}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200 if healthy else 503,
            "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def with_realtime_health(django_app: Any) -> Any:
    """Route ``GET /healthz/realtime`` to ``health_app`` and everything else to Django."""

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") == PATH:
            return await health_app(scope, receive, send)
        return await django_app(scope, receive, send)

    return app
