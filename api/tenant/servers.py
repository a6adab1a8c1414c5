"""Central servers: admins add and change them; the password is write-only.

The password (and the account's exact email) go to the organization's secret
store through the service; responses show only ``username_hint``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.tenant.base import (
    CreateMixin,
    DestroyMixin,
    ListMixin,
    RetrieveMixin,
    TenantViewSet,
    UpdateMixin,
)
from control_plane.accounts.roles import Role
from tenants.publishing.models import CentralServer
from tenants.publishing.services.projects import central_projects
from tenants.publishing.services.server_edit import central_server_update
from tenants.publishing.services.servers import central_server_delete, central_server_save


class ServerSerializer(serializers.ModelSerializer):
    class Meta:
        model = CentralServer
        fields = [
            "id",
            "name",
            "base_url",
            "username_hint",
            "verified_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ServerWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    base_url = serializers.CharField(max_length=300, help_text="https://central.example.org")
    username = serializers.CharField(
        max_length=254, write_only=True, help_text="The Central account's email."
    )
    password = serializers.CharField(
        max_length=500,
        write_only=True,
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text="Required when adding a server and when changing its `base_url`; otherwise "
        "blank or absent on update keeps the stored one. Never returned.",
    )


class CentralProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    imported = serializers.BooleanField()


class ServerFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = CentralServer
        fields = ["name"]


class ServerViewSet(
    CreateMixin, UpdateMixin, DestroyMixin, RetrieveMixin, ListMixin, TenantViewSet
):
    """ODK Central servers of the organization."""

    basename = "server"
    serializer_class = ServerSerializer
    input_serializer_classes = {
        "create": ServerWriteSerializer,
        "update": ServerWriteSerializer,
        "partial_update": ServerWriteSerializer,
    }
    filterset_class = ServerFilter
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name"]
    write_role = Role.ADMIN
    action_roles = {"central_projects": Role.EDITOR}
    central_actions = ("create", "update", "partial_update", "central_projects")

    def get_queryset(self):
        return CentralServer.objects.all()

    def perform_create(self, data: dict) -> CentralServer:
        return central_server_save(actor=self.actor, **data)

    def perform_update(self, instance: CentralServer, data: dict) -> CentralServer:
        return central_server_update(instance, actor=self.actor, **data)

    def perform_destroy(self, instance: CentralServer) -> None:
        central_server_delete(instance, actor=self.actor)

    @extend_schema(
        responses=inline_serializer(
            "CentralProjectList", {"projects": CentralProjectSerializer(many=True)}
        ),
        summary="Projects the server's account can see in Central (for importing)",
    )
    @action(detail=True, methods=["get"], url_path="central-projects", pagination_class=None)
    def central_projects(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        server = self.get_object()
        return Response({"projects": central_projects(server)})
