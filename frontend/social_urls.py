"""social-auth's begin and complete views, answering only when Google is configured."""

from functools import wraps

from django.urls import path
from social_django import views as social_views

from frontend.google_auth import google_enabled

app_name = "social"


def _when_configured(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not google_enabled():
            from django.http import Http404

            raise Http404("Google sign-in is not configured.")
        return view(request, *args, **kwargs)

    return wrapper


urlpatterns = [
    path("login/<str:backend>/", _when_configured(social_views.auth), name="begin"),
    path("complete/<str:backend>/", _when_configured(social_views.complete), name="complete"),
]
