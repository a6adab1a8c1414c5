"""``GET /api/v1/me/``: who the credentials speak for here, and with which role.

Lets a script check its token (and its effective role) before doing work.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.authentication import token_identity
from api.common.permissions import request_role
from api.common.views import ApiViewMixin
from control_plane.accounts.roles import Role


class MeTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)


class MeSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    email = serializers.EmailField()
    organization = serializers.CharField(help_text="The organization's slug.")
    role = serializers.ChoiceField(choices=Role.choices, help_text="Effective role here.")
    token = MeTokenSerializer(allow_null=True, help_text="The token used, if any.")


class MeView(ApiViewMixin, GenericAPIView):
    """Who the credentials speak for here, and with which role (check a token before work)."""

    serializer_class = MeSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(summary="Who am I here", responses={200: MeSerializer})
    def get(self, request: Request) -> Response:
        identity = token_identity(request)
        return Response(
            {
                "user_id": request.user.pk,
                "email": request.user.email,
                "organization": request.tenant.slug,
                "role": request_role(request),
                "token": (
                    {
                        "id": identity.token.pk,
                        "name": identity.token.name,
                        "prefix": identity.token.prefix,
                        "expires_at": identity.token.expires_at,
                    }
                    if identity
                    else None
                ),
            }
        )
