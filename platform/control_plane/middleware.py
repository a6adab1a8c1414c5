"""Request pipeline: request ids, routing by host to a tenant schema, membership checks.

Routing (DESIGN.md §1): the bare ``BASE_DOMAIN`` is the control plane, a
known organization domain activates that organization's schema, and every
other host gets 404. We route ourselves rather than through django-tenants'
``TenantMainMiddleware`` because the control plane has no tenant row and we
answer suspended and archived organizations differently; a host with no active
organization answers anonymous visitors exactly like an active one.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.loader import render_to_string
from django.urls import set_urlconf

from control_plane.client_address import client_address
from control_plane.logging_setup import bind_context, clear_context
from control_plane.organizations.models import Domain, Organization, OrganizationStatus
from control_plane.urls_helpers import base_url

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# Paths answered on any host without membership (load balancer probes, login).
OPEN_PATHS = ("/healthz", "/static/")
ANONYMOUS_TENANT_PATHS = ("/login/", "/logout/")
# The REST API and its schema authenticate and check membership themselves
# (api.common): API clients get 401/404 JSON, never a login redirect. The docs
# pages (/api/docs/, /api/redoc/) are HTML and behave like the workspace.
API_PATH_RE = re.compile(r"^/api/(v[0-9]+|schema)/")


class RequestIdMiddleware:
    """Accept a sane ``X-Request-ID`` or make one; bind it to every log line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        clear_context()
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        # The one client address (trusted proxies only) for log lines and the audit trail.
        request.client_address = client_address(request)
        bind_context(request_id=request.request_id, client_address=request.client_address)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def hostname_from_host_header(host: str) -> str:
    """``Acme.Example.org.:8000`` → ``acme.example.org``; IPv6 literals never name a tenant."""
    host = host.rsplit(":", 1)[0] if not host.startswith("[") else ""
    return host.lower().rstrip(".")


def request_hostname(request: HttpRequest) -> str:
    return hostname_from_host_header(request.get_host())


def is_local_alias(host: str) -> bool:
    """A name for this machine that is not ours: ``localhost``, ``*.localhost``, a loopback
    or unspecified address (``127.0.0.1``, ``[::1]``, ``0.0.0.0``), with any port.

    ``BASE_DOMAIN`` and its subdomains are never aliases: an unknown organization
    there is a plain 404.
    """
    import ipaddress

    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    else:
        name = hostname_from_host_header(host)
    base = settings.BASE_DOMAIN
    if not name or name == base or name.endswith("." + base):
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class HostKind(enum.Enum):
    PUBLIC = "public"  # the control plane (BASE_DOMAIN)
    UNKNOWN = "unknown"  # no such domain, or an archived organization
    SUSPENDED = "suspended"
    NOT_READY = "not_ready"  # pending, provisioning or failed
    ACTIVE = "active"


@dataclass(frozen=True)
class HostResolution:
    kind: HostKind
    organization: Organization | None = None


def resolve_host(hostname: str) -> HostResolution:
    """What a host name routes to, for HTTP and WebSockets alike (one lookup, one rule).

    Runs against the public schema's ``Domain`` table; callers activate the
    organization's schema themselves (per request, or per socket call).
    """
    if hostname == settings.BASE_DOMAIN:
        return HostResolution(HostKind.PUBLIC)
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    organization = domain.tenant if domain else None
    if organization is None or organization.status == OrganizationStatus.ARCHIVED:
        return HostResolution(HostKind.UNKNOWN)
    if organization.status == OrganizationStatus.SUSPENDED:
        return HostResolution(HostKind.SUSPENDED, organization)
    if organization.status != OrganizationStatus.ACTIVE:
        return HostResolution(HostKind.NOT_READY, organization)
    organization.domain_url = hostname
    return HostResolution(HostKind.ACTIVE, organization)


def bad_host_response(request: HttpRequest) -> HttpResponse:
    """400 for a malformed ``Host``: JSON in the API's error format under ``/api/``."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": "bad_host", "message": "Invalid Host header.", "fields": {}}}
        return JsonResponse(body, status=400)
    return HttpResponseBadRequest("Invalid Host header.", content_type="text/plain")


class TenantRoutingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connection.set_schema_to_public()
        request.tenant = None
        try:
            hostname = request_hostname(request)
        except DisallowedHost:
            return bad_host_response(request)
        if request.path.startswith(OPEN_PATHS) or hostname == settings.BASE_DOMAIN:
            self._route_public(request)
            return self.get_response(request)
        resolution = resolve_host(hostname)
        organization = resolution.organization
        request.closed_host = None
        if (
            resolution.kind is HostKind.UNKNOWN
            and not settings.IS_PRODUCTION
            and is_local_alias(request.get_host())
        ):
            # Development: http://localhost:8000/ or 127.0.0.1 would be a dead end
            # (sessions and organizations live on BASE_DOMAIN); go there instead.
            return HttpResponseRedirect(base_url(request.get_full_path()))
        if resolution.kind is not HostKind.ACTIVE:
            # Unknown, archived, suspended or not ready: answered after authentication by
            # TenantMembershipMiddleware, exactly as an active organization's host answers
            # anonymous visitors (log in first), so that they cannot tell which exist.
            request.closed_host = resolution
            request.urlconf = settings.ROOT_URLCONF
            set_urlconf(request.urlconf)
            bind_context(tenant="none")
            return self.get_response(request)
        request.tenant = organization
        connection.set_tenant(organization)
        request.urlconf = settings.ROOT_URLCONF
        set_urlconf(request.urlconf)
        bind_context(tenant=organization.schema_name)
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()

    @staticmethod
    def _route_public(request: HttpRequest) -> None:
        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        set_urlconf(request.urlconf)
        bind_context(tenant="public")


def closed_host_member(user, resolution: HostResolution | None) -> bool:
    """Whether ``user`` may be told about the organization behind a closed host: a member
    of a suspended or not-ready organization, or the person who is creating it."""
    from control_plane.accounts.models import Membership

    organization = resolution.organization if resolution is not None else None
    if organization is None or not user.is_authenticated:
        return False
    if resolution.kind is HostKind.NOT_READY and organization.created_by_id == user.pk:
        return True
    return Membership.objects.filter(user=user, organization=organization).exists()


class TenantMembershipMiddleware:
    """On organization hosts: anonymous → log in; not a member → 404 (existence does not leak).

    Hosts with no active organization (unknown, archived, suspended, not ready) answer
    anonymous visitors the same way, so that nobody learns which organizations exist;
    only members learn that theirs is suspended or still being set up.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from control_plane.accounts.models import Membership

        request.membership = None
        organization = getattr(request, "tenant", None)
        closed = getattr(request, "closed_host", None)
        if organization is None and closed is None:
            return self.get_response(request)  # the control plane
        if request.path.startswith(OPEN_PATHS + ANONYMOUS_TENANT_PATHS):
            return self.get_response(request)
        if API_PATH_RE.match(request.path):
            return self.get_response(request)  # the API authenticates, then answers 401/404
        if not request.user.is_authenticated:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"/login/?{query}")
        if closed is not None:
            return self._closed(request, closed)
        membership = Membership.objects.filter(user=request.user, organization=organization).first()
        if membership is None:
            raise Http404("No organization at this address.")
        membership.organization = organization
        request.membership = membership
        return self.get_response(request)

    @staticmethod
    def _closed(request: HttpRequest, closed: HostResolution) -> HttpResponse:
        if not closed_host_member(request.user, closed):
            raise Http404("No organization at this address.")
        context = {"organization": closed.organization}
        if closed.kind is HostKind.SUSPENDED:
            return HttpResponse(
                render_to_string("frontend/suspended.html", context, request=None), status=403
            )
        return HttpResponse(
            render_to_string("frontend/not_ready.html", context, request=None),
            status=503,
            headers={"Retry-After": "2"},
        )


class LogContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            bind_context(user_id=user.pk)
        return self.get_response(request)
