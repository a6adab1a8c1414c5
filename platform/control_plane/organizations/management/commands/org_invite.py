from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from control_plane.accounts.roles import Role
from control_plane.accounts.services.invitations import invitation_create
from control_plane.errors import ServiceError
from control_plane.organizations.management.commands._helpers import get_organization


class Command(BaseCommand):
    help = "Invite someone to an organization; prints the acceptance link."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("email")
        parser.add_argument("--role", default=Role.EDITOR, choices=Role.values)

    def handle(self, *args, slug, email, role, **options):
        organization = get_organization(slug)
        try:
            issued = invitation_create(
                organization=organization, email=email, role=role, actor=None
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Invited {email} as {role}: {issued.accept_url}")
