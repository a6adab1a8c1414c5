"""The rule applied to every outbound connection: which addresses a host may be reached at."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from django.conf import settings

from control_plane.outbound.addresses import is_internal, parse_address
from control_plane.outbound.resolver import resolve


class UnsafeAddress(Exception):  # noqa: N818 - raised inside urllib3, turned into OutboundRefused
    """Raised while connecting: the host resolves to an internal address.

    Deliberately not an ``OSError``: urllib3 would wrap it as a connection
    failure and retry; the guarded adapter turns it into :class:`OutboundRefused`.
    """


class OutboundRefused(requests.ConnectionError):
    """We refused to connect to (or follow a redirect to) this target; nothing was sent.

    A ``requests.ConnectionError``, so clients that handle network failures
    handle this too; its message names the host and the reason, never an
    answer from the target (there is none).
    """

    reason = "refused"


class OutboundRedirectRefused(OutboundRefused):
    """The server answered with a redirect; redirects are never followed."""

    reason = "redirect"


@dataclass(frozen=True)
class OutboundPolicy:
    """Where a client may connect.

    ``allow_settings`` names the settings (lists of ``host:port``) whose hosts
    may resolve to internal addresses; they are read at every connection, so
    an operator's change (or a test's) applies at once.
    """

    allow_settings: tuple[str, ...] = ("OUTBOUND_ALLOWED_INTERNAL_HOSTS",)

    def allowed_internal(self, host: str, port: int) -> bool:
        wanted = f"{host.lower().rstrip('.')}:{port}"
        for name in self.allow_settings:
            entries = getattr(settings, name, None) or []
            if wanted in {str(entry).strip().lower() for entry in entries}:
                return True
        return False


DEFAULT_POLICY = OutboundPolicy()


def check_host(host: str, port: int, policy: OutboundPolicy = DEFAULT_POLICY) -> list[str]:
    """Resolve ``host`` once and return the addresses we may connect to.

    Raises :class:`UnsafeAddress` when any address is internal (a name that
    answers with one public and one private address is refused as a whole)
    and the ``host:port`` is not allow-listed; ``ResolutionFailed`` (an
    ``OSError``) when it has no address.
    """
    host = host.strip("[]")
    try:
        literal = parse_address(host)
    except ValueError:
        addresses = resolve(host, port)
    else:
        addresses = [str(literal)]
    if policy.allowed_internal(host, port):
        return addresses
    for address in addresses:
        try:
            parsed = parse_address(address)
        except ValueError:
            raise UnsafeAddress(f"“{host}” resolves to an invalid address") from None
        if is_internal(parsed):
            raise UnsafeAddress(
                f"“{host}” points to a private or internal network address, which is not allowed"
            )
    return addresses
