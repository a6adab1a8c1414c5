"""Template context shared by every page: switchers, roles, theme and navigation."""

from __future__ import annotations

from django.conf import settings
from django_tenants.utils import schema_context

from control_plane.accounts.models import Membership
from control_plane.accounts.roles import Role, role_at_least
from control_plane.organizations.models import OrganizationStatus
from control_plane.urls_helpers import base_url, organization_url
from frontend.google_auth import google_enabled

THEMES = ("light", "dark")


def workspace(request) -> dict:
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None)
    organization = getattr(request, "tenant", None)
    role = membership.role if membership is not None else None
    theme = request.COOKIES.get("theme", "")
    match = getattr(request, "resolver_match", None)
    context = {
        # Only members learn the organization's name (404 pages must not leak it).
        "current_organization": organization if membership is not None else None,
        "current_membership": membership,
        "control_plane_url": base_url("/"),
        "switcher": [],
        "can_view": role is not None,
        "can_edit": role is not None and role_at_least(role, Role.EDITOR),
        "can_admin": role is not None and role_at_least(role, Role.ADMIN),
        "theme": theme if theme in THEMES else "",
        "google_enabled": google_enabled(),
        "nav": (match.url_name or "").split("-")[0] if match else "",
        "base_domain": settings.BASE_DOMAIN,
    }
    if user is not None and user.is_authenticated:
        memberships = (
            Membership.objects.filter(user=user, organization__status=OrganizationStatus.ACTIVE)
            .select_related("organization")
            .order_by("organization__name")
        )
        context["switcher"] = [
            {
                "name": m.organization.name,
                "slug": m.organization.slug,
                "role": m.get_role_display(),
                "url": organization_url(m.organization),
                "current": organization is not None and m.organization_id == organization.pk,
            }
            for m in memberships
        ]
    if organization is not None and membership is not None:
        from frontend.current import current_project
        from tenants.publishing.models import Project

        # Error pages (403, 404) are rendered in another thread under ASGI, on a
        # connection that has no tenant yet: name the schema explicitly.
        with schema_context(organization.schema_name):
            context["current_project"] = current_project(request)
            context["projects"] = list(Project.objects.order_by("name").only("pk", "name"))
    return context
