"""URLs of the control-plane API, included at ``api/`` by ``control_plane.urls``.

``/api/v1/...`` are the operations and ``/api/v1/`` their index; ``/api/schema/``
is their OpenAPI document, with Swagger UI at ``/api/docs/`` and Redoc at
``/api/redoc/`` as on organization hosts (also at ``/api/schema/swagger/`` and
``/api/schema/redoc/``), served from drf-spectacular-sidecar's files, no CDN,
no inline code (``api.common.docs``).
"""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from api.common.docs import RedocDocsView, SwaggerDocsView
from api.common.views import not_found_view
from api.control import schema
from api.control.views.invitations import InvitationViewSet
from api.control.views.misc import ApiIndexView, PlanViewSet, SignupView, TokenView
from api.control.views.organizations import OrganizationViewSet

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="control-organization")
router.register("plans", PlanViewSet, basename="control-plan")
invitations = SimpleRouter()
invitations.register(
    r"organizations/(?P<organization_slug>[a-z0-9-]+)/invitations",
    InvitationViewSet,
    basename="control-invitation",
)

v1_patterns = [
    path("signup/", SignupView.as_view(), name="control-signup"),
    path("token/", TokenView.as_view(), name="control-token"),
    *router.urls,
    *invitations.urls,
]

# The document lists only these operations (the tenant API has its own).
schema_urlpatterns = [path("api/v1/", include(v1_patterns))]

TITLE = schema.SPECTACULAR_OVERRIDES["TITLE"]
swagger = SwaggerDocsView.as_view(url_name="control-schema", title=TITLE)
redoc = RedocDocsView.as_view(url_name="control-schema", title=TITLE)

urlpatterns = [
    path("v1/", ApiIndexView.as_view(), name="control-index"),
    path("v1/", include(v1_patterns)),
    path(
        "schema/",
        SpectacularAPIView.as_view(
            urlconf="api.control.urls_schema", custom_settings=schema.SPECTACULAR_OVERRIDES
        ),
        name="control-schema",
    ),
    path("docs/", swagger, name="control-docs"),
    path("redoc/", redoc, name="control-redoc"),
    path("schema/swagger/", swagger, name="control-schema-swagger"),
    path("schema/redoc/", redoc, name="control-schema-redoc"),
    re_path(r"^v\d+/.*$", not_found_view),
]
