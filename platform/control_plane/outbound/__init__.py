"""Every outbound HTTP request goes through here (DESIGN.md §6): one guarded transport.

Customers type addresses (a Central server) that our workers then call, and
vendors' answers can redirect anywhere; a check made once when the address is
saved does not hold later (a redirect, a DNS answer that changes). So the
check happens when each connection is opened: the host name is resolved once,
every address is checked (private, loopback, link-local and cloud-metadata
addresses are refused unless the ``host:port`` is allow-listed), the socket is
opened to the checked address (TLS still verifies the certificate against the
host name), and redirects are never followed. A refused target is never sent
a request, so none of its answer can reach a user.

Clients build their ``requests`` session with :func:`guarded_session`; the
control plane and tenant apps alike (this package imports neither).
"""

from control_plane.outbound.addresses import is_internal
from control_plane.outbound.policy import (
    OutboundPolicy,
    OutboundRedirectRefused,
    OutboundRefused,
    UnsafeAddress,
    check_host,
)
from control_plane.outbound.resolver import resolve
from control_plane.outbound.session import GuardedSession, guarded_session

__all__ = [
    "GuardedSession",
    "OutboundPolicy",
    "OutboundRedirectRefused",
    "OutboundRefused",
    "UnsafeAddress",
    "check_host",
    "guarded_session",
    "is_internal",
    "resolve",
]
