"""Check a Central server's URL when it is saved (SSRF), with the connect-time rule.

A Central URL is typed by a customer and then called by our workers; if it
named (or resolved to) a loopback, private, link-local or cloud-metadata
address, a customer could make us probe our own infrastructure. This check
gives an early, clear error on the form; the rule that actually protects us
runs again on every connection (``control_plane.outbound``, with
``CENTRAL_POLICY``), because a name can re-point and a server can redirect
after the URL was saved. Operators can allow specific ``host:port`` pairs (an
on-premises Central in a VPC, or the fake Central in tests) with
``CENTRAL_ALLOWED_INTERNAL_HOSTS``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from control_plane.errors import ServiceError
from control_plane.outbound import OutboundPolicy, is_internal
from control_plane.outbound import resolve as outbound_resolve
from control_plane.outbound.addresses import parse_address
from control_plane.outbound.resolver import ResolutionFailed

# Central servers may also be reached on the hosts listed for every client.
CENTRAL_POLICY = OutboundPolicy(
    allow_settings=("CENTRAL_ALLOWED_INTERNAL_HOSTS", "OUTBOUND_ALLOWED_INTERNAL_HOSTS")
)


class UnsafeURL(ServiceError):
    code = "unsafe_url"


def resolve(host: str, port: int) -> list[str]:
    try:
        return outbound_resolve(host, port)
    except ResolutionFailed as exc:
        raise UnsafeURL(f"The host “{host}” could not be resolved.", field="base_url") from exc


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
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURL("The address has an invalid port.", field="base_url") from exc
    host = parts.hostname.lower()
    normalised = f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
    if CENTRAL_POLICY.allowed_internal(host, port):
        return normalised
    try:
        addresses = [parse_address(host)]
    except ValueError:
        addresses = [parse_address(address) for address in resolve(host, port)]
    if any(is_internal(address) for address in addresses):
        raise UnsafeURL(
            f"“{host}” points to a private or internal network address; use the server's "
            "public address.",
            field="base_url",
        )
    return normalised
