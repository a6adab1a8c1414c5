"""Plans (read-only), the calling token, and the public signup endpoint."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.index import api_index
from api.control.schema import SPECTACULAR_OVERRIDES
from api.control.serializers import (
    PlanSerializer,
    SignupResultSerializer,
    SignupSerializer,
    TokenInfoSerializer,
)
from api.control.throttling import SignupThrottle
from api.control.views.base import ControlAPIView, ControlViewSet
from control_plane.accounts.services.signup import signup
from control_plane.billing.models import Plan
from control_plane.urls_helpers import organization_url


@extend_schema(tags=["plans"])
class PlanViewSet(ControlViewSet):
    """Plans are readable with any valid platform token."""

    serializer_class = PlanSerializer
    read_scope = ""
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]+"
    ordering = ("position",)

    def get_queryset(self) -> QuerySet[Plan]:
        return Plan.objects.all()

    @extend_schema(responses=PlanSerializer(many=True))
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=PlanSerializer,
    )
    def retrieve(self, request: Request, slug: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)


@extend_schema(tags=["tokens"])
class TokenView(ControlAPIView):
    """The platform token making this call: its name, prefix and scopes (never the secret)."""

    read_scope = ""

    @extend_schema(responses=TokenInfoSerializer)
    def get(self, request: Request) -> Response:
        token = request.auth
        return Response(
            TokenInfoSerializer(
                {
                    "name": token.name,
                    "prefix": f"pmdp_{token.prefix}",
                    "scopes": token.scopes,
                    "created_at": token.created_at,
                    "last_used_at": token.last_used_at,
                }
            ).data
        )


@extend_schema(tags=["signup"])
class SignupView(ControlAPIView):
    """Public signup: an account, its organization, and provisioning started.

    No credentials; rate-limited per client address. No session is started
    (a login from a cross-site POST would be a login-CSRF hole): the person
    logs in on the organization's URL once it is ``active``.
    """

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [SignupThrottle]

    @extend_schema(
        request=SignupSerializer,
        responses={201: SignupResultSerializer},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        incoming = SignupSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        result = signup(**incoming.validated_data)
        organization = result.organization
        body = {
            "email": result.user.email,
            "organization": {
                "slug": organization.slug,
                "name": organization.name,
                "status": organization.status,
                "url": organization_url(organization, "/"),
            },
        }
        return Response(SignupResultSerializer(body).data, status=status.HTTP_201_CREATED)


class ApiIndexView(ControlAPIView):
    """``GET /api/v1/``: links to the operations, the OpenAPI document and the docs (public)."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            api_index(
                request,
                title=SPECTACULAR_OVERRIDES["TITLE"],
                resources={
                    "organizations": "control-organization-list",
                    "plans": "control-plan-list",
                    "token": "control-token",
                    "signup": "control-signup",
                },
                names={
                    "schema": "control-schema",
                    "docs": "control-docs",
                    "redoc": "control-redoc",
                },
            )
        )
