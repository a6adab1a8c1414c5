"""Name resolution for outbound connections, with one hook for tests.

``OUTBOUND_RESOLVER`` may name a callable ``(host, port) -> list[str]`` used
instead of the system resolver: tests point it at a fake DNS server
(``tests/fakes/dns.py``) to play a name that answers differently over time.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string


class ResolutionFailed(OSError):
    """The name has no address (or the resolver failed)."""


def _system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


def _resolver() -> Callable[[str, int], list[str]]:
    hook = getattr(settings, "OUTBOUND_RESOLVER", "")
    return import_string(hook) if hook else _system_resolve


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` has now, in the resolver's order, without duplicates."""
    try:
        answers = _resolver()(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolutionFailed(f"the host “{host}” could not be resolved") from exc
    addresses = list(dict.fromkeys(answers))
    if not addresses:
        raise ResolutionFailed(f"the host “{host}” could not be resolved")
    return addresses
