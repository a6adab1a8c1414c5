"""Who may do what on an organization's API: membership first, then role.

Order matters for privacy (DESIGN.md §1): no credentials → 401; valid
credentials but not a member of *this* organization → 404, so that the
organization's existence does not leak; a member whose role is too low → 403.

A view declares the minimum role per method kind or per action::

    read_role = Role.VIEWER          # GET, HEAD, OPTIONS
    write_role = Role.EDITOR         # everything else
    action_roles = {"retry": Role.EDITOR, "destroy": Role.ADMIN}

For tokens the role is the token's (never above its creator's current role);
for sessions it is the membership's, looked up once per request.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from api.common.authentication import token_identity
from control_plane.accounts.models import Membership
from control_plane.accounts.roles import Role, can_grant, role_at_least
from control_plane.middleware import HostKind, HostResolution, closed_host_member

_UNSET = object()


def request_role(request: Request) -> str | None:
    """The caller's effective role in the host's organization, or None (not a member)."""
    cached = getattr(request, "_api_role", _UNSET)
    if cached is not _UNSET:
        return cached
    role: str | None = None
    identity = token_identity(request)
    organization = getattr(request._request, "tenant", None)
    if identity is not None:
        role = identity.role
    elif organization is not None and request.user and request.user.is_authenticated:
        membership = Membership.objects.filter(
            user_id=request.user.pk, organization_id=organization.pk
        ).first()
        if membership is not None:
            membership.organization = organization
            request._request.membership = membership
            role = membership.role
    request._api_role = role
    return role


def required_role(view: Any, request: Request) -> str:
    action = getattr(view, "action", None)
    roles = getattr(view, "action_roles", {}) or {}
    if action in roles:
        return roles[action]
    if request.method in SAFE_METHODS:
        return getattr(view, "read_role", Role.VIEWER)
    return getattr(view, "write_role", Role.EDITOR)


def require_grantable(request: Request, role: str, *, what: str = "grant this role") -> None:
    """Refuse to hand out a role above the caller's own (tokens included).

    Services check the *user's* membership role; a token may hold less than
    its creator, so the API checks the effective role before calling them.
    """
    caller = request_role(request)
    if role not in Role.values:
        return  # the service answers with a field error
    if caller is None or not role_at_least(caller, role) or not can_grant(caller, role):
        raise exceptions.PermissionDenied(f"Your role does not allow you to {what}.")


class OrganizationUnavailable(exceptions.PermissionDenied):
    default_code = "organization_suspended"


class OrganizationNotReady(exceptions.APIException):
    status_code = 503
    default_detail = "This organization is still being set up; try again in a moment."
    default_code = "organization_not_ready"


def _closed(request: Request) -> HostResolution | None:
    return getattr(request._request, "closed_host", None)


class TenantRolePermission(BasePermission):
    """Members only (404 otherwise), with the view's minimum role per method or action."""

    def has_permission(self, request: Request, view: Any) -> bool:
        # Credentials first, then the host: a host with no active organization answers
        # 401 like any other, so that callers without credentials learn nothing.
        if not (request.user and request.user.is_authenticated):
            if getattr(request._request, "tenant", None) is None and not _closed(request):
                raise Http404("No organization at this address.")  # the control plane
            raise exceptions.NotAuthenticated()
        if getattr(request._request, "tenant", None) is None:
            closed = _closed(request)
            if closed is not None and closed_host_member(request.user, closed):
                if closed.kind is HostKind.SUSPENDED:
                    raise OrganizationUnavailable(
                        "This organization is suspended; its data is kept.",
                        code="organization_suspended",
                    )
                raise OrganizationNotReady()
            raise Http404("No organization at this address.")
        role = request_role(request)
        if role is None:
            raise Http404("No organization at this address.")
        minimum = required_role(view, request)
        if not role_at_least(role, minimum):
            raise exceptions.PermissionDenied(
                f"This needs the {Role(minimum).label.lower()} role or higher."
            )
        return True
