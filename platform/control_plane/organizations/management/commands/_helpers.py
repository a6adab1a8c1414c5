"""Shared bits of the organization commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from control_plane.organizations.models import Organization


def get_organization(slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise CommandError(f"No organization with slug {slug!r}.")
    return organization
