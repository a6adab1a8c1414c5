"""Refuse server URLs that point inside our own network (SSRF), before any request.

A Central URL is typed by a customer and then called by our workers; if it
named (or resolved to) a loopback, private, link-local or cloud-metadata
address, a customer could make us probe our own infrastructure. The check
resolves the host name and refuses if any address is internal. Operators can
allow specific ``host:port`` pairs (an on-premises Central in a VPC, or the
fake Central in tests) with ``CENTRAL_ALLOWED_INTERNAL_HOSTS``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from control_plane.errors import ServiceError

METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}


class UnsafeURL(ServiceError):
    code = "unsafe_url"


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address in METADATA_ADDRESSES
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (
            isinstance(address, ipaddress.IPv4Address)
            and address in ipaddress.ip_network("100.64.0.0/10")
        )
    )


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host “{host}” could not be resolved.", field="base_url") from exc
    return sorted({info[4][0] for info in infos})


def check_server_url(url: str) -> str:
    """Return the normalised URL (no trailing slash) or raise UnsafeURL saying why."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise UnsafeURL(
            "Enter the server's full address, e.g. https://central.example.org.", field="base_url"
        )
    if parts.scheme != "https" and not (settings.DEBUG or settings.CENTRAL_ALLOW_HTTP):
        raise UnsafeURL("The server must use https.", field="base_url")
    if parts.username or parts.password:
        raise UnsafeURL(
            "Put the account in the username and password fields, not in the address.",
            field="base_url",
        )
    if parts.query or parts.fragment:
        raise UnsafeURL("The address may not contain ? or #.", field="base_url")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname.lower()
    normalised = f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
    if f"{host}:{port}" in settings.CENTRAL_ALLOWED_INTERNAL_HOSTS:
        return normalised
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
    else:
        addresses = [literal]
    if any(_is_internal(address) for address in addresses):
        raise UnsafeURL(
            f"“{host}” points to a private or internal network address; use the server's "
            "public address.",
            field="base_url",
        )
    return normalised
