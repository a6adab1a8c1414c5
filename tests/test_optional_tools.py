"""Without an optional tool (Chromium), its tests are skipped cleanly, whatever the selection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "selection",
    [
        ["tests/browser"],
        ["tests/browser/test_workspace.py::test_a_viewer_invited_by_the_owner_cannot_publish"],
    ],
    ids=["folder", "one-test"],
)
def test_browser_tests_skip_with_the_reason_when_chromium_is_missing(selection):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *selection, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env={**os.environ, "CHROMIUM_PATH": "/nonexistent/chromium"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr

    assert result.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert "Chromium is not installed at /nonexistent/chromium" in output
    assert " skipped" in output.splitlines()[-1] and "passed" not in output.splitlines()[-1]
