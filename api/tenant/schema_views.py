"""The tenant API's OpenAPI document at ``/api/schema/`` (members only).

The document is the same for every organization, but serving it on an
organization's host to anyone would confirm that the organization exists;
so it needs the same credentials as the API. It is generated once per
process (it only changes with the code) from ``api.tenant.schema_urlconf``,
which holds the API routes alone.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.authentication import ApiTokenAuthentication, SessionAuthentication
from api.common.permissions import TenantRolePermission
from api.common.views import ApiViewMixin

SCHEMA_URLCONF = "api.tenant.schema_urlconf"
_CACHE: dict[str, Any] = {}


def tenant_schema() -> dict:
    """The tenant API's OpenAPI document (cached per process)."""
    if "schema" not in _CACHE:
        generator = SchemaGenerator(urlconf=SCHEMA_URLCONF)
        _CACHE["schema"] = generator.get_schema(request=None, public=True)
    return _CACHE["schema"]


class TenantSchemaView(ApiViewMixin, SpectacularAPIView):
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [TenantRolePermission]
    urlconf = SCHEMA_URLCONF

    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version
        return Response(
            data=tenant_schema(),
            headers={
                "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'
            },
        )
