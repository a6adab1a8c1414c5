#!/usr/bin/env python3
"""The two commands of a fresh machine: ``python3 dev.py serve`` and ``python3 dev.py test``.

Needs only Python 3.11+. It finds ``uv`` (or installs it into ``.data/tools``),
installs the locked dependencies, and then runs the product on its embedded
defaults or the whole test suite (lint first, then pytest in parallel).
Extra arguments are passed on: ``python3 dev.py test -k invitations``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".data" / "tools"


def find_uv() -> str:
    """uv on PATH, else the copy in .data/tools, else install it there with pip."""
    found = shutil.which("uv")
    if found:
        return found
    bindir = TOOLS / ("Scripts" if os.name == "nt" else "bin")
    uv = bindir / "uv"
    if not uv.exists():
        print("Installing uv into .data/tools ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        subprocess.run(
            [str(bindir / "python"), "-m", "pip", "install", "--quiet", "uv"], check=True
        )
    return str(uv)


def run(*args: str) -> int:
    return subprocess.call(list(args), cwd=ROOT)


def replace_process(*args: str) -> int:
    """Become the final command, so Ctrl+C and SIGTERM reach it (and its clean-up) directly."""
    os.chdir(ROOT)
    os.execv(args[0], list(args))
    return 1  # not reached


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test"}:
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    uv = find_uv()
    if run(uv, "sync", "--frozen", "--quiet") != 0:
        return 1
    python = str(ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    if command == "serve":
        return replace_process(python, "manage.py", "serve", *extra)
    for lint in (("ruff", "check", "."), ("ruff", "format", "--check", ".")):
        if run(uv, "run", "--frozen", *lint) != 0:
            return 1
    workers = os.environ.get("TEST_WORKERS", str(min(os.cpu_count() or 1, 2)))
    return replace_process(python, "-m", "pytest", "-n", workers, *extra)


if __name__ == "__main__":
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before any check of ours
        sys.exit("Python 3.11 or newer is required.")
    sys.exit(main(sys.argv[1:]))
