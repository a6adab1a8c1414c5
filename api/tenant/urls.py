"""Routes of the tenant API, included at ``/api/`` by ``control_plane.tenant_urls``.

The isolation tests walk these patterns (not a hand-written list), so every
route added here is checked for cross-organization access automatically.
"""

from __future__ import annotations

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from api.common.docs import RedocDocsView, SwaggerDocsView
from api.common.views import not_found_view
from api.tenant.app_users import AppUserViewSet
from api.tenant.audit import AuditEventViewSet
from api.tenant.index import ApiIndexView
from api.tenant.invitations import InvitationViewSet
from api.tenant.me import MeView
from api.tenant.members import MemberViewSet
from api.tenant.projects import ProjectViewSet
from api.tenant.publish_runs import PublishRunViewSet
from api.tenant.schema_views import TenantSchemaView
from api.tenant.servers import ServerViewSet
from api.tenant.templates import TemplateViewSet
from api.tenant.tokens import TokenViewSet
from api.tenant.variables import VariableViewSet
from api.tenant.versions import VersionViewSet


class Router(SimpleRouter):
    # Ids are integers: "import" or "export" can never be taken for an id.
    def get_lookup_regex(self, viewset, lookup_prefix=""):
        return rf"(?P<{lookup_prefix}pk>[0-9]+)"


router = Router()
router.register("members", MemberViewSet, basename="member")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("tokens", TokenViewSet, basename="token")
router.register("servers", ServerViewSet, basename="server")
router.register("projects", ProjectViewSet, basename="project")
router.register("variables", VariableViewSet, basename="variable")
router.register("app-users", AppUserViewSet, basename="app-user")
router.register("templates", TemplateViewSet, basename="template")
router.register(
    r"templates/(?P<template_pk>[0-9]+)/versions", VersionViewSet, basename="template-version"
)
router.register("publish-runs", PublishRunViewSet, basename="publish-run")
router.register("audit-events", AuditEventViewSet, basename="audit-event")

v1_patterns = [
    path("", ApiIndexView.as_view(), name="api-index"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]

urlpatterns = [
    path("v1/", include(v1_patterns)),
    path("schema/", TenantSchemaView.as_view(), name="api-schema"),
    path("docs/", SwaggerDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", RedocDocsView.as_view(url_name="api-schema"), name="api-redoc"),
    re_path(r"^v[0-9]+/", not_found_view),
]
