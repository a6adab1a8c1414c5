"""Organization pages: the dashboard and the audit trail."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from control_plane.accounts.roles import can_manage_members
from control_plane.accounts.services.memberships import memberships_of
from tenants.audit.selectors import audit_events


def dashboard(request):
    return render(
        request,
        "frontend/dashboard.html",
        {
            "member_count": memberships_of(request.tenant).count(),
            "recent_events": audit_events()[:10]
            if can_manage_members(request.membership.role)
            else [],
        },
    )


def audit(request):
    if not can_manage_members(request.membership.role):
        raise Http404
    events = audit_events(code_prefix=request.GET.get("code", "").strip())
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request, "frontend/audit.html", {"page": page, "code": request.GET.get("code", "")}
    )
