"""A stand-in job worker, run as a process of its own by the cross-process tests.

It starts Django (the slow part, so tests start it early), prints ``ready``,
then reads one JSON line ``{"schema": ..., "run": ..., "count": ...}`` from
stdin and emits that many events on the run through
``tenants.publishing.events.emit`` - stored, then sent by the realtime sinks
through whichever channel layer the environment configures - and prints
their ids as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    import django

    django.setup()
    from django_tenants.utils import schema_context

    from tenants.publishing.events import emit
    from tenants.publishing.models import PublishRun

    print("ready", flush=True)
    order = json.loads(sys.stdin.readline())
    with schema_context(order["schema"]):
        run = PublishRun.objects.get(pk=order["run"])
        ids = [
            emit(run, step="form", state="started", message=f"worker-{i}").pk
            for i in range(order["count"])
        ]
    print(json.dumps(ids), flush=True)


if __name__ == "__main__":
    main()
