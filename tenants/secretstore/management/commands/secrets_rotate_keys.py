"""Re-encrypt every local secret under the first of SECRETS_MASTER_KEYS.

    manage.py secrets_rotate_keys                 # every organization
    manage.py secrets_rotate_keys -o acme -o globex

Safe to stop and run again: rows already under the first key are skipped.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.secretstore.errors import SecretStoreError
from tenants.secretstore.management.commands._common import organizations_for
from tenants.secretstore.services.rotation import secret_keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt local secrets under the first key of SECRETS_MASTER_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-o",
            "--organization",
            action="append",
            dest="organizations",
            metavar="SLUG",
            help="Only this organization (repeatable); default: all.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        failures = []
        rotated = 0
        for organization in organizations_for(options["organizations"]):
            try:
                report = secret_keys_rotate(organization, actor=None)
            except SecretStoreError as exc:
                failures.append(organization.slug)
                self.stderr.write(f"{organization.slug}: {exc.message}")
                continue
            rotated += report.rotated
            self.stdout.write(report.summary())
        self.stdout.write(f"{rotated} secrets re-encrypted.")
        if failures:
            raise CommandError(f"Rotation failed for: {', '.join(failures)}")
