from __future__ import annotations

from django.core.management.base import BaseCommand

from control_plane.organizations.services.spare_pool import spare_pool_fill, spare_pool_status


class Command(BaseCommand):
    help = "Show the pool of ready tenant schemas, or fill it now with --fill."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fill",
            type=int,
            default=None,
            metavar="N",
            help="Create spares until N are ready (default: SPARE_POOL_SIZE).",
        )

    def handle(self, *args, fill, **options):
        if fill is not None:
            created = spare_pool_fill(fill)
            self.stdout.write(f"created {len(created)} spare schema(s)")
        status = spare_pool_status()
        self.stdout.write(
            f"ready {status['ready']}, migrating {status['migrating']}, target {status['target']}"
        )
