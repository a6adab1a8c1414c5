#!/usr/bin/env python
"""Django's command-line utility for Publish MDM.

``platform/`` is a source root (it holds the ``control_plane`` package and must
never become a package itself, or it would shadow the standard library's
``platform`` module). With no ``DATABASE_URL``, the embedded PostgreSQL is
started first.
"""

import os
import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parent
    sys.path.insert(0, str(root / "platform"))
    sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    from control_plane.embedded_db import ensure_database

    ensure_database()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
