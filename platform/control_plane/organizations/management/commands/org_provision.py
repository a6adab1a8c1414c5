from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from control_plane.organizations.management.commands._helpers import get_organization
from control_plane.organizations.services.provisioning import (
    ProvisioningFailed,
    organization_provision,
)


class Command(BaseCommand):
    help = "Run (or finish) provisioning of an organization; safe to repeat."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        organization = get_organization(slug)
        try:
            organization = organization_provision(organization.pk)
        except ProvisioningFailed as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{organization.slug}: {organization.status}")
