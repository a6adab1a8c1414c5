"""Starting and retrying publish runs (the request side; the work is in ``publish_job``).

A run is created with one item per app user and its job is queued in the same
transaction (Procrastinate shares our database), so a request that returns
has a job that will run. At most one run per template is queued or running:
a partial unique index enforces it even under concurrent requests.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from control_plane.errors import Conflict, InvalidState
from tenants.audit.services import actor_fields, audit_record
from tenants.publishing.events import organization_notice
from tenants.publishing.models import (
    ACTIVE_RUN_STATUSES,
    FormTemplate,
    FormTemplateVersion,
    ItemStatus,
    PublishRun,
    PublishRunItem,
    RunStatus,
    SourceKind,
)
from tenants.publishing.services.templates import check_active

# A run that has shown no sign of life for this long is considered abandoned
# (its worker died) and may be retried.
STALLED_AFTER = timedelta(minutes=10)


class PublishBusy(Conflict):
    code = "publish_in_progress"


def _defer(run: PublishRun) -> None:
    from tenants.publishing.tasks import execute_publish_run

    job_id = execute_publish_run.defer(schema_name=connection.schema_name, run_id=run.pk)
    PublishRun.objects.filter(pk=run.pk).update(job_id=job_id)
    run.job_id = job_id


def publish_start(
    *,
    template: FormTemplate,
    actor: Any,
    app_user_ids: list[int] | None = None,
    rollback_of: FormTemplateVersion | None = None,
) -> PublishRun:
    """Queue a publish of ``template`` to all (or some) of its app users.

    With ``rollback_of`` the run publishes that stored version's source
    (``version_rollback``) instead of the template's current one.
    """
    check_active(template)
    app_users = list(template.app_users.order_by("name"))
    if app_user_ids is not None:
        wanted = set(app_user_ids)
        unknown = wanted - {a.pk for a in app_users}
        if unknown:
            raise InvalidState(
                "Some chosen app users are not assigned to this template.",
                code="app_users_not_assigned",
            )
        app_users = [a for a in app_users if a.pk in wanted]
    if not app_users:
        raise InvalidState(
            "Assign at least one app user to the template first.", code="no_app_users"
        )
    if (
        rollback_of is None
        and template.source_kind == SourceKind.UPLOAD
        and not template.source_file
    ):
        raise InvalidState("Upload the template's .xlsx first.", code="no_source")
    actor_data = actor_fields(actor)
    data: dict[str, Any] = {"app_users": [a.name for a in app_users]}
    if rollback_of is not None:
        data["rollback_of"] = rollback_of.version
    try:
        with transaction.atomic():
            # Serialized with ``template_archive``: no run starts on an archived template.
            check_active(FormTemplate.all_objects.select_for_update().get(pk=template.pk))
            run = PublishRun.objects.create(
                template=template,
                requested_by_id=actor_data["actor_id"],
                requested_by_label=actor_data["actor_label"],
                rollback_of=rollback_of,
            )
            PublishRunItem.objects.bulk_create(
                [PublishRunItem(run=run, app_user=a, app_user_name=a.name) for a in app_users]
            )
            audit_record(
                "publishing.template.rollback_requested"
                if rollback_of is not None
                else "publishing.template.publish_requested",
                actor=actor,
                target=template,
                data={"run": run.pk, **data},
            )
            _defer(run)
            organization_notice("run.queued", {"run": run.pk, "template": template.pk})
    except IntegrityError as exc:
        raise PublishBusy(
            "This template is already being published; wait for that run to finish.",
        ) from exc
    return run


def is_stalled(run: PublishRun) -> bool:
    last = run.events.order_by("-id").values_list("created_at", flat=True).first()
    reference = last or run.started_at or run.created_at
    return reference < timezone.now() - STALLED_AFTER


def publish_retry(run: PublishRun, *, actor: Any) -> PublishRun:
    """Run again what did not succeed; published app users are not touched again.

    The run keeps who requested it; who retries is recorded too, because a retry that
    has no stored version yet reads the Google Sheet again, and it must do so with the
    retrying person's Google connection, never the requester's.
    """
    with transaction.atomic():
        run = PublishRun.objects.select_for_update().get(pk=run.pk)
        if run.status == RunStatus.SUCCEEDED:
            raise InvalidState("Everything in this run was published.", code="nothing_to_retry")
        if run.status in ACTIVE_RUN_STATUSES and not is_stalled(run):
            raise PublishBusy("This run is still going; wait for it to finish.")
        try:
            with transaction.atomic():
                run.status, run.attempt = RunStatus.QUEUED, run.attempt + 1
                run.error, run.error_code, run.issues, run.finished_at = "", "", [], None
                retrier = actor_fields(actor)
                run.retried_by_id, run.retried_by_label = (
                    retrier["actor_id"],
                    retrier["actor_label"],
                )
                run.save()
        except IntegrityError as exc:
            raise PublishBusy("Another run of this template is in progress.") from exc
        run.items.exclude(status=ItemStatus.PUBLISHED).update(
            status=ItemStatus.PENDING, error="", central_error=None, step=""
        )
        audit_record(
            "publishing.run.retried",
            actor=actor,
            target=run.template,
            data={"run": run.pk, "attempt": run.attempt},
        )
        _defer(run)
    return run


def run_summary(run: PublishRun) -> dict[str, int]:
    counts = {status: 0 for status in ItemStatus.values}
    for status in run.items.values_list("status", flat=True):
        counts[status] += 1
    return counts
