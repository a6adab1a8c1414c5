"""``GET /api/v1/`` on an organization's host: links to its resources, schema and docs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.index import api_index
from api.common.views import ApiViewMixin

# Resource name → URL name of its list (the router's ``<basename>-list``).
RESOURCES = {
    "me": "me",
    "members": "member-list",
    "invitations": "invitation-list",
    "tokens": "token-list",
    "servers": "server-list",
    "projects": "project-list",
    "variables": "variable-list",
    "app-users": "app-user-list",
    "templates": "template-list",
    "publish-runs": "publish-run-list",
    "audit-events": "audit-event-list",
}
NAMES = {"schema": "api-schema", "docs": "api-docs", "redoc": "api-redoc"}


class ApiIndexView(ApiViewMixin, GenericAPIView):
    """Members (or their tokens) only, like every other route of this API."""

    pagination_class = None
    filter_backends: list = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            api_index(request, title="Publish MDM API", resources=RESOURCES, names=NAMES)
        )
