"""Who may do what on an organization's pages (DESIGN.md §1 roles).

Someone who is not a member never reaches a view (the membership middleware
answers 404). A member whose role is too low gets 403 with a page that says
which role is needed: they know the organization exists, and they should
learn whom to ask.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from control_plane.accounts.roles import Role, role_at_least

VIEWER, EDITOR, ADMIN = Role.VIEWER, Role.EDITOR, Role.ADMIN


def has_role(request, minimum: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and role_at_least(membership.role, minimum)


def require(request, minimum: str) -> None:
    if not has_role(request, minimum):
        raise PermissionDenied(f"{Role(minimum).label} role")


def role_required(minimum: str):
    """Decorate a tenant view: members below ``minimum`` get 403."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            require(request, minimum)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
