"""Who and where a socket is, and how its database work finds the right schema.

django-tenants keeps the tenant on the thread's database connection, but a
socket's database work runs through ``database_sync_to_async`` on threads
shared by every socket in the process: whatever ``search_path`` a connection
was left with belongs to whichever socket used it last. So the tenant of a
socket lives in a context variable set by the middleware for the
connection's lifetime (asyncio copies it into the connection's task and
``sync_to_async`` into each thread hop), and ``tenant_call`` sets the schema
explicitly at the start of *every* sync call and resets it to ``public`` at
the end. Nothing relies on what a connection had.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.db import connection

T = TypeVar("T")


@dataclass(frozen=True)
class SocketTenant:
    """The organization a socket's host resolved to (plain data, safe to share)."""

    schema: str
    organization_id: int
    slug: str
    hosts: frozenset[str]


@dataclass(frozen=True)
class SocketIdentity:
    """Who authenticated the socket, and with which credential."""

    user_id: int
    role: str
    method: str  # "session", "token" or "ticket"
    token_id: int | None = None
    # Kept to re-check the session later; never logged or sent (repr=False).
    session_key: str | None = field(default=None, repr=False)


_TENANT: ContextVar[SocketTenant | None] = ContextVar("realtime_tenant", default=None)


def activate(tenant: SocketTenant) -> Any:
    """Make ``tenant`` the socket's tenant for the rest of this task; returns a reset token."""
    return _TENANT.set(tenant)


def deactivate(token: Any) -> None:
    _TENANT.reset(token)


def current_tenant() -> SocketTenant:
    tenant = _TENANT.get()
    if tenant is None:
        raise RuntimeError("No socket tenant is active; is the realtime middleware installed?")
    return tenant


def run_in_schema(schema: str, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``function`` with ``schema`` active on this thread's connection, then go public."""
    connection.set_schema(schema)
    try:
        return function(*args, **kwargs)
    finally:
        connection.set_schema_to_public()


async def tenant_call(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run sync ``function`` in a database thread, inside the current socket's schema."""
    schema = current_tenant().schema
    return await database_sync_to_async(run_in_schema)(schema, function, *args, **kwargs)


async def public_call(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run sync ``function`` in a database thread against the control plane (public)."""
    return await database_sync_to_async(run_in_schema)("public", function, *args, **kwargs)
