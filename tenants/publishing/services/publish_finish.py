"""Ending a publish run: its final state, one message for people, event, notice, audit.

A run ends ``succeeded`` (every app user published), ``partially_failed`` (some) or
``failed`` (none, or the run stopped before publishing). When app users failed, the
run carries one summary message (how many, who, at which step) besides each item's
own error, and the organization's audit trail records ``publishing.template.published``
or ``publishing.template.publish_failed``.
"""

from __future__ import annotations

import structlog
from django.utils import timezone

from tenants.audit.services import audit_record
from tenants.publishing.events import emit, organization_notice
from tenants.publishing.models import ItemStatus, PublishRun, RunStatus

log = structlog.get_logger(__name__)


def publish_run_finish(
    run: PublishRun,
    *,
    forced: str | None = None,
    interrupted: bool = False,
    error: str = "",
    code: str = "",
) -> PublishRun:
    unfinished = [ItemStatus.PENDING, ItemStatus.RUNNING]
    if forced or interrupted:
        run.items.filter(status__in=unfinished).update(
            status=ItemStatus.SKIPPED, error=error or "Not published: the run stopped."
        )
    statuses = list(run.items.values_list("status", flat=True))
    if forced:
        status = forced
    elif all(s == ItemStatus.PUBLISHED for s in statuses):
        status = RunStatus.SUCCEEDED
    elif any(s == ItemStatus.PUBLISHED for s in statuses):
        status = RunStatus.PARTIALLY_FAILED
    else:
        status = RunStatus.FAILED
    if not error and status != RunStatus.SUCCEEDED:
        error, code = _items_summary(run, status)
    elif interrupted and not code:
        code = "internal_error"
    PublishRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), error=error[:4000], error_code=code
    )
    run.refresh_from_db()
    from tenants.publishing.services.publish import run_summary

    summary = run_summary(run)
    emit(run, step="run", state=status, message=run.error, data={"summary": summary})
    _audit_finished(run, summary)
    organization_notice(
        "run.finished",
        {"run": run.pk, "template": run.template_id, "status": status, "summary": summary},
    )
    log.info("publish.run_finished", run=run.pk, status=status, **summary)
    return run


def _items_summary(run: PublishRun, status: str) -> tuple[str, str]:
    """One message for the whole run when app users failed: how many, who, at which step."""
    failed = list(
        run.items.exclude(status=ItemStatus.PUBLISHED).values_list("app_user_name", "step")
    )
    total = run.items.count()
    by_step: dict[str, list[str]] = {}
    for name, step in failed:
        by_step.setdefault(step or "start", []).append(name)
    parts = [
        f"{', '.join(names[:10])}{f' and {len(names) - 10} more' if len(names) > 10 else ''} "
        f"(at {step})"
        for step, names in sorted(by_step.items())
    ]
    text = (
        f"{len(failed)} of {total} app users were not published: {'; '.join(parts)}. "
        "Their errors are shown below; Retry publishes only them."
    )
    return text, ("some_failed" if status == RunStatus.PARTIALLY_FAILED else "all_failed")


def _audit_finished(run: PublishRun, summary: dict[str, int]) -> None:
    """``publishing.template.published`` or ``.publish_failed`` in the organization's trail."""
    from django.contrib.auth import get_user_model

    requester = None
    if run.requested_by_id is not None:
        requester = get_user_model().objects.filter(pk=run.requested_by_id).first()
    succeeded = run.status == RunStatus.SUCCEEDED
    audit_record(
        "publishing.template.published" if succeeded else "publishing.template.publish_failed",
        actor=requester,
        target=run.template,
        data={
            "run": run.pk,
            "attempt": run.attempt,
            "status": run.status,
            "version": run.version.version if run.version_id else None,
            "summary": summary,
            "error_code": run.error_code,
        },
    )
