"""API tokens: admins create them (the secret is shown once), list and revoke them.

Only a hash is stored; the ``token`` field exists in the create response and
nowhere else. A token's role can be no higher than its creator's (for a
token creating a token: than the calling token's role), and revocation
takes effect on the next request made with it.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.permissions import require_grantable
from api.tenant.base import DestroyMixin, ListMixin, RetrieveMixin, TenantViewSet
from control_plane.accounts.models import ApiToken
from control_plane.accounts.roles import Role
from control_plane.accounts.services.api_tokens import api_token_create, api_token_revoke


class TokenSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    display = serializers.SerializerMethodField(help_text="How the token starts: `pmdm_<prefix>_…`")
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "role",
            "prefix",
            "display",
            "active",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_display(self, token: ApiToken) -> str:
        return f"pmdm_{token.prefix}_…"

    def get_active(self, token: ApiToken) -> bool:
        return token.is_usable()


class IssuedTokenSerializer(TokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The secret token. Shown only in this response: store it now."
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="What uses the token.")
    role = serializers.ChoiceField(choices=Role.choices)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class TokenFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    role = django_filters.ChoiceFilter(choices=Role.choices)
    revoked = django_filters.BooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = ApiToken
        fields = ["name", "role", "revoked"]


class TokenViewSet(DestroyMixin, RetrieveMixin, ListMixin, TenantViewSet):
    """API tokens of the organization (admins and owners)."""

    basename = "token"
    serializer_class = TokenSerializer
    input_serializer_classes = {"create": TokenCreateSerializer}
    filterset_class = TokenFilter
    ordering_fields = ["created_at", "name", "id"]
    ordering = ["-created_at"]
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no host
            return ApiToken.objects.none()
        return ApiToken.objects.filter(organization=self.request.tenant).select_related(
            "created_by"
        )

    @extend_schema(
        summary="Create a token (its secret is in this response only)",
        responses={201: IssuedTokenSerializer},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        require_grantable(self.request, data["role"], what="give a token this role")
        issued = api_token_create(
            organization=request.tenant,
            actor=self.actor,
            name=data["name"],
            role=data["role"],
            expires_at=data.get("expires_at"),
        )
        issued.token.token = issued.secret
        body = IssuedTokenSerializer(issued.token, context=self.get_serializer_context()).data
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Location"] = self.detail_location(issued.token)
        response["Cache-Control"] = "no-store"
        return response

    def perform_destroy(self, instance: ApiToken) -> None:
        api_token_revoke(instance, actor=self.actor)
