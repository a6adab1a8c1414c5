"""Template context shared by every page: the organization switcher and links."""

from __future__ import annotations

from control_plane.accounts.models import Membership
from control_plane.organizations.models import OrganizationStatus
from control_plane.urls_helpers import base_url, organization_url


def workspace(request) -> dict:
    user = getattr(request, "user", None)
    context = {
        "current_organization": getattr(request, "tenant", None),
        "current_membership": getattr(request, "membership", None),
        "control_plane_url": base_url("/"),
        "switcher": [],
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
            }
            for m in memberships
        ]
    return context
