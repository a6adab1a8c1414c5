"""Suspend, resume, archive or purge an organization."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from control_plane.errors import ServiceError
from control_plane.organizations.management.commands._helpers import get_organization
from control_plane.organizations.services import lifecycle


class Command(BaseCommand):
    help = "Change an organization's lifecycle: suspend | resume | archive | purge --confirm SLUG."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["suspend", "resume", "archive", "purge"])
        parser.add_argument("slug")
        parser.add_argument("--reason", default="")
        parser.add_argument(
            "--confirm",
            default="",
            help="For purge: the slug again; the schema and files are deleted.",
        )

    def handle(self, *args, action, slug, reason, confirm, **options):
        organization = get_organization(slug)
        try:
            if action == "suspend":
                organization = lifecycle.organization_suspend(
                    organization, actor=None, reason=reason
                )
            elif action == "resume":
                organization = lifecycle.organization_resume(organization, actor=None)
            elif action == "archive":
                organization = lifecycle.organization_archive(organization, actor=None)
            else:
                organization = lifecycle.organization_purge(
                    organization, actor=None, confirm=confirm
                )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{organization.slug}: {organization.status}"
            + (" (data deleted)" if organization.purged_at else "")
        )
