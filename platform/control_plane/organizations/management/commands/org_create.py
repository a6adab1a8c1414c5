"""Create an organization and provision it (inline by default, or queue it with --queue)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from control_plane.errors import ServiceError
from control_plane.organizations.services.provisioning import (
    organization_create,
    organization_provision,
)


class Command(BaseCommand):
    help = "Create an organization; its owner is the account with --owner-email, or is invited."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", default="")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Queue provisioning for the worker instead of running it now.",
        )

    def handle(self, *args, slug, name, owner_email, queue, **options):
        try:
            organization = organization_create(
                name=name, slug=slug, owner_email=owner_email, enqueue=queue
            )
            if not queue:
                organization = organization_provision(organization.pk)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{organization.slug}: {organization.status} ({organization.schema_name})"
        )
