"""Central clients built per organization and server, from the secret store.

Never cached across calls at module level: a client holds one account's
session token in memory, and the organization is whatever schema is active.
"""

from __future__ import annotations

from django.conf import settings

from control_plane.errors import InvalidState
from tenants.publishing import credentials
from tenants.publishing.central import CentralClient
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
    return CentralClient(
        server.base_url,
        username,
        password,
        timeout=settings.CENTRAL_TIMEOUT,
        max_concurrency=max_concurrency or settings.CENTRAL_MAX_CONCURRENCY,
    )
