"""Publishing: choose app users and start, then watch the run live (socket or polling)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from control_plane.errors import ServiceError
from frontend.forms import PublishForm, apply_errors
from frontend.permissions import EDITOR, has_role, role_required
from tenants.publishing.models import (
    ACTIVE_RUN_STATUSES,
    FormTemplate,
    PublishRun,
    RunStatus,
)
from tenants.publishing.services.publish import (
    PublishBusy,
    is_stalled,
    publish_retry,
    publish_start,
    run_summary,
)

LOG_LIMIT = 300


@role_required(EDITOR)
def publish_page(request, pk: int):
    template = get_object_or_404(FormTemplate.objects.select_related("project"), pk=pk)
    active = template.runs.filter(status__in=ACTIVE_RUN_STATUSES).first()
    if active is not None and request.method == "GET":
        # Publishing is resumable: coming back finds the run that is going on.
        return redirect(f"/runs/{active.pk}/")
    app_users = template.app_users.order_by("name")
    form = PublishForm(request.POST or None, app_users=app_users)
    if request.method == "POST" and form.is_valid():
        chosen = (
            [a.pk for a in form.cleaned_data["app_users"]]
            if form.cleaned_data["scope"] == "some"
            else None
        )
        try:
            run = publish_start(template=template, actor=request.user, app_user_ids=chosen)
        except PublishBusy as exc:
            messages.info(request, exc.message)
            running = template.runs.filter(status__in=ACTIVE_RUN_STATUSES).first()
            return redirect(f"/runs/{running.pk}/" if running else f"/templates/{template.pk}/")
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            return redirect(f"/runs/{run.pk}/")
    return render(
        request,
        "frontend/publish.html",
        {
            "template": template,
            "form": form,
            "app_users": app_users,
            "last_run": template.runs.order_by("-created_at", "-id").first(),
        },
    )


def _run_context(request, run: PublishRun) -> dict:
    items = list(run.items.order_by("app_user_name"))
    events = list(run.events.order_by("-id")[:LOG_LIMIT])[::-1]
    last_event = run.events.order_by("-id").values_list("pk", flat=True).first() or 0
    active = run.status in ACTIVE_RUN_STATUSES
    return {
        "run": run,
        "items": items,
        "events": events,
        "events_truncated": run.events.count() > LOG_LIMIT,
        "last_event": last_event,
        "summary": run_summary(run),
        "active": active,
        "can_retry": has_role(request, EDITOR)
        and run.status != RunStatus.SUCCEEDED
        and (not active or is_stalled(run)),
        "poll": request.GET.get("poll") == "1" and active,
    }


def _run(pk: int) -> PublishRun:
    return get_object_or_404(
        PublishRun.objects.select_related("template__project", "version", "rollback_of"), pk=pk
    )


@never_cache
def run_detail(request, pk: int):
    run = _run(pk)
    return render(request, "frontend/run.html", _run_context(request, run))


@never_cache
def run_live(request, pk: int):
    """The live part of the run page (htmx): polled when the socket cannot connect."""
    run = _run(pk)
    return render(request, "frontend/partials/run_live.html", _run_context(request, run))


@require_POST
@role_required(EDITOR)
def run_retry(request, pk: int):
    run = _run(pk)
    try:
        publish_retry(run, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Retrying the app users that were not published.")
    return redirect(f"/runs/{run.pk}/")
