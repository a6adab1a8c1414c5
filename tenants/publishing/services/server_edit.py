"""Partial updates of a Central server (the API's PATCH), on top of ``central_server_save``.

``central_server_save`` takes every field, as the web form sends them all;
an API client sends only what changes. Missing fields are taken from the
row and the stored username, so the same validation and login probe run.
"""

from __future__ import annotations

from typing import Any

from tenants.publishing import credentials
from tenants.publishing.models import CentralServer
from tenants.publishing.services.servers import central_server_save
from tenants.secretstore.store import secret_store


def central_server_update(
    server: CentralServer,
    *,
    actor: Any,
    name: str | None = None,
    base_url: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> CentralServer:
    """Change some fields; a missing or blank password keeps the stored one."""
    if username is None:
        username = secret_store().get(credentials.central_username(server.pk)).reveal()
    return central_server_save(
        actor=actor,
        server=server,
        name=server.name if name is None else name,
        base_url=server.base_url if base_url is None else base_url,
        username=username,
        password=password or "",
    )
