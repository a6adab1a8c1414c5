"""Central clients built per organization and server, from the secret store.

Clients are not cached; the Central *session* is: every client for the same
organization (the active schema), server URL and credentials uses one session
slot of this process (``central/sessions.py``), so jobs do not log in each time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from control_plane.errors import InvalidState
from tenants.publishing import credentials
from tenants.publishing.central import CentralClient
from tenants.publishing.central.sessions import (
    SessionKey,
    credentials_fingerprint,
    session_registry,
)
from tenants.publishing.central.transport import normalize_base_url
from tenants.publishing.models import CentralServer
from tenants.secretstore.store import secret_store


def central_client_for(
    server: CentralServer, *, max_concurrency: int | None = None
) -> CentralClient:
    secrets = secret_store().get_many(
        [credentials.central_username(server.pk), credentials.central_password(server.pk)]
    )
    try:
        username = secrets[credentials.central_username(server.pk)].reveal()
        password = secrets[credentials.central_password(server.pk)].reveal()
    except KeyError as exc:
        raise InvalidState(
            "This server has no stored credentials; edit it and enter them again.",
            code="central_credentials_missing",
        ) from exc
    key = SessionKey(
        schema=connection.schema_name,
        base_url=normalize_base_url(server.base_url),
        fingerprint=credentials_fingerprint(username, password),
    )
    return CentralClient(
        server.base_url,
        username,
        password,
        timeout=settings.CENTRAL_TIMEOUT,
        max_concurrency=max_concurrency or settings.CENTRAL_MAX_CONCURRENCY,
        session_slot=session_registry().slot(key),
    )


def central_sessions_end(
    base_url: str, *, schema: str | None = None, keep_credentials: tuple[str, str] | None = None
) -> int:
    """Log out an organization's cached sessions on ``base_url`` (in this process).

    ``schema`` defaults to the active one; ``keep_credentials`` spares the session
    of those credentials (the ones just saved).
    """
    keep = credentials_fingerprint(*keep_credentials) if keep_credentials else None
    return session_registry().end_server(
        schema or connection.schema_name, normalize_base_url(base_url), keep=keep
    )
