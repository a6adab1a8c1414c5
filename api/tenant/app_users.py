"""App users: list, create, change variable values, delete; Collect settings and QR code.

Names are fixed once created (they are part of every form id in Central).
The Collect settings and the QR code carry the app user's Central token and
the admin password, so they need the editor role, like managing app users.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.tenant.app_user_transfer import AppUserTransferMixin
from api.tenant.base import (
    CreateMixin,
    DestroyMixin,
    ListMixin,
    RetrieveMixin,
    TenantViewSet,
    UpdateMixin,
)
from api.tenant.fields import VariableValuesField
from control_plane.accounts.roles import Role
from control_plane.errors import InvalidState
from control_plane.storage import owned_by_active_tenant
from tenants.publishing.models import AppUser, Project
from tenants.publishing.services.app_users import (
    app_user_create,
    app_user_delete,
    app_user_qr_refresh,
    app_user_settings,
)
from tenants.publishing.services.variable_values import app_user_values_set, resolve_variables


class AppUserSerializer(serializers.ModelSerializer):
    variables = VariableValuesField(source="variable_values", read_only=True)
    has_qr_code = serializers.SerializerMethodField()

    class Meta:
        model = AppUser
        fields = [
            "id",
            "project",
            "name",
            "central_id",
            "has_qr_code",
            "variables",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_qr_code(self, app_user: AppUser) -> bool:
        return bool(app_user.qr_code)


class AppUserCreateSerializer(serializers.Serializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.all())
    name = serializers.CharField(
        max_length=60, help_text="Letters, digits and underscores; fixed once created."
    )
    variables = VariableValuesField()


class AppUserUpdateSerializer(serializers.Serializer):
    variables = VariableValuesField()


class AppUserFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = AppUser
        fields = ["project", "name"]


def _not_ready() -> InvalidState:
    return InvalidState(
        "This app user is not in Central yet; try again in a moment.", code="app_user_not_ready"
    )


class AppUserViewSet(
    AppUserTransferMixin,
    CreateMixin,
    UpdateMixin,
    DestroyMixin,
    RetrieveMixin,
    ListMixin,
    TenantViewSet,
):
    """App users of the organization's projects (one Collect login each)."""

    basename = "app-user"
    serializer_class = AppUserSerializer
    input_serializer_classes = {
        "create": AppUserCreateSerializer,
        "update": AppUserUpdateSerializer,
        "partial_update": AppUserUpdateSerializer,
        **AppUserTransferMixin.transfer_input_serializers,
    }
    filterset_class = AppUserFilter
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name"]
    action_roles = {"collect_settings": Role.EDITOR, "qr_code": Role.EDITOR}
    download_actions = frozenset({"qr_code", "export"})

    def get_queryset(self):
        return AppUser.objects.prefetch_related("variable_values__variable")

    def perform_create(self, data: dict) -> AppUser:
        resolve_variables(data.get("variables") or {})
        app_user = app_user_create(actor=self.actor, project=data["project"], name=data["name"])
        if data.get("variables"):
            app_user_values_set(app_user, data["variables"], actor=self.actor)
        return self.get_queryset().get(pk=app_user.pk)

    def perform_update(self, instance: AppUser, data: dict) -> AppUser:
        if data.get("variables"):
            app_user_values_set(instance, data["variables"], actor=self.actor)
        return self.get_queryset().get(pk=instance.pk)

    def perform_destroy(self, instance: AppUser) -> None:
        app_user_delete(instance, actor=self.actor)

    @extend_schema(
        summary="Delete the app user here and, in the background, in Central",
        description=(
            "Removes the app user at once with its variable values, form assignments, token "
            "and QR code. If it exists in Central, a background job then deletes it there "
            "(`DELETE /v1/projects/{p}/app-users/{id}`): its key stops working on every "
            "device set up with its QR code (no form list, downloads or submissions); "
            "submissions already sent stay in Central. The outcome goes to the audit trail: "
            "`publishing.app_user.central_revoked` (`data.outcome` `revoked`, or "
            "`already_gone`) or `publishing.app_user.central_revoke_failed` (`data.error`)."
        ),
        responses={204: None},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().destroy(request, *args, **kwargs)

    @extend_schema(
        summary="ODK Collect settings of the app user (what its QR code holds)",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"], url_path="collect-settings")
    def collect_settings(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        app_user = self.get_object()
        settings_dict = app_user_settings(app_user)
        if settings_dict is None:
            raise _not_ready()
        return Response(settings_dict, headers={"Cache-Control": "no-store"})

    @extend_schema(
        summary="The app user's QR code (PNG) to scan in ODK Collect",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="PNG image"),
        },
    )
    @action(detail=True, methods=["get"], url_path="qr-code")
    def qr_code(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        app_user = self.get_object()
        if app_user_settings(app_user) is None:
            raise _not_ready()
        app_user_qr_refresh(app_user)  # writes a new PNG only when an input changed
        if not owned_by_active_tenant(app_user.qr_code):
            raise Http404("The file is not available.")
        # Streamed, not redirected: a small image clients show directly.
        response = FileResponse(
            default_storage.open(app_user.qr_code, "rb"), content_type="image/png"
        )
        response["Content-Disposition"] = f'inline; filename="{app_user.name}.png"'
        response["Cache-Control"] = "no-store"
        return response
