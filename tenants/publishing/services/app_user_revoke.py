"""Revoking a deleted app user's access in Central, in the background, with a recorded outcome.

Deleting an app user here removes its row at once; its Central key would still
list and download forms (and accept submissions) until Central deletes the app
user too. ``app_user_delete`` leaves an :class:`AppUserRevocation` tombstone and
queues ``publishing.revoke_app_user``, which calls
``DELETE /v1/projects/{p}/app-users/{id}``: Central then ends the key's session
and drops its form roles. The tombstone records the outcome (``revoked``,
``already_gone`` when Central answers 404, ``skipped``, or ``failed`` with the
reason) and an audit event says it; a finished tombstone makes every later run
of the job a no-op, so retries are safe.
"""

from __future__ import annotations

import structlog
from django.db.models import F
from django.utils import timezone

from control_plane.errors import InvalidState
from tenants.audit.services import audit_record
from tenants.publishing.central.errors import CentralError, CentralNotFound, CentralUnavailable
from tenants.publishing.events import organization_notice
from tenants.publishing.models import AppUser, AppUserRevocation, Project, RevocationStatus
from tenants.publishing.services.clients import central_client_for

log = structlog.get_logger(__name__)

# Attempts on network errors, timeouts, 429 and 5xx (the job waits 4, 16, 64, 256 s
# between them) before the revocation is recorded as failed.
REVOKE_ATTEMPTS = 5


def revoking_central_ids(project: Project) -> set[int]:
    """Central app-user ids of ``project`` whose deletion is still pending.

    Never adopt one of them for a new app user of the same name: the job is
    about to delete it in Central.
    """
    return set(
        AppUserRevocation.objects.filter(
            server_id=project.server_id,
            central_project_id=project.central_project_id,
            status=RevocationStatus.PENDING,
        ).values_list("central_id", flat=True)
    )


def open_revocations(project: Project, limit: int = 20) -> list[AppUserRevocation]:
    """Deleted app users of ``project`` whose Central access is still being revoked, or
    could not be (newest first): what the app users page shows until it is resolved."""
    return list(
        AppUserRevocation.objects.filter(
            project=project, status__in=[RevocationStatus.PENDING, RevocationStatus.FAILED]
        )[:limit]
    )


def app_user_revocation_run(revocation_id: int) -> AppUserRevocation | None:
    """Delete the app user in Central once; record and return the outcome.

    Raises :class:`CentralUnavailable` (for the job to retry later) while
    attempts remain; after the last one the revocation ends ``failed``.
    """
    revocation = AppUserRevocation.objects.select_related("server").filter(pk=revocation_id).first()
    if revocation is None or revocation.status != RevocationStatus.PENDING:
        return revocation  # done before: a retried or repeated job changes nothing
    AppUserRevocation.objects.filter(pk=revocation.pk).update(attempts=F("attempts") + 1)
    revocation.attempts += 1
    if revocation.server is None:
        return _finish(
            revocation,
            RevocationStatus.FAILED,
            "The Central server was removed here before the app user could be deleted there; "
            f"delete app user {revocation.app_user_name} in Central by hand.",
        )
    user = AppUser.objects.filter(
        project__server_id=revocation.server_id,
        project__central_project_id=revocation.central_project_id,
        central_id=revocation.central_id,
    ).first()
    if user is not None:
        return _finish(
            revocation,
            RevocationStatus.SKIPPED,
            f"Central app user {revocation.central_id} is in use by app user {user.name} here.",
        )
    try:
        client = central_client_for(revocation.server)
        client.delete_app_user(revocation.central_project_id, revocation.central_id)
    except CentralNotFound:
        return _finish(revocation, RevocationStatus.ALREADY_GONE)
    except CentralUnavailable as exc:
        if revocation.attempts < REVOKE_ATTEMPTS:
            AppUserRevocation.objects.filter(pk=revocation.pk).update(error=str(exc))
            log.warning("app_user.revoke_retry", revocation=revocation.pk, error=str(exc))
            raise
        return _finish(revocation, RevocationStatus.FAILED, str(exc))
    except (CentralError, InvalidState) as exc:
        return _finish(revocation, RevocationStatus.FAILED, str(exc))
    return _finish(revocation, RevocationStatus.REVOKED)


def _finish(revocation: AppUserRevocation, status: str, error: str = "") -> AppUserRevocation:
    revocation.status, revocation.error, revocation.finished_at = status, error, timezone.now()
    AppUserRevocation.objects.filter(pk=revocation.pk).update(
        status=status, error=error, finished_at=revocation.finished_at
    )
    failed = status == RevocationStatus.FAILED
    audit_record(
        "publishing.app_user.central_revoke_failed"
        if failed
        else "publishing.app_user.central_revoked",
        actor=None,
        target=revocation,
        target_label=revocation.app_user_name,
        data={
            "app_user": revocation.app_user_name,
            "central_id": revocation.central_id,
            "central_project_id": revocation.central_project_id,
            "outcome": status,
            "attempts": revocation.attempts,
            **({"error": error} if error else {}),
        },
    )
    organization_notice(
        "app_user.changed",
        {
            "id": revocation.app_user_id,
            "project": revocation.project_id,
            "change": "central_access",
            "status": status,
        },
    )
    (log.warning if failed else log.info)(
        "app_user.revoke_finished", revocation=revocation.pk, outcome=status
    )
    return revocation
