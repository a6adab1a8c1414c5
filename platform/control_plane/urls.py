"""URLs of the control plane (the bare BASE_DOMAIN host)."""

from django.urls import include, path

from control_plane.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/", include("api.control.urls")),
    path("", include("frontend.public_urls")),
]

# Error pages that do not read the body again (frontend.errors).
handler403 = "frontend.errors.permission_denied"
handler404 = "frontend.errors.page_not_found"
