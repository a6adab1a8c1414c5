#!/usr/bin/env python
"""Django's command-line utility for Publish MDM.

``control_plane`` (under the ``platform/`` source root) and the other packages
come from the project's editable install (``uv sync``), never from sys.path
edits. With no ``DATABASE_URL``, the embedded PostgreSQL is started first.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    from control_plane.embedded_db import ensure_database

    ensure_database()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
