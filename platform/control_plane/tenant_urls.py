"""URLs served on every organization's host (the tenant schema is active)."""

from django.urls import include, path

from control_plane.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("frontend.tenant_urls")),
]
