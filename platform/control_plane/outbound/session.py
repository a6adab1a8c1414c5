"""The guarded ``requests`` session: checked and pinned connections, no redirects, timeouts.

How the pieces fit: ``GuardedSession`` forces ``allow_redirects=False`` and
turns any redirect answer into :class:`OutboundRedirectRefused`; its adapter
gives urllib3 connection classes whose ``_new_conn`` resolves the host once,
checks every address (:func:`check_host`) and opens the socket to a checked
address. Everything after the socket (TLS with SNI and certificate checks
against the host name, keep-alive, pooling) is urllib3's, unchanged: the
connection object still carries the host name, only the TCP connect is pinned.
"""

from __future__ import annotations

import socket
import sys
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from control_plane.outbound.policy import (
    DEFAULT_POLICY,
    OutboundPolicy,
    OutboundRedirectRefused,
    OutboundRefused,
    UnsafeAddress,
    check_host,
)
from control_plane.outbound.resolver import ResolutionFailed

log = structlog.get_logger(__name__)


class _GuardedConnectionMixin:
    """Replaces urllib3's ``_new_conn``: resolve once, check, connect to the checked address."""

    outbound_policy: OutboundPolicy = DEFAULT_POLICY
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        try:
            addresses = check_host(self.host, self.port, self.outbound_policy)
        except ResolutionFailed as exc:
            raise NameResolutionError(self.host, self, socket.gaierror(str(exc))) from None
        failure: OSError | None = None
        for address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                failure = exc
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        # The last socket error is the cause, so callers can name it ("connection refused").
        raise NewConnectionError(
            self, f"Failed to establish a new connection: {failure}"
        ) from failure


@lru_cache(maxsize=32)
def _pool_classes(policy: OutboundPolicy) -> dict[str, type]:
    attrs = {"outbound_policy": policy}
    http = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), attrs)
    https = type("GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), attrs)
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type(
            "GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}
        ),
    }


class GuardedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose pools open only checked, pinned connections (no proxies)."""

    def __init__(self, policy: OutboundPolicy, *, pool_maxsize: int = 10) -> None:
        self.outbound_policy = policy
        # Clients run their own retry loops; urllib3 must not retry behind them.
        super().__init__(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.outbound_policy)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # A proxy would connect for us, past the address check.
        raise OutboundRefused("Outbound requests may not go through a proxy.")

    def send(self, request, **kwargs):
        try:
            return super().send(request, **kwargs)
        except UnsafeAddress as exc:
            host = urlsplit(request.url).hostname
            log.warning("outbound.refused", host=host, reason=str(exc))
            raise OutboundRefused(str(exc), request=request) from None


class GuardedSession(requests.Session):
    """A ``requests.Session`` for calling the outside world (see the package docstring)."""

    def __init__(
        self,
        *,
        policy: OutboundPolicy = DEFAULT_POLICY,
        timeout: float | None = None,
        pool_maxsize: int = 10,
    ) -> None:
        super().__init__()
        self.trust_env = False  # no proxies or .netrc credentials from the environment
        self.default_timeout = timeout
        adapter = GuardedAdapter(policy, pool_maxsize=pool_maxsize)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method, url, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        if self.default_timeout is not None:
            kwargs.setdefault("timeout", self.default_timeout)
        response = super().request(method, url, *args, **kwargs)
        if response.is_redirect:
            status = response.status_code
            response.close()  # its body (and where it points) is never read or shown
            host = urlsplit(str(url)).hostname
            log.warning("outbound.redirect_refused", host=host, status=status)
            raise OutboundRedirectRefused(
                f"“{host}” answered with a redirect (HTTP {status}), which is not followed; "
                "use the final address",
                request=response.request,
            )
        return response


def guarded_session(
    *,
    policy: OutboundPolicy = DEFAULT_POLICY,
    timeout: float | None = None,
    pool_maxsize: int = 10,
) -> GuardedSession:
    """The session every outbound client uses (one per client object; never shared between
    tenants)."""
    return GuardedSession(policy=policy, timeout=timeout, pool_maxsize=pool_maxsize)
