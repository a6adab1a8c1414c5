"""Sign in with Google / connect Google: starting the flow, landing after it, Picker tokens."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from control_plane.middleware import resolve_host
from control_plane.urls_helpers import base_url, organization_url
from frontend import google_auth
from frontend.navigation import safe_next_url
from tenants.publishing import credentials
from tenants.publishing.google import GoogleError, refresh_access_token
from tenants.secretstore.store import secret_store


def _require_google() -> None:
    if not google_auth.google_enabled():
        raise Http404("Google sign-in is not configured.")


@never_cache
def google_begin(request):
    """Control plane: remember where to go (and which organization to connect), then go to Google."""
    _require_google()
    next_url = safe_next_url(request, request.GET.get("next"), "/organizations/")
    request.session[google_auth.SESSION_NEXT] = next_url
    hostname = (urlsplit(next_url).hostname or "").lower()
    organization = resolve_host(hostname).organization if hostname else None
    request.session[google_auth.SESSION_ORGANIZATION] = organization.pk if organization else None
    return redirect(reverse("social:begin", args=["google-oauth2"]))


@never_cache
def google_done(request):
    """Where social-auth lands after Google: on to the page the flow started from."""
    next_url = request.session.pop(google_auth.SESSION_NEXT, None)
    return redirect(safe_next_url(request, next_url, "/organizations/"))


def google_connect(request):
    """Organization host: connect the member's Google account to this organization."""
    _require_google()
    back = request.GET.get("next", "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    target = organization_url(request.tenant, back)
    return redirect(base_url("/auth/google/?" + urlencode({"next": target})))


@require_POST
@never_cache
def google_picker_token(request):
    """A short-lived access token for the Google Picker of the person asking."""
    if not google_auth.picker_enabled():
        raise Http404
    refresh = secret_store().get_optional(credentials.google_refresh_token(request.user.pk))
    if refresh is None:
        return JsonResponse({"error": "google_not_connected"}, status=409)
    try:
        access = refresh_access_token(refresh.reveal())
    except GoogleError as exc:
        return JsonResponse({"error": exc.code, "message": exc.message}, status=502)
    return JsonResponse(
        {
            "access_token": access,
            "api_key": settings.GOOGLE_PICKER_API_KEY,
            "app_id": settings.GOOGLE_APP_ID,
        }
    )
