"""The one answer to "which address is this request from?", for logs, throttles and audit.

``X-Forwarded-For`` is just a header: anyone can send one, so it is believed
only when the TCP peer is one of our own proxies (``TRUSTED_PROXIES``:
addresses or networks; empty by default, i.e. no proxy is trusted). Then the
header is read from the right, skipping our proxies, and the first address
that is not one of them is the client; what a client wrote further left is
ignored. Everything that keys on a client address (rate limits, the audit
trail, log lines) calls :func:`client_address`, so a spoofed header can move
none of them.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:4711"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.9:4711"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_address_from(peer: str | None, forwarded_for: str | None) -> str:
    """The client's address given the TCP peer and the ``X-Forwarded-For`` header."""
    peer_address = _parse(peer or "")
    if peer_address is None:
        return ""
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if not networks or not _trusted(peer_address, networks) or not forwarded_for:
        return str(peer_address)
    client = peer_address
    for hop in reversed(forwarded_for.split(",")):
        address = _parse(hop)
        if address is None:
            break  # garbage from further left: stop at the last hop our proxies vouch for
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def client_address(request: Any) -> str:
    """The address of the client that sent ``request`` (Django's or DRF's)."""
    meta = request.META
    return client_address_from(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"))


def client_address_of_scope(scope: dict) -> str:
    """The same rule for an ASGI scope (WebSockets)."""
    client = scope.get("client") or (None, None)
    forwarded = None
    for name, value in scope.get("headers") or ():
        if name == b"x-forwarded-for":
            text = value.decode("latin-1")
            forwarded = text if forwarded is None else f"{forwarded},{text}"
    return client_address_from(client[0], forwarded)
