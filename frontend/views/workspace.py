"""Organization pages: the dashboard, the publish history and the audit trail."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, OuterRef, Q, Subquery
from django.shortcuts import render
from django.utils import timezone

from control_plane.accounts.services.memberships import memberships_of
from frontend.current import current_project
from frontend.listing import listing
from frontend.permissions import ADMIN, has_role, role_required
from tenants.audit.selectors import audit_events
from tenants.audit.sentences import describe_events
from tenants.publishing.models import (
    AppUser,
    CentralServer,
    FormTemplate,
    Project,
    PublishRun,
    RunStatus,
)

# An app user still without a Central account after this long is probably stuck.
SYNC_GRACE = timedelta(minutes=2)


def _latest_runs():
    latest = PublishRun.objects.filter(template=OuterRef("pk")).order_by("-created_at", "-id")
    return FormTemplate.objects.annotate(
        latest_run_id=Subquery(latest.values("pk")[:1]),
        latest_status=Subquery(latest.values("status")[:1]),
    )


def _problems() -> list[dict]:
    problems = []
    for template in _latest_runs().filter(
        latest_status__in=[RunStatus.FAILED, RunStatus.PARTIALLY_FAILED]
    ):
        problems.append(
            {
                "kind": "run",
                "text": f"The last publish of “{template.title_base}” "
                + ("failed." if template.latest_status == RunStatus.FAILED else "partly failed."),
                "url": f"/runs/{template.latest_run_id}/",
                "action": "See what went wrong",
            }
        )
    stuck = AppUser.objects.filter(
        central_id__isnull=True, created_at__lt=timezone.now() - SYNC_GRACE
    ).count()
    if stuck:
        problems.append(
            {
                "kind": "app_users",
                "text": f"{stuck} app user{'s' if stuck != 1 else ''} could not be created in "
                "Central yet (no QR code).",
                "url": "/app-users/?status=pending",
                "action": "Review app users",
            }
        )
    unassigned = FormTemplate.objects.annotate(n=Count("app_users")).filter(n=0).count()
    if unassigned:
        problems.append(
            {
                "kind": "templates",
                "text": f"{unassigned} form template{'s have' if unassigned != 1 else ' has'} "
                "no app users assigned.",
                "url": "/templates/",
                "action": "Assign app users",
            }
        )
    return problems


def dashboard(request):
    project = current_project(request)
    counts = {
        "servers": CentralServer.objects.count(),
        "projects": Project.objects.count(),
        "app_users": AppUser.objects.count(),
        "templates": FormTemplate.objects.count(),
    }
    published = PublishRun.objects.filter(
        status__in=[RunStatus.SUCCEEDED, RunStatus.PARTIALLY_FAILED]
    ).exists()
    steps = [
        ("Add your ODK Central server", counts["servers"] > 0, "/servers/new/"),
        ("Create or import a project", counts["projects"] > 0, "/projects/new/"),
        (
            "Add app users (one per data collector or device)",
            counts["app_users"] > 0,
            "/app-users/new/",
        ),
        ("Upload a form template", counts["templates"] > 0, "/templates/new/"),
        ("Publish it to your app users", published, "/templates/"),
    ]
    return render(
        request,
        "frontend/dashboard.html",
        {
            "project": project,
            "counts": counts,
            "member_count": memberships_of(request.tenant).count(),
            "steps": steps,
            "onboarding": not all(done for _, done, _ in steps),
            "recent_runs": PublishRun.objects.select_related("template", "version")
            .annotate(
                n_items=Count("items"),
                n_published=Count("items", filter=Q(items__status="published")),
            )
            .order_by("-created_at", "-id")[:6],
            "problems": _problems(),
            "recent_events": describe_events(audit_events()[:6])
            if has_role(request, ADMIN)
            else [],
        },
    )


def runs(request):
    """Publish history: who published what, when, and how it went (every member)."""
    queryset = PublishRun.objects.select_related("template", "version").annotate(
        n_items=Count("items"),
        n_published=Count("items", filter=Q(items__status="published")),
        n_failed=Count("items", filter=Q(items__status="failed")),
    )
    status = request.GET.get("status", "")
    if status in RunStatus.values:
        queryset = queryset.filter(status=status)
    page = listing(
        request,
        queryset,
        search=("template__title_base", "requested_by_label", "version__version"),
        sorts={
            "when": ("When", "created_at"),
            "template": ("Template", "template__title_base"),
            "who": ("Who", "requested_by_label"),
            "status": ("Status", "status"),
        },
        default_sort="-when",
    )
    return render(
        request,
        "frontend/runs.html",
        {"list": page, "status": status, "statuses": RunStatus.choices},
    )


# The audit trail's filter: groups of events by code prefix.
AUDIT_GROUPS = [
    ("", "All events"),
    ("organization.", "Organization, members and tokens"),
    ("publishing.central_server.", "Central servers"),
    ("publishing.project.", "Projects"),
    ("publishing.variable.", "Template variables"),
    ("publishing.app_user", "App users"),
    ("publishing.template.", "Form templates and publishing"),
    ("secrets.", "Secret store"),
]


@role_required(ADMIN)
def audit(request):
    code = request.GET.get("code", "").strip()
    groups = list(AUDIT_GROUPS)
    if code and code not in dict(groups):
        groups.append((code, f"Codes starting with {code}"))
    page = listing(
        request,
        audit_events(code_prefix=code),
        search=("actor_label", "target_label", "code"),
        sorts={
            "when": ("When", "created_at"),
            "code": ("What happened", "code"),
            "who": ("Who", "actor_label"),
        },
        default_sort="-when",
        per_page=50,
    )
    describe_events(page.page)
    return render(
        request,
        "frontend/audit.html",
        {"list": page, "page": page.page, "code": code, "groups": groups},
    )
