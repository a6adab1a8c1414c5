"""A fake DNS: names answer with addresses we choose, and can change their answer over time.

Plugged in through the ``OUTBOUND_RESOLVER`` setting (the one resolver every
outbound connection and the save-time URL check use), so tests can play what
real DNS does to us: a name that answers a public address when a URL is
checked and a private one when we connect (DNS rebinding). Names not in the
zone do not exist (``socket.gaierror``), as on the real network.
"""

from __future__ import annotations

import socket
import threading
from collections import defaultdict

import pytest


class FakeDNS:
    def __init__(self) -> None:
        self._answers: dict[str, list[list[str]]] = {}
        self.queries: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def add(self, name: str, *answers: str | list[str]) -> None:
        """``add(name, "93.184.216.34", "127.0.0.1")``: the first query gets the first answer,
        later queries the next one, and the last answer stays."""
        self._answers[name.lower()] = [[a] if isinstance(a, str) else list(a) for a in answers]

    def resolve(self, host: str, port: int) -> list[str]:
        name = host.lower().rstrip(".")
        with self._lock:
            answers = self._answers.get(name)
            if answers is None:
                if name in ("localhost", "127.0.0.1"):
                    return ["127.0.0.1"]
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            index = min(self.queries[name], len(answers) - 1)
            self.queries[name] += 1
            return list(answers[index])


_current: FakeDNS | None = None


def resolve(host: str, port: int) -> list[str]:
    """The ``OUTBOUND_RESOLVER`` entry point: the current test's fake DNS."""
    if _current is None:
        raise socket.gaierror(socket.EAI_NONAME, "no fake DNS in this test")
    return _current.resolve(host, port)


@pytest.fixture
def fake_dns(settings):
    global _current
    _current = FakeDNS()
    settings.OUTBOUND_RESOLVER = "tests.fakes.dns.resolve"
    try:
        yield _current
    finally:
        _current = None
