"""URLs of the control plane (the bare BASE_DOMAIN host)."""

from django.urls import include, path

from control_plane.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/", include("api.control.urls")),
    path("", include("frontend.public_urls")),
]
