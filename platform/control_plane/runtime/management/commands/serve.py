"""Run the whole product in one command: migrations, a job worker and the ASGI server.

With no ``DATABASE_URL`` this runs on the embedded PostgreSQL (started by
``manage.py`` before Django loads) and stops it on exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from control_plane.urls_helpers import base_url


class Command(BaseCommand):
    help = "Migrate, start a background worker and serve HTTP/WebSockets with daphne."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the background job worker."
        )
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args, **options):
        if "PUBLIC_PORT" not in os.environ:
            # Links in pages and emails should use the port we actually serve on.
            settings.PUBLIC_PORT = options["port"]
            os.environ["PUBLIC_PORT"] = str(options["port"])
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_migrate"]:
            call_command("migrate_tenants", verbosity=0)
        worker = None if options["no_worker"] else self._start_worker()
        if worker is not None:
            from control_plane.jobs import defer_once
            from control_plane.organizations.tasks import fill_spare_pool

            defer_once(fill_spare_pool, "spare-pool")
        embedded = (
            " (embedded PostgreSQL under .data/)"
            if os.environ.get("PUBLISHMDM_EMBEDDED_DB")
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(f"\nPublish MDM is running{embedded}.\n")
            + f"Open {base_url('/')} in your browser; each organization lives at "
            f"<slug>.{settings.BASE_DOMAIN}. Press Ctrl+C to stop.\n"
        )
        try:
            # daphne with request bodies bounded before they are read.
            from control_plane.runtime.server import GuardedCommandLineInterface

            GuardedCommandLineInterface().run(
                [
                    "-b",
                    options["host"],
                    "-p",
                    str(options["port"]),
                    # No --proxy-headers: daphne would believe X-Forwarded-For from anyone.
                    # The client address is worked out per request from TRUSTED_PROXIES.
                    "control_plane.asgi:application",
                ]
            )
        finally:
            self._shut_down(worker)

    def _shut_down(self, worker: subprocess.Popen | None) -> None:
        """Stop what serve started, and say so: the worker, then the embedded database."""
        from control_plane import embedded_db

        self.stdout.write("\nShutting down.")
        if worker is not None:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=10)
                self.stdout.write("Stopped the background worker.")
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
                self.stdout.write("Stopped the background worker (killed after 10 s).")
        from django.db import connections

        connections.close_all()
        stopped = embedded_db.stop()
        if stopped is True:
            self.stdout.write(
                f"Stopped the embedded PostgreSQL ({embedded_db.data_dir() / 'postgres'})."
            )
        elif stopped is False:
            self.stdout.write(
                "The embedded PostgreSQL keeps running: another process of this checkout "
                "still uses it, and it stops when that one exits."
            )
        self.stdout.flush()

    def _start_worker(self) -> subprocess.Popen:
        manage = Path(settings.REPO_ROOT) / "manage.py"
        return subprocess.Popen(
            [sys.executable, str(manage), "procrastinate", "worker"],
            env=os.environ.copy(),
        )
