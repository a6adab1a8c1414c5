"""Move organizations' secrets to another backend, verify them, then switch.

    manage.py secrets_move --to infisical -o acme
    manage.py secrets_move --to infisical --all
    manage.py secrets_move --to local -o acme --keep-source

Nothing is lost if it is interrupted; run the same command again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from control_plane.errors import ServiceError
from control_plane.organizations.models import SecretBackend
from tenants.secretstore.management.commands._common import organizations_for
from tenants.secretstore.services.moving import secret_backend_move


class Command(BaseCommand):
    help = "Copy every secret of one or all organizations to another backend, verify, switch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", required=True, choices=SecretBackend.values)
        parser.add_argument(
            "-o",
            "--organization",
            action="append",
            dest="organizations",
            metavar="SLUG",
            help="This organization (repeatable).",
        )
        parser.add_argument("--all", action="store_true", help="Every organization.")
        parser.add_argument(
            "--keep-source",
            action="store_true",
            help="Leave the copies in the old backend (default: delete them once verified).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["organizations"]) == bool(options["all"]):
            raise CommandError("Name organizations with -o SLUG, or give --all (not both).")
        failures = []
        for organization in organizations_for(options["organizations"]):
            try:
                report = secret_backend_move(
                    organization,
                    to=options["to"],
                    actor=None,
                    keep_source=options["keep_source"],
                )
            except ServiceError as exc:
                failures.append(organization.slug)
                self.stderr.write(f"{organization.slug}: {exc.message}")
                continue
            self.stdout.write(report.summary())
        if failures:
            raise CommandError(
                f"Not moved: {', '.join(failures)} (nothing lost; run the command again)."
            )
