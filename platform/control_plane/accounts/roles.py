"""Organization roles and what each may do, in one place."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


def role_rank(role: str) -> int:
    return _RANK[Role(role)]


def role_at_least(role: str, minimum: str) -> bool:
    """True when ``role`` grants everything ``minimum`` grants."""
    return role_rank(role) >= role_rank(minimum)


def can_manage_members(role: str) -> bool:
    return role_at_least(role, Role.ADMIN)


def can_grant(granter_role: str, role: str) -> bool:
    """Admins grant up to admin; only owners make owners."""
    if role == Role.OWNER:
        return granter_role == Role.OWNER
    return can_manage_members(granter_role)
