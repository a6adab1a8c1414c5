"""App users: created locally, made in Central in the background, with their QR codes."""

from __future__ import annotations

from typing import Any

import structlog
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from control_plane.errors import Conflict, InvalidState
from control_plane.storage import tenant_path
from tenants.audit.services import actor_fields, audit_record
from tenants.publishing import credentials
from tenants.publishing.central.errors import CentralNotFound
from tenants.publishing.collect_settings import (
    collect_settings,
    encode_settings,
    qr_png,
    settings_fingerprint,
)
from tenants.publishing.events import organization_notice
from tenants.publishing.models import NAME_IN_FORMS, AppUser, AppUserRevocation, Project
from tenants.publishing.services.app_user_revoke import revoking_central_ids
from tenants.publishing.services.variables import admin_password_for
from tenants.secretstore.services.secrets import secret_delete, secret_put
from tenants.secretstore.store import secret_store

log = structlog.get_logger(__name__)


class AppUserGone(InvalidState):
    """The app user was deleted here while we were making it in Central."""


def validate_app_user_name(name: str) -> str:
    name = (name or "").strip()
    try:
        NAME_IN_FORMS(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from exc
    return name


def app_user_create(*, actor: Any, project: Project, name: str) -> AppUser:
    """Create the app user here and queue its creation in Central (and its QR code)."""
    name = validate_app_user_name(name)
    if AppUser.objects.filter(project=project, name__iexact=name).exists():
        raise Conflict(
            f"An app user named {name} already exists in this project.",
            code="app_user_exists",
            field="name",
        )
    try:
        with transaction.atomic():
            app_user = AppUser.objects.create(project=project, name=name)
            audit_record("publishing.app_user.created", actor=actor, target=app_user)
            organization_notice(
                "app_user.changed", {"id": app_user.pk, "project": project.pk, "change": "created"}
            )
            from tenants.publishing.tasks import sync_app_user

            sync_app_user.defer(schema_name=_schema(), app_user_id=app_user.pk)
    except IntegrityError as exc:
        raise Conflict(
            f"An app user named {name} already exists in this project.",
            code="app_user_exists",
            field="name",
        ) from exc
    return app_user


def app_user_delete(app_user: AppUser, *, actor: Any) -> AppUserRevocation | None:
    """Delete the app user here now, and in Central in the background.

    Its row, values, form assignments, token and QR code go at once. If it
    exists in Central, a revocation is recorded and ``publishing.revoke_app_user``
    queued in the same transaction: Central then deletes the app user, so its
    key (on every device set up with the QR code) stops working. Its
    submissions stay in Central. Returns the revocation, or None if the app user
    was never created in Central.
    """
    from tenants.publishing.tasks import revoke_app_user

    with transaction.atomic():
        # Locked: a sync job about to store a new Central id waits, then finds no row.
        locked = (
            AppUser.objects.select_for_update().select_related("project").filter(pk=app_user.pk)
        )
        app_user = locked.first()
        if app_user is None:
            return None  # deleted by someone else meanwhile: their deletion revokes it
        label, pk, project, qr_code = app_user.name, app_user.pk, app_user.project, app_user.qr_code
        revocation = None
        if app_user.central_id is not None:
            revocation = AppUserRevocation.objects.create(
                server_id=project.server_id,
                project=project,
                central_project_id=project.central_project_id,
                central_id=app_user.central_id,
                app_user_id=pk,
                app_user_name=label,
                requested_by_label=actor_fields(actor)["actor_label"],
            )
            revoke_app_user.defer(schema_name=_schema(), revocation_id=revocation.pk)
        app_user.delete()
        audit_record(
            "publishing.app_user.deleted",
            actor=actor,
            target_label=label,
            data={"central": "revoking" if revocation else "not_created", "project": project.pk},
        )
        organization_notice(
            "app_user.changed", {"id": pk, "project": project.pk, "change": "deleted"}
        )
        transaction.on_commit(lambda: _forget_app_user(pk, qr_code, actor=actor))
    return revocation


def _forget_app_user(app_user_id: int, qr_code: str, *, actor: Any) -> None:
    """Remove the deleted app user's token, admin password and QR code (they hold its key).

    Runs after the deletion committed: a failure here leaves an unused secret or
    file behind (logged), never a half-deleted app user or an error page.
    """
    try:
        for name in (
            credentials.app_user_token(app_user_id),
            credentials.app_user_admin_password(app_user_id),
        ):
            secret_delete(name, actor=actor)
        if qr_code and default_storage.exists(qr_code):
            default_storage.delete(qr_code)
    except Exception as exc:  # noqa: BLE001 - cleanup after commit must not fail the request
        log.warning("app_user.cleanup_failed", app_user=app_user_id, error=str(exc))


def _schema() -> str:
    from django.db import connection

    return connection.schema_name


def app_user_ensure_central(
    app_user: AppUser, client, *, store=None, remote_users: dict[str, dict] | None = None
) -> tuple[int, str]:
    """The app user's Central id and token, creating it in Central if missing.

    Checks Central's list before creating, so a retry after a crash between
    Central's answer and our save finds the existing app user instead of
    making a second one. A publish run passes ``remote_users`` (Central's list,
    fetched once per run by display name) instead of one list per app user.
    """
    store = store or secret_store()
    token_name = credentials.app_user_token(app_user.pk)
    token = store.get_optional(token_name)
    if app_user.central_id and token is not None:
        return app_user.central_id, token.reveal()
    project = app_user.project
    revoking = revoking_central_ids(project)
    if remote_users is not None:  # the run's list: no request per app user
        existing = remote_users.get(app_user.name)
        if existing is not None and existing.get("id") in revoking:
            existing = None
    else:
        existing = next(
            (
                u
                for u in client.list_app_users(project.central_project_id)
                if u.get("displayName") == app_user.name
                and not u.get("deletedAt")
                and u.get("id") not in revoking
            ),
            None,
        )
    if existing is None or not existing.get("token"):
        existing = client.create_app_user(project.central_project_id, app_user.name)
    if not AppUser.objects.filter(pk=app_user.pk).update(central_id=existing["id"]):
        _discard_orphan(client, project.central_project_id, existing["id"])
        raise AppUserGone(f"The app user {app_user.name} was deleted.", code="app_user_deleted")
    app_user.central_id = existing["id"]
    secret_put(token_name, existing["token"], actor=None)
    return existing["id"], existing["token"]


def _discard_orphan(client, central_project_id: int, central_id: int) -> None:
    """The app user was deleted here while Central was making it: delete it there too."""
    try:
        client.delete_app_user(central_project_id, central_id)
    except CentralNotFound:
        pass


def remote_app_users(client, central_project_id: int) -> dict[str, dict]:
    """Central's live app users of a project by display name."""
    return {
        u["displayName"]: u
        for u in client.list_app_users(central_project_id)
        if not u.get("deletedAt") and u.get("displayName")
    }


def app_user_settings(app_user: AppUser, *, store=None) -> dict | None:
    """Collect settings of the app user, or None while it has no Central token yet."""
    store = store or secret_store()
    token = store.get_optional(credentials.app_user_token(app_user.pk))
    if token is None:
        return None
    project = app_user.project
    return collect_settings(
        central_base_url=project.server.base_url,
        central_project_id=project.central_project_id,
        app_user_token=token.reveal(),
        project_name=project.name,
        app_user_name=app_user.name,
        app_language=project.app_language,
        admin_password=admin_password_for(app_user, store),
    )


def app_user_qr_refresh(app_user: AppUser, *, store=None, force: bool = False) -> bool:
    """Write a new QR code when any input changed; True if one was written."""
    settings_dict = app_user_settings(app_user, store=store)
    if settings_dict is None:
        return False
    fingerprint = settings_fingerprint(settings_dict)
    if not force and fingerprint == app_user.qr_inputs_sha256 and app_user.qr_code:
        return False
    name = tenant_path(f"app-users/{app_user.pk}/qr-{fingerprint[:16]}.png")
    if not default_storage.exists(name):
        name = default_storage.save(
            name, ContentFile(qr_png(encode_settings(settings_dict), app_user.name))
        )
    old = app_user.qr_code
    AppUser.objects.filter(pk=app_user.pk).update(qr_code=name, qr_inputs_sha256=fingerprint)
    organization_notice(
        "app_user.changed", {"id": app_user.pk, "project": app_user.project_id, "change": "qr_code"}
    )
    app_user.qr_code, app_user.qr_inputs_sha256 = name, fingerprint
    if old and old != name and default_storage.exists(old):
        default_storage.delete(old)
    return True


def project_qr_codes_refresh(project: Project) -> int:
    """Regenerate the QR codes of every app user of ``project`` whose inputs changed."""
    store = secret_store()
    return sum(
        app_user_qr_refresh(app_user, store=store)
        for app_user in project.app_users.select_related("project__server")
    )
