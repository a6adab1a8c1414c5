"""What every control-plane view shares: the API pipeline, platform tokens, scopes."""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.views import APIView

from api.common.errors import api_exception_handler
from api.common.filters import ApiOrderingFilter
from api.common.pagination import KeysetCursorPagination
from api.common.parsers import LimitedJSONParser
from api.common.views import ApiViewMixin
from api.control.authentication import PlatformTokenAuthentication
from api.control.permissions import PlatformScopePermission
from api.control.throttling import PlatformTokenThrottle


class ControlMixin(ApiViewMixin):
    """Platform token, scope check, per-token rate limit, size-limited JSON, one error format.

    Set explicitly rather than inherited from ``REST_FRAMEWORK`` defaults, which
    are the tenant API's (organization tokens, memberships).
    """

    authentication_classes = [PlatformTokenAuthentication]
    permission_classes = [PlatformScopePermission]
    throttle_classes = [PlatformTokenThrottle]
    parser_classes = [LimitedJSONParser]
    pagination_class = KeysetCursorPagination
    filter_backends = [ApiOrderingFilter]

    def get_exception_handler(self):
        return api_exception_handler


class ControlViewSet(ControlMixin, viewsets.GenericViewSet):
    pass


class ControlAPIView(ControlMixin, APIView):
    pass
