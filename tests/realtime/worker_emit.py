"""A stand-in job worker, run as its own process by the tests and the benchmark.

``python tests/realtime/worker_emit.py SCHEMA RUN_ID COUNT`` emits COUNT events
on a run through ``tenants.publishing.events.emit`` (stored, then sent by the
realtime sinks through whatever channel layer the environment configures) and
prints their ids as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(schema: str, run_id: int, count: int) -> list[int]:
    for entry in (str(ROOT / "platform"), str(ROOT)):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    import django

    django.setup()
    from django_tenants.utils import schema_context

    from tenants.publishing.events import emit
    from tenants.publishing.models import PublishRun

    with schema_context(schema):
        run = PublishRun.objects.get(pk=run_id)
        return [
            emit(run, step="form", state="started", message=f"worker-{i}").pk for i in range(count)
        ]


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
