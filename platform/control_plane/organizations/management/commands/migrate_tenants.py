"""Migrate the public schema, then every organization and spare schema that needs it.

Schemas already at the latest migrations are found in one query and skipped;
the rest migrate in parallel. A failure names its schema, the others finish,
and the command exits non-zero.
"""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from control_plane.organizations.services import schemas


class Command(BaseCommand):
    help = "Migrate public and all tenant schemas, skipping those already current."

    def add_arguments(self, parser):
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="Parallel migrations (default: MIGRATION_PARALLELISM).",
        )
        parser.add_argument(
            "--skip-public", action="store_true", help="Do not migrate the public schema first."
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        if not options["skip_public"]:
            call_command(
                "migrate_schemas",
                shared=True,
                interactive=False,
                verbosity=max(options["verbosity"] - 1, 0),
            )
        targets = schemas.all_tenant_schemas()
        report = schemas.migrate_schemas(
            targets, processes=options["processes"], verbosity=max(options["verbosity"] - 1, 0)
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{len(targets)} tenant schemas: {len(report.migrated)} migrated, "
            f"{len(report.skipped)} already current, {len(report.failed)} failed "
            f"({elapsed:.2f}s)"
        )
        for schema, error in report.failed.items():
            self.stderr.write(f"FAILED {schema}: {error}")
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} schema(s) failed to migrate: " + ", ".join(report.failed)
            )
