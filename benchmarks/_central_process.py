"""The fake Central in its own process, for benchmarks.

A real Central runs on another machine: its CPU is not ours. In the benchmark's own
process the fake's HTTP handling would compete with the publish threads for the
interpreter lock and be counted in our wall time. This runs it in a forked child
(start it before Django and before any thread) and drives it over a pipe with the
few calls a benchmark needs.
"""

from __future__ import annotations

import multiprocessing
from typing import Any


def _serve(conn) -> None:
    from tests.fakes.central import FakeCentral

    fake = FakeCentral().start()
    conn.send(fake.base_url)
    while True:
        command, args = conn.recv()
        if command == "stop":
            fake.stop()
            conn.send(None)
            return
        if command == "set":
            name, value = args
            setattr(fake, name, value)
            conn.send(None)
        elif command == "has":
            conn.send(hasattr(fake, args[0]))
        elif command == "requests":
            conn.send([tuple(r) for r in fake.requests])
        elif command == "forms_with_files":
            (project_id,) = args
            conn.send(
                sum(
                    1
                    for form in fake.forms(project_id)
                    if form.current and all(a.data for a in form.current.attachments.values())
                )
            )
        else:
            conn.send(getattr(fake, command)(*args))


class _Request(tuple):
    @property
    def method(self) -> str:
        return self[0]

    @property
    def path(self) -> str:
        return self[1]


class CentralProcess:
    """Enough of FakeCentral's interface for the benchmarks, served from a child process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.base_url: str = self._conn.recv()

    def _call(self, command: str, *args: Any) -> Any:
        self._conn.send((command, args))
        return self._conn.recv()

    def add_account(self, email: str, password: str) -> int:
        return self._call("add_account", email, password)

    def set(self, name: str, value: Any) -> None:
        self._call("set", name, value)

    def has(self, name: str) -> bool:
        return self._call("has", name)

    @property
    def requests(self) -> list[_Request]:
        return [_Request(r) for r in self._call("requests")]

    def forms_with_files(self, project_id: int) -> int:
        return self._call("forms_with_files", project_id)

    def stop(self) -> None:
        if self._process.is_alive():
            self._call("stop")
            self._process.join(timeout=10)
