"""URLs served on every organization's host (the tenant schema is active)."""

from django.urls import include, path

from control_plane.health import healthz
from realtime.views import ticket_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("realtime/ticket/", ticket_view, name="realtime-ticket"),
    # REST API: /api/v1/, /api/schema/, /api/docs/, /api/redoc/ (docs/api.md).
    path("api/", include("api.tenant.urls")),
    path("", include("frontend.tenant_urls")),
]

# Error pages that do not read the body again (frontend.errors).
handler403 = "frontend.errors.permission_denied"
handler404 = "frontend.errors.page_not_found"
