"""``manage.py serve`` on the embedded defaults: Ctrl+C stops what it started, and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from control_plane.embedded_db import _wheel_bindir
from tests.plugin import _free_port, child_process_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.embedded


def _restore_ctrl_c() -> None:
    # A test runner started in the background may ignore SIGINT; Ctrl+C is what we test.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _healthy(port: int) -> bool:
    request = urllib.request.Request(  # noqa: S310 - our own server on loopback
        f"http://127.0.0.1:{port}/healthz", headers={"Host": "publishmdm.localhost"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def test_ctrl_c_stops_the_worker_and_the_embedded_database_and_says_so(tmp_path):
    env = child_process_env(
        DATA_DIR=str(tmp_path), STATIC_ROOT=str(tmp_path / "static"), REDIS_URL=""
    )
    for name in ("DATABASE_URL", "PUBLISHMDM_EMBEDDED_DB", "PUBLISHMDM_EMBEDDED_DB_MS"):
        env.pop(name, None)  # serve starts an embedded PostgreSQL of its own under DATA_DIR
    port = _free_port()
    pgdata = tmp_path / "postgres"
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_restore_ctrl_c,  # noqa: PLW1509 - resets one signal, nothing else
    )
    try:
        deadline = time.monotonic() + 120
        while not _healthy(port):
            assert serve.poll() is None, serve.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.3)
        assert (pgdata / "postmaster.pid").exists()

        serve.send_signal(signal.SIGINT)
        output, _ = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        if (pgdata / "postmaster.pid").exists():  # serve failed to stop it: do it here
            as_owner = ["runuser", "-u", pgdata.owner(), "--"] if os.geteuid() == 0 else []
            pg_ctl = str(_wheel_bindir() / "pg_ctl")
            subprocess.run(
                [*as_owner, pg_ctl, "-D", str(pgdata), "-m", "immediate", "-w", "stop"],
                capture_output=True,
            )

    assert serve.returncode == 0, output[-3000:]
    assert "Stopped the background worker." in output
    assert f"Stopped the embedded PostgreSQL ({pgdata})." in output
    assert not (pgdata / "postmaster.pid").exists()
