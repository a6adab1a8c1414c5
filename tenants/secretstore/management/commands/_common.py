"""Choosing the organizations a secrets command works on."""

from __future__ import annotations

from django.core.management.base import CommandError

from control_plane.organizations.models import Organization
from control_plane.organizations.services import schemas


def organizations_for(slugs: list[str] | None) -> list[Organization]:
    """The named organizations, or every one whose schema exists (not purged)."""
    queryset = Organization.objects.filter(purged_at__isnull=True).order_by("slug")
    if slugs:
        found = list(queryset.filter(slug__in=slugs))
        missing = sorted(set(slugs) - {organization.slug for organization in found})
        if missing:
            raise CommandError(f"No such organization (or already purged): {', '.join(missing)}")
        return found
    return [organization for organization in queryset if schemas.exists(organization.schema_name)]
