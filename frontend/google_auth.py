"""Sign in with Google (social-auth-app-django) and connecting Google to an organization.

The OAuth flow always runs on the control-plane host, so Google needs one
redirect URI (``<base>/auth/complete/google-oauth2/``) whatever the
organization. A flow started from an organization's host remembers that
organization in the session (shared by every host of ``BASE_DOMAIN``); when
Google answers, the refresh token goes into *that* organization's secret store
under ``credentials.google_refresh_token(user_id)``, and only if the person is
a member there. Tokens are never kept in social-auth's own table
(``load_extra_data`` is left out of the pipeline).
"""

from __future__ import annotations

import structlog
from django.conf import settings
from django_tenants.utils import schema_context

from control_plane.accounts.models import Membership, User
from control_plane.organizations.models import Organization, OrganizationStatus

log = structlog.get_logger(__name__)

SESSION_ORGANIZATION = "google_connect_organization"
SESSION_NEXT = "google_next"


def google_enabled() -> bool:
    return bool(settings.GOOGLE_CLIENT_ID and settings.GOOGLE_CLIENT_SECRET)


def picker_enabled() -> bool:
    return google_enabled() and bool(settings.GOOGLE_PICKER_API_KEY)


def create_user(strategy, details, backend, user=None, *args, **kwargs):
    """A new account for a Google address nobody has yet (no password: Google only)."""
    if user:
        return {"is_new": False}
    email = (details.get("email") or "").strip()
    if not email:
        return None
    user = User.objects.create_user(
        email=email, password=None, full_name=(details.get("fullname") or "")[:200]
    )
    return {"is_new": True, "user": user}


def store_refresh_token(strategy, backend, user=None, response=None, *args, **kwargs):
    """Keep Google's refresh token in the organization the flow started from."""
    organization_id = strategy.session_get(SESSION_ORGANIZATION)
    strategy.session_set(SESSION_ORGANIZATION, None)
    refresh = (response or {}).get("refresh_token")
    if user is None or not organization_id or not refresh:
        return None
    organization = Organization.objects.filter(
        pk=organization_id, status=OrganizationStatus.ACTIVE
    ).first()
    if (
        organization is None
        or not Membership.objects.filter(user=user, organization=organization).exists()
    ):
        log.warning("google.connect_refused", organization=organization_id)
        return None
    store_google_refresh_token(organization, user, refresh)
    return None


def store_google_refresh_token(organization, user, refresh_token: str) -> None:
    from tenants.publishing import credentials
    from tenants.secretstore.services.secrets import secret_put

    with schema_context(organization.schema_name):
        secret_put(credentials.google_refresh_token(user.pk), refresh_token, actor=user)
    log.info("google.connected", organization=organization.slug)


def google_connected(user) -> bool:
    """True when the current organization holds a Google refresh token for ``user``."""
    from tenants.publishing import credentials
    from tenants.secretstore.store import secret_store

    if not google_enabled() or not getattr(user, "is_authenticated", False):
        return False
    return secret_store().get_optional(credentials.google_refresh_token(user.pk)) is not None
