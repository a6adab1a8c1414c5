"""Projects: created in Central, or imported from it; their template variable values."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.idempotency import idempotent
from api.tenant.base import CreateMixin, ListMixin, RetrieveMixin, TenantViewSet, UpdateMixin
from api.tenant.fields import VariableValuesField
from tenants.publishing.models import CentralServer, Project
from tenants.publishing.services.projects import project_create, project_import, project_update
from tenants.publishing.services.variable_values import project_values_set, resolve_variables


class ProjectSerializer(serializers.ModelSerializer):
    variables = VariableValuesField(source="variable_values", read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "server",
            "central_project_id",
            "app_language",
            "variables",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProjectCreateSerializer(serializers.Serializer):
    server = serializers.PrimaryKeyRelatedField(queryset=CentralServer.objects.all())
    name = serializers.CharField(max_length=200)
    app_language = serializers.CharField(max_length=10, required=False, default="en")
    variables = VariableValuesField()


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    app_language = serializers.CharField(max_length=10)
    variables = VariableValuesField()


class ProjectImportSerializer(serializers.Serializer):
    server = serializers.PrimaryKeyRelatedField(queryset=CentralServer.objects.all())
    central_project_id = serializers.IntegerField(min_value=1, max_value=2_147_483_647)
    app_language = serializers.CharField(max_length=10, required=False, default="en")


class ProjectFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Project
        fields = ["server", "name"]


class ProjectViewSet(CreateMixin, UpdateMixin, RetrieveMixin, ListMixin, TenantViewSet):
    """Projects of the organization (one ODK Central project each)."""

    basename = "project"
    serializer_class = ProjectSerializer
    input_serializer_classes = {
        "create": ProjectCreateSerializer,
        "update": ProjectUpdateSerializer,
        "partial_update": ProjectUpdateSerializer,
        "import_from_central": ProjectImportSerializer,
    }
    filterset_class = ProjectFilter
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name"]
    central_actions = ("create", "import_from_central")

    def get_queryset(self):
        return Project.objects.prefetch_related("variable_values__variable")

    def perform_create(self, data: dict) -> Project:
        # Check the values before the project is created in Central, not after.
        resolve_variables(data.get("variables") or {})
        project = project_create(
            actor=self.actor,
            server=data["server"],
            name=data["name"],
            app_language=data["app_language"],
        )
        if data.get("variables"):
            project_values_set(project, data["variables"], actor=self.actor)
        return self.get_queryset().get(pk=project.pk)

    def perform_update(self, instance: Project, data: dict) -> Project:
        if "name" in data or "app_language" in data:
            project_update(
                instance,
                actor=self.actor,
                name=data.get("name", instance.name),
                app_language=data.get("app_language", instance.app_language),
            )
        if data.get("variables"):
            project_values_set(instance, data["variables"], actor=self.actor)
        return self.get_queryset().get(pk=instance.pk)

    @extend_schema(
        summary="Import a project from Central with its app users and forms",
        responses={201: ProjectSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import")
    @idempotent
    def import_from_central(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_import(actor=self.actor, **serializer.validated_data)
        project = self.get_queryset().get(pk=project.pk)
        return Response(
            self.output(project),
            status=status.HTTP_201_CREATED,
            headers={"Location": self.detail_location(project)},
        )
