"""Re-creating an app user that someone deleted in Central.

We keep the Central id and token of every app user. If the app user is deleted in
Central (its web page, another tool), Central answers 404.1 to anything about that
id, and its key stops working on the devices. A publish run that meets this looks
the app user up, and if it is really gone, makes it again: a new Central id and
token (stored in the secret store), a new QR code (its devices must scan it), an
``app_user.recreated`` notice and an audit event. If Central still lists it, the
404 was about something else and the caller's error stands.
"""

from __future__ import annotations

import structlog
from django.db import connection, transaction

from tenants.audit.services import audit_record
from tenants.publishing import credentials
from tenants.publishing.events import organization_notice
from tenants.publishing.models import AppUser
from tenants.secretstore.services.secrets import secret_put
from tenants.secretstore.store import secret_store

log = structlog.get_logger(__name__)


def app_user_gone_in_central(app_user: AppUser, client) -> bool:
    """Whether Central no longer has the app user under its stored id (one list request)."""
    if app_user.central_id is None:
        return False
    live = client.list_app_users(app_user.project.central_project_id)
    return not any(u.get("id") == app_user.central_id and not u.get("deletedAt") for u in live)


def app_user_recreate_central(
    app_user: AppUser, client, *, checked: bool = False, run_id: int | None = None
) -> tuple[int, str] | None:
    """Make the app user again in Central if it was deleted there; its new (id, token).

    Returns None when Central still has it (nothing done). ``checked`` says the caller
    already knows it is gone (from a list fetched in this run), which saves a request.
    Another job that re-created it first wins: its id is used, ours is not stored.
    """
    stale_id = app_user.central_id
    if not checked and not app_user_gone_in_central(app_user, client):
        return None
    project = app_user.project
    winner = _recreated_by_someone_else(app_user, stale_id)
    if winner is not None:
        return winner
    created = client.create_app_user(project.central_project_id, app_user.name)
    with transaction.atomic():
        updated = AppUser.objects.filter(pk=app_user.pk, central_id=stale_id).update(
            central_id=created["id"], qr_inputs_sha256=""
        )
        if not updated:
            log.warning("app_user.recreate_lost_race", app_user=app_user.pk, orphan=created["id"])
            return _recreated_by_someone_else(app_user, stale_id)
        secret_put(credentials.app_user_token(app_user.pk), created["token"], actor=None)
        audit_record(
            "publishing.app_user.recreated",
            actor=None,
            target=app_user,
            data={"old_central_id": stale_id, "central_id": created["id"], "run": run_id},
        )
        organization_notice(
            "app_user.changed", {"id": app_user.pk, "project": project.pk, "change": "recreated"}
        )
        organization_notice(
            "app_user.recreated",
            {
                "id": app_user.pk,
                "project": project.pk,
                "central_id": created["id"],
                "old_central_id": stale_id,
            },
        )
        from tenants.publishing.tasks import sync_app_user

        # The QR code carries the token: draw it again (the job sees the new token).
        sync_app_user.defer(schema_name=connection.schema_name, app_user_id=app_user.pk)
    app_user.central_id, app_user.qr_inputs_sha256 = created["id"], ""
    log.info("app_user.recreated", app_user=app_user.pk, central_id=created["id"], old=stale_id)
    return created["id"], created["token"]


def _recreated_by_someone_else(app_user: AppUser, stale_id: int | None) -> tuple[int, str] | None:
    """The id and token another job stored since ``stale_id`` was read, if any."""
    current = AppUser.objects.filter(pk=app_user.pk).values_list("central_id", flat=True).first()
    if current is None or current == stale_id:
        return None
    token = secret_store().get_optional(credentials.app_user_token(app_user.pk))
    if token is None:
        return None
    app_user.central_id = current
    return current, token.reveal()
