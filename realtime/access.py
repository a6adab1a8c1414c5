"""Who may open a socket on which host: tenant by host, origin, credentials, membership.

Sync functions against the public schema, called from the socket middleware
through ``context.public_call``. The rules are HTTP's: the host resolves with
``control_plane.middleware.resolve_host`` (the same lookup and statuses), a
session is read with Django's own ``get_user``, and API tokens with
``api_token_authenticate``. Each refusal maps to one close code
(``protocol.CloseCode``) so that a client can tell "log in again" from
"wrong address".
"""

from __future__ import annotations

from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user
from django.http import HttpRequest
from django.http.cookie import parse_cookie

from control_plane.accounts.models import ApiToken, Membership, User
from control_plane.accounts.roles import role_at_least
from control_plane.accounts.services.api_tokens import api_token_authenticate
from control_plane.middleware import HostKind, hostname_from_host_header, resolve_host
from control_plane.organizations.models import Domain, Organization, OrganizationStatus
from realtime.context import SocketIdentity, SocketTenant
from realtime.protocol import CloseCode
from realtime.tickets import ticket_check

_HOST_REFUSALS = {
    HostKind.PUBLIC: CloseCode.UNKNOWN_HOST,  # no sockets on the control plane
    HostKind.UNKNOWN: CloseCode.UNKNOWN_HOST,
    HostKind.SUSPENDED: CloseCode.SUSPENDED,
    HostKind.NOT_READY: CloseCode.NOT_READY,
}


def resolve_tenant(host_header: str | None) -> SocketTenant | CloseCode:
    """The organization at this host, exactly as HTTP routes it, or why there is none."""
    hostname = hostname_from_host_header(host_header or "")
    if not hostname:
        return CloseCode.BAD_REQUEST
    resolution = resolve_host(hostname)
    if resolution.kind is not HostKind.ACTIVE:
        return _HOST_REFUSALS[resolution.kind]
    organization = resolution.organization
    hosts = frozenset(
        Domain.objects.filter(tenant_id=organization.pk).values_list("domain", flat=True)
    )
    return SocketTenant(
        schema=organization.schema_name,
        organization_id=organization.pk,
        slug=organization.slug,
        hosts=hosts,
    )


def anonymous_refusal(host_header: str | None, origin: str | None) -> CloseCode:
    """What a handshake without credentials gets on a host with no active organization:
    what an active organization's host would answer it (bad origin, else "log in"), so that
    anonymous clients cannot tell which organizations exist. The control plane stays 4404."""
    hostname = hostname_from_host_header(host_header or "")
    if not hostname or hostname == settings.BASE_DOMAIN:
        return CloseCode.UNKNOWN_HOST
    stand_in = SocketTenant(schema="", organization_id=0, slug="", hosts=frozenset({hostname}))
    if not origin_allowed(origin, stand_in):
        return CloseCode.ORIGIN_REJECTED
    return CloseCode.UNAUTHENTICATED


def origin_allowed(origin: str | None, tenant: SocketTenant) -> bool:
    """A browser's ``Origin`` must be one of the organization's own hosts (any port).

    Browsers always send ``Origin`` on a WebSocket handshake, so this is what
    stops another site, or another organization's subdomain (same site, so
    SameSite cookies do not help), from using a member's session. Non-browser
    clients send no ``Origin`` and authenticate with a token or ticket.
    """
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
        hostname = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    return parts.scheme in {settings.PUBLIC_SCHEME, "https"} and hostname in tenant.hosts


def authenticate(
    tenant: SocketTenant, *, authorization: str | None, ticket: str | None, cookie: str | None
) -> SocketIdentity | CloseCode:
    """One credential, tried in this order: ``Authorization`` header, ticket, session cookie.

    A credential that is present but bad is refused outright rather than
    falling back to the next, so a stale token never silently becomes the
    browser's session.
    """
    if authorization is not None:
        return _token_identity(tenant, authorization)
    if ticket is not None:
        check = ticket_check(ticket, schema=tenant.schema)
        if check.user_id is None:
            return CloseCode.UNAUTHENTICATED
        return _member_identity(tenant, _active_user(check.user_id), method="ticket")
    session_key = parse_cookie(cookie or "").get(settings.SESSION_COOKIE_NAME)
    if session_key:
        user = _session_user(session_key)
        return _member_identity(tenant, user, method="session", session_key=session_key)
    return CloseCode.UNAUTHENTICATED


def revalidate(tenant: SocketTenant, identity: SocketIdentity) -> SocketIdentity | CloseCode:
    """Is the socket still allowed (organization active, credential valid, still a member)?

    Called periodically by the consumer, so that logging out, revoking a
    token, removing a member or suspending the organization reaches open
    sockets too; the role is refreshed on the way.
    """
    status = Organization.objects.filter(pk=tenant.organization_id).values_list("status", flat=True)
    status = status.first()
    if status == OrganizationStatus.SUSPENDED:
        return CloseCode.SUSPENDED
    if status != OrganizationStatus.ACTIVE:
        return CloseCode.UNKNOWN_HOST
    if identity.method == "token":
        return _token_still_valid(tenant, identity)
    if identity.method == "session":
        user = _session_user(identity.session_key or "")
        if user is None or user.pk != identity.user_id:
            return CloseCode.UNAUTHENTICATED
    else:
        user = _active_user(identity.user_id)
    return _member_identity(tenant, user, method=identity.method, session_key=identity.session_key)


# --- credentials ---------------------------------------------------------------------------


def _token_identity(tenant: SocketTenant, authorization: str) -> SocketIdentity | CloseCode:
    scheme, _, raw = authorization.strip().partition(" ")
    if scheme.lower() not in ("bearer", "token") or not raw.strip():
        return CloseCode.UNAUTHENTICATED
    organization = Organization.objects.filter(pk=tenant.organization_id).first()
    if organization is None:
        return CloseCode.UNKNOWN_HOST
    identity = api_token_authenticate(raw.strip(), organization)
    if identity is None:
        # Unknown, revoked, expired, another organization's, or its creator left.
        return CloseCode.UNAUTHENTICATED
    return SocketIdentity(
        user_id=identity.user.pk, role=identity.role, method="token", token_id=identity.token.pk
    )


def _token_still_valid(
    tenant: SocketTenant, identity: SocketIdentity
) -> SocketIdentity | CloseCode:
    token = ApiToken.objects.filter(pk=identity.token_id).select_related("created_by").first()
    if token is None or not token.is_usable() or token.organization_id != tenant.organization_id:
        return CloseCode.UNAUTHENTICATED
    creator = token.created_by
    if creator is None or not creator.is_active:
        return CloseCode.UNAUTHENTICATED
    creator_role = _role(tenant, creator.pk)
    if creator_role is None:
        return CloseCode.NOT_MEMBER
    role = token.role if role_at_least(creator_role, token.role) else creator_role
    return SocketIdentity(user_id=creator.pk, role=role, method="token", token_id=token.pk)


def _session_user(session_key: str) -> User | None:
    """The user logged in with this session, checked exactly as HTTP checks it."""
    engine = import_module(settings.SESSION_ENGINE)
    request = HttpRequest()
    request.session = engine.SessionStore(session_key)
    user = get_user(request)
    return user if user.is_authenticated and user.is_active else None


def _active_user(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def _role(tenant: SocketTenant, user_id: int) -> str | None:
    return (
        Membership.objects.filter(user_id=user_id, organization_id=tenant.organization_id)
        .values_list("role", flat=True)
        .first()
    )


def _member_identity(
    tenant: SocketTenant, user: User | None, *, method: str, session_key: str | None = None
) -> SocketIdentity | CloseCode:
    if user is None:
        return CloseCode.UNAUTHENTICATED
    role = _role(tenant, user.pk)
    if role is None:
        return CloseCode.NOT_MEMBER
    return SocketIdentity(user_id=user.pk, role=role, method=method, session_key=session_key)
