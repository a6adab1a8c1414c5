"""The project is an installable package: imports work without touching the import path.

``uv sync`` installs the project editable (hatchling maps ``platform/control_plane``
to ``control_plane``). Scripts, tests, child processes and benchmarks rely on that
install alone; a path edit anywhere would hide a broken install and make the
import order depend on who started the process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {
    ".venv",
    ".data",
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".terraform",
    "node_modules",
}
TEXT_SUFFIXES = {".py", ".pth", ".sh", ".toml", ".cfg", ".ini", ".md", ".yml", ".yaml", ""}
# Written so that this file does not match itself.
PATH_EDITS = [
    re.compile(
        r"\bsys\.path\s*(?:\.\s*(?:insert|append|extend|remove|pop|clear)\s*\(|\[[^\]\n]*\]\s*=|\+?=(?!=))"
    ),
    re.compile(r"\badd[s]itedir\b"),
    re.compile(r"""["']PYTHONPATH["']\s*(?::|\]\s*=(?!=))"""),  # a dict key or an assignment
    re.compile(r"""(?:setdefault|putenv)\(\s*["']PYTHONPATH"""),
    re.compile(r"\bPYTHONPATH\s*="),
]
PACKAGES = ("control_plane", "tenants", "api", "realtime", "frontend")


def _text_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if name not in SKIPPED_DIRS]
        for name in files:
            path = Path(folder) / name
            if path.suffix in TEXT_SUFFIXES and path.stat().st_size < 1_000_000:
                found.append(path)
    return found


def test_no_file_edits_the_import_path():
    offenders = []
    for path in _text_files():
        text = path.read_text(encoding="utf-8", errors="ignore")
        for number, line in enumerate(text.splitlines(), start=1):
            if any(pattern.search(line) for pattern in PATH_EDITS):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "import path edited (use the editable install):\n" + "\n".join(
        offenders
    )


def test_pytest_does_not_put_the_platform_source_root_on_the_path():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    entries = options["ini_options"].get("pythonpath", [])
    assert all("platform" not in entry for entry in entries), entries


def test_platform_stays_a_source_root_not_a_package():
    """A package named ``platform`` would shadow the standard library's module."""
    assert not (ROOT / "platform" / "__init__.py").exists()
    import platform

    assert Path(platform.__file__).parent != ROOT / "platform"
    assert callable(platform.python_version)


def test_the_installed_packages_import_from_any_folder(tmp_path):
    """A fresh interpreter, started elsewhere with no PYTHONPATH, finds every package
    in this checkout (``control_plane`` under platform/)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    code = (
        "import json, " + ", ".join(PACKAGES) + "; "
        "print(json.dumps({name: globals()[name].__file__ for name in " + repr(PACKAGES) + "}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    files = json.loads(done.stdout.strip().splitlines()[-1])
    assert files["control_plane"] == str(ROOT / "platform" / "control_plane" / "__init__.py")
    for name in PACKAGES[1:]:
        assert files[name] == str(ROOT / name / "__init__.py"), files
