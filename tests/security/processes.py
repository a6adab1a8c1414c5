"""Real server and worker processes for the security and reliability tests.

They share only the test database (and Redis when ``REDIS_URL`` is set) with
the test, as production processes do. Memory is read from ``/proc``: the
peak resident size (``VmHWM``) can be reset, so a test measures only the
growth its own requests caused.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database, for processes started by the test."""
    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{quote(s['HOST'] or '', safe='')}:{s['PORT'] or 5432}/{s['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    from django.conf import settings

    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "SECRETS_MASTER_KEYS": ",".join(settings.SECRETS_MASTER_KEYS),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory_mib(pid: int, key: str = "VmHWM") -> int:
    """Resident memory of a process in MiB: ``VmHWM`` (peak) or ``VmRSS`` (now)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split(f"{key}:")[1].split()[0]) // 1024


def reset_peak(pid: int) -> None:
    """Start measuring the peak resident size from now (Linux: clear_refs 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    output: Path = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.output.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def wait_healthy(server: Server, host: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"http://127.0.0.1:{server.port}/healthz", headers={"Host": host}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start:\n{server.log()}")
        time.sleep(0.2)


def start_server(argv: list[str], env: dict[str, str], tmp_path: Path, port: int) -> Server:
    output = tmp_path / f"server-{port}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its worker child is stopped with it
        )
    return Server(process, port, output)


def guarded_daphne(
    env: dict[str, str], tmp_path: Path, app: str = "control_plane.asgi:application"
) -> Server:
    """``python -m control_plane.runtime.server`` (what ``manage.py serve`` runs)."""
    port = free_port()
    argv = [
        "-m",
        "control_plane.runtime.server",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        app,
    ]
    return start_server(argv, env, tmp_path, port)
