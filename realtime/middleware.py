"""ASGI middleware for sockets: tenant by host, then origin and credentials.

``TenantSocketMiddleware`` resolves the ``Host`` header to an organization
with the very lookup HTTP uses and makes it the socket's tenant for the
connection's lifetime (``context.activate``: a context variable of the
connection's own task, so two sockets of different organizations in one
process never share it; every database call then sets the schema itself, see
``context.tenant_call``). ``SocketAuthMiddleware`` checks the origin and the
credential and requires a membership.

A refused handshake is accepted and then closed with a close code from
``protocol.CloseCode``: a handshake refused before ``accept`` reaches a
browser as a bare HTTP 403 with no reason, and clients need to tell "log in
again" (4401) from "wrong address" (4404).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs

import structlog
from django.conf import settings
from django.http.cookie import parse_cookie

from control_plane.client_address import client_address_of_scope
from control_plane.logging_setup import bind_context, clear_context
from realtime import access
from realtime.context import SocketIdentity, SocketTenant, activate, deactivate, public_call
from realtime.protocol import SUBPROTOCOL, CloseCode

log = structlog.get_logger(__name__)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def header(scope: dict[str, Any], name: bytes) -> str | None:
    """A request header as text; repeated headers are joined as HTTP allows (cookies by ``;``)."""
    values = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name]
    if not values:
        return None
    return ("; " if name == b"cookie" else ", ").join(values)


async def refuse(scope: dict, receive: Any, send: Any, code: CloseCode, reason: str) -> None:
    """Finish the handshake and close at once with ``code``, logging why (never credentials)."""
    log.info("realtime.refused", close_code=int(code), reason=reason, path=scope.get("path"))
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    accept: dict[str, Any] = {"type": "websocket.accept"}
    if SUBPROTOCOL in scope.get("subprotocols", ()):
        accept["subprotocol"] = SUBPROTOCOL
    await send(accept)
    await send({"type": "websocket.close", "code": int(code)})


_CLOSED_HOST = frozenset({CloseCode.UNKNOWN_HOST, CloseCode.SUSPENDED, CloseCode.NOT_READY})


def _has_credentials(scope: dict[str, Any]) -> bool:
    """A token, a ticket or a session cookie (valid or not): what an anonymous client lacks."""
    if header(scope, b"authorization") is not None:
        return True
    if b"ticket=" in scope.get("query_string", b""):
        return True
    return bool(parse_cookie(header(scope, b"cookie") or "").get(settings.SESSION_COOKIE_NAME))


class TenantSocketMiddleware:
    """Resolve the host to an organization and activate it for the connection's lifetime."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        clear_context()
        incoming = header(scope, b"x-request-id") or ""
        request_id = incoming if _REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        bind_context(
            request_id=request_id,
            transport="websocket",
            client_address=client_address_of_scope(scope),
        )
        tenant = await public_call(access.resolve_tenant, header(scope, b"host"))
        if not isinstance(tenant, SocketTenant):
            if tenant in _CLOSED_HOST and not _has_credentials(scope):
                tenant = access.anonymous_refusal(header(scope, b"host"), header(scope, b"origin"))
            return await refuse(scope, receive, send, tenant, "host")
        bind_context(tenant=tenant.schema)
        token = activate(tenant)
        try:
            return await self.inner({**scope, "tenant": tenant}, receive, send)
        finally:
            deactivate(token)


class SocketAuthMiddleware:
    """Check the origin, then authenticate (token, ticket or session) and require membership."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        tenant: SocketTenant = scope["tenant"]
        if not access.origin_allowed(header(scope, b"origin"), tenant):
            return await refuse(scope, receive, send, CloseCode.ORIGIN_REJECTED, "origin")
        try:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"), max_num_fields=10)
        except ValueError:
            return await refuse(scope, receive, send, CloseCode.BAD_REQUEST, "query")
        tickets = query.get("ticket") or [None]
        identity = await public_call(
            access.authenticate,
            tenant,
            authorization=header(scope, b"authorization"),
            ticket=tickets[0],
            cookie=header(scope, b"cookie"),
        )
        if not isinstance(identity, SocketIdentity):
            return await refuse(scope, receive, send, identity, "credentials")
        bind_context(user_id=identity.user_id, auth=identity.method)
        return await self.inner({**scope, "identity": identity}, receive, send)


def RealtimeMiddlewareStack(inner: Any) -> Any:  # noqa: N802 - named like Channels' stacks
    return TenantSocketMiddleware(SocketAuthMiddleware(inner))
