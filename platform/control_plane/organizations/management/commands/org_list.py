from __future__ import annotations

from django.core.management.base import BaseCommand

from control_plane.organizations.models import Organization


class Command(BaseCommand):
    help = "List organizations with their status, schema and primary domain."

    def add_arguments(self, parser):
        parser.add_argument("--status", default="")

    def handle(self, *args, status, **options):
        organizations = Organization.objects.prefetch_related("domains").order_by("slug")
        if status:
            organizations = organizations.filter(status=status)
        self.stdout.write(f"{'SLUG':<28} {'STATUS':<13} {'SCHEMA':<32} DOMAIN")
        for organization in organizations:
            primary = next((d.domain for d in organization.domains.all() if d.is_primary), "")
            self.stdout.write(
                f"{organization.slug:<28} {organization.status:<13} "
                f"{organization.schema_name:<32} {primary}"
            )
