"""Committed accounts for browser tests: a member of a committed organization, and logging in."""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

PASSWORD = "a-very-good-pass-42"  # noqa: S105 - a test account's password


@contextmanager
def committed_member(organization, email: str, role: str = "owner", full_name: str = ""):
    """A user who is a member of ``organization`` (committed); deleted afterwards."""
    from control_plane.accounts.models import Membership, User

    connection.set_schema_to_public()
    user = User.objects.create_user(email=email, full_name=full_name)
    # Hashed the way the server checks it (the tests' own hasher is a fast one).
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    Membership.objects.create(user=user, organization=organization, role=role)
    connection.set_tenant(organization)
    try:
        yield user
    finally:
        connection.set_schema_to_public()
        User.objects.filter(pk=user.pk).delete()
        connection.set_tenant(organization)


def log_in(page, origin: str, email: str, password: str = PASSWORD) -> None:
    """Log in on ``origin`` (an organization's host) and wait for its dashboard."""
    page.goto(origin + "/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("#main").get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("heading", name="Dashboard", exact=True).wait_for()
