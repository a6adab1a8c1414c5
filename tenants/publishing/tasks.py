"""Background jobs of publishing. Each carries its schema name and enters that tenant."""

from __future__ import annotations

import structlog
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from control_plane.jobs import TenantUnavailable, tenant_job

log = structlog.get_logger(__name__)


@app.task(name="publishing.execute_publish_run", queue="publishing", retry=False)
def execute_publish_run(schema_name: str, run_id: int) -> None:
    from tenants.publishing.services.publish_job import publish_run_execute

    try:
        with tenant_job(schema_name, job="publishing.execute_publish_run", run_id=run_id):
            publish_run_execute(run_id)
    except TenantUnavailable as exc:
        log.warning("job.skipped", reason=str(exc))


@app.task(name="publishing.sync_app_user", queue="publishing", retry=3)
def sync_app_user(schema_name: str, app_user_id: int) -> None:
    """Create the app user in Central if missing and (re)generate its QR code."""
    from tenants.publishing.models import AppUser
    from tenants.publishing.services.app_users import (
        AppUserGone,
        app_user_ensure_central,
        app_user_qr_refresh,
    )
    from tenants.publishing.services.clients import central_client_for

    try:
        with tenant_job(schema_name, job="publishing.sync_app_user", app_user_id=app_user_id):
            app_user = (
                AppUser.objects.select_related("project__server").filter(pk=app_user_id).first()
            )
            if app_user is None:
                return
            app_user_ensure_central(app_user, central_client_for(app_user.project.server))
            app_user_qr_refresh(app_user)
    except (TenantUnavailable, AppUserGone) as exc:
        log.warning("job.skipped", reason=str(exc))


@app.task(name="publishing.refresh_project_qr_codes", queue="publishing", retry=3)
def refresh_project_qr_codes(schema_name: str, project_id: int) -> None:
    from tenants.publishing.models import Project
    from tenants.publishing.services.app_users import project_qr_codes_refresh

    try:
        with tenant_job(schema_name, job="publishing.refresh_project_qr_codes"):
            project = Project.objects.select_related("server").filter(pk=project_id).first()
            if project is not None:
                project_qr_codes_refresh(project)
    except TenantUnavailable as exc:
        log.warning("job.skipped", reason=str(exc))


@app.task(name="publishing.revoke_form_access", queue="publishing", retry=5)
def revoke_form_access(schema_name: str, template_id: int, app_user_id: int) -> None:
    """Remove an app user's access to its form after it was unassigned from the template."""
    from tenants.publishing.services.access import form_access_revoke

    try:
        with tenant_job(schema_name, job="publishing.revoke_form_access"):
            form_access_revoke(template_id=template_id, app_user_id=app_user_id)
    except TenantUnavailable as exc:
        log.warning("job.skipped", reason=str(exc))


def _revoke_retry() -> RetryStrategy:
    from tenants.publishing.central.errors import CentralUnavailable
    from tenants.publishing.services.app_user_revoke import REVOKE_ATTEMPTS

    return RetryStrategy(
        max_attempts=REVOKE_ATTEMPTS,
        exponential_wait=4,
        retry_exceptions={CentralUnavailable},
    )


@app.task(name="publishing.revoke_app_user", queue="publishing", retry=_revoke_retry())
def revoke_app_user(schema_name: str, revocation_id: int) -> None:
    """Delete a deleted app user in Central too, so its key stops working (idempotent)."""
    from tenants.publishing.services.app_user_revoke import app_user_revocation_run

    try:
        with tenant_job(schema_name, job="publishing.revoke_app_user", revocation_id=revocation_id):
            app_user_revocation_run(revocation_id)
    except TenantUnavailable as exc:
        log.warning("job.skipped", reason=str(exc))
