"""Central servers: validated (https, no internal addresses, a working login) before saving."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from control_plane.errors import ServiceError
from tenants.audit.services import audit_record
from tenants.publishing import credentials
from tenants.publishing.central import CentralClient
from tenants.publishing.central.errors import CentralAuthError, CentralError
from tenants.publishing.models import CentralServer
from tenants.publishing.network import check_server_url
from tenants.publishing.services.clients import central_sessions_end
from tenants.secretstore.services.secrets import secret_delete, secret_put
from tenants.secretstore.store import secret_store

LOGIN_PROBE_TIMEOUT = 10.0


class CentralServerInvalid(ServiceError):
    code = "central_server_invalid"


def mask_username(username: str) -> str:
    """``alice@example.org`` → ``a***@example.org`` (lists show who, not the exact login)."""
    local, _, domain = username.partition("@")
    return f"{local[:1]}***@{domain}" if domain else f"{username[:1]}***"


def _probe(base_url: str, username: str, password: str) -> None:
    """Log in once to check the credentials, then log out: a probe leaves no session behind."""
    client = CentralClient(base_url, username, password, timeout=LOGIN_PROBE_TIMEOUT, retries=0)
    try:
        client.probe_login()
    except CentralAuthError as exc:
        raise CentralServerInvalid(
            "Central refused this username and password.",
            code="central_login_refused",
            field="password",
        ) from exc
    except CentralError as exc:
        # A network failure's message already names the server and the sign-in.
        detail = exc.message if exc.status is None else f"Central answered: {exc.message}"
        raise CentralServerInvalid(
            f"Central could not be reached at this address. {detail}",
            code="central_unreachable",
            field="base_url",
        ) from exc
    finally:
        client.close()


def central_server_save(
    *,
    actor: Any,
    name: str,
    base_url: str,
    username: str,
    password: str = "",
    server: CentralServer | None = None,
) -> CentralServer:
    """Create or update a server. A blank password on edit keeps the stored one, unless the
    address changes: a new address needs the password typed again.

    The URL is checked (scheme, SSRF) before any request, then a login probe
    must succeed; only then are the row and the credentials written.
    """
    name = (name or "").strip()
    username = (username or "").strip()
    if not name:
        raise ValidationError({"name": "Give the server a name."})
    if not username:
        raise ValidationError({"username": "Enter the Central account's email."})
    url = check_server_url(base_url)
    if server is None and not password:
        raise ValidationError({"password": "Enter the Central account's password."})
    if server is not None and not password:
        if url != server.base_url:
            # The stored password is only ever sent to the address it was saved for:
            # otherwise anyone allowed to edit the URL could have it sent to their server.
            raise ValidationError(
                {"password": "Enter the password again to change the server's address."}
            )
        password = secret_store().get(credentials.central_password(server.pk)).reveal()
    clash = CentralServer.objects.filter(base_url=url)
    if server is not None:
        clash = clash.exclude(pk=server.pk)
    if clash.exists():
        raise ValidationError({"base_url": "This server is already registered."})
    _probe(url, username, password)
    previous_url = server.base_url if server is not None else None
    with transaction.atomic():
        created = server is None
        server = server or CentralServer()
        server.name, server.base_url = name, url
        server.username_hint = mask_username(username)
        server.verified_at = timezone.now()
        server.save()
        secret_put(credentials.central_username(server.pk), username, actor=actor)
        secret_put(credentials.central_password(server.pk), password, actor=actor)
        audit_record(
            "publishing.central_server.created" if created else "publishing.central_server.updated",
            actor=actor,
            target=server,
            data={"base_url": url},
        )
        if previous_url is not None:
            transaction.on_commit(
                partial(
                    _end_old_sessions,
                    connection.schema_name,
                    previous_url,
                    url,
                    (username, password),
                )
            )
    return server


def _end_old_sessions(schema: str, previous_url: str, url: str, saved: tuple[str, str]) -> None:
    """After an edit, log out cached sessions made with old credentials or the old address."""
    keep = saved if previous_url == url else None
    central_sessions_end(previous_url, schema=schema, keep_credentials=keep)


def central_server_delete(server: CentralServer, *, actor: Any) -> None:
    if server.projects.exists():
        raise ServiceError("Remove this server's projects first.", code="server_in_use")
    with transaction.atomic():
        server_id, label = server.pk, str(server)
        transaction.on_commit(
            partial(central_sessions_end, server.base_url, schema=connection.schema_name)
        )
        server.delete()
        secret_delete(credentials.central_username(server_id), actor=actor)
        secret_delete(credentials.central_password(server_id), actor=actor)
        audit_record("publishing.central_server.deleted", actor=actor, target_label=label)
