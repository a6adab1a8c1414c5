"""Helpers for API tests: clients on a host, tokens of any role, tenant context."""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from datetime import datetime

from django.db import connection
from rest_framework.test import APIClient

from control_plane.accounts.models import ApiToken
from control_plane.accounts.services.api_tokens import TOKEN_PREFIX, hash_token


@contextmanager
def tenant(organization):
    """Run ORM set-up inside ``organization``'s schema (requests reset it to public)."""
    previous = connection.tenant
    connection.set_tenant(organization)
    try:
        yield organization
    finally:
        if previous is not None and previous.schema_name != "public":
            connection.set_tenant(previous)
        else:
            connection.set_schema_to_public()


def issue_token(organization, user, role: str, *, expires_at: datetime | None = None) -> str:
    """A raw API token of ``role`` created by ``user`` (written directly, any role allowed)."""
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    ApiToken.objects.create(
        organization=organization,
        name=f"{role} token",
        role=role,
        prefix=prefix,
        token_hash=hash_token(raw),
        created_by=user,
        expires_at=expires_at,
    )
    return raw


def api_client(organization, *, token: str | None = None, user=None, csrf: bool = False):
    """An APIClient for ``organization``'s host, with a token or a logged-in session."""
    client = APIClient(enforce_csrf_checks=csrf, HTTP_HOST=organization.primary_domain)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    if user is not None:
        client.force_login(user)
    return client


def error_of(response) -> dict:
    """The ``error`` object of an error response, checking the one error format."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]
