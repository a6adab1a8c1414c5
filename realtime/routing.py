"""WebSocket routes, wrapped in the tenant and authentication middleware."""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter
from django.urls import path

from realtime.consumers import RealtimeConsumer
from realtime.middleware import RealtimeMiddlewareStack, refuse
from realtime.protocol import CloseCode

websocket_urlpatterns = [
    path("ws/", RealtimeConsumer.as_asgi()),
]


async def _unknown_path(scope: dict, receive: Any, send: Any) -> None:
    await refuse(scope, receive, send, CloseCode.BAD_REQUEST, "path")


def websocket_application() -> Any:
    """The ASGI app for ``websocket`` scopes (tenant first, then credentials, then routes)."""
    from django.urls import re_path

    return RealtimeMiddlewareStack(URLRouter([*websocket_urlpatterns, re_path(r"", _unknown_path)]))
