"""Sign in with Google / connect Google: starting the flow, landing after it, Picker tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from social_django import views as social_views

from control_plane.middleware import resolve_host
from frontend import google_auth
from frontend.navigation import safe_next_url
from tenants.publishing import credentials
from tenants.publishing.google import GoogleError, refresh_access_token
from tenants.secretstore.store import secret_store


def _require_google() -> None:
    if not google_auth.google_enabled():
        raise Http404("Google sign-in is not configured.")


@require_POST
@never_cache
def google_begin(request):
    """Control plane: remember where to go (and which organization to connect), then go to Google.

    A POST with the CSRF token, like social-auth's own begin view (which it calls): a page
    of another site cannot start a Google login in someone's browser.
    """
    _require_google()
    next_url = safe_next_url(request, request.POST.get("return_to"), "/organizations/")
    request.session[google_auth.SESSION_NEXT] = next_url
    hostname = (urlsplit(next_url).hostname or "").lower()
    organization = resolve_host(hostname).organization if hostname else None
    request.session[google_auth.SESSION_ORGANIZATION] = organization.pk if organization else None
    return social_views.auth(request, "google-oauth2")


@never_cache
def google_done(request):
    """Where social-auth lands after Google: on to the page the flow started from."""
    next_url = request.session.pop(google_auth.SESSION_NEXT, None)
    return redirect(safe_next_url(request, next_url, "/organizations/"))


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
