"""Template variables: named values that forms receive per project and app user."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from api.tenant.base import (
    CreateMixin,
    DestroyMixin,
    ListMixin,
    RetrieveMixin,
    TenantViewSet,
    UpdateMixin,
)
from tenants.publishing.models import TemplateVariable, VariableTransform
from tenants.publishing.services.variables import (
    variable_create,
    variable_delete,
    variable_update,
)


class VariableSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateVariable
        fields = ["id", "name", "transform", "description", "created_at"]
        read_only_fields = fields


class VariableCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    transform = serializers.ChoiceField(
        choices=VariableTransform.choices, required=False, default="", allow_blank=True
    )
    description = serializers.CharField(
        max_length=300, required=False, default="", allow_blank=True
    )


class VariableUpdateSerializer(serializers.Serializer):
    """The name is fixed once created (forms refer to it)."""

    transform = serializers.ChoiceField(choices=VariableTransform.choices, allow_blank=True)
    description = serializers.CharField(max_length=300, allow_blank=True)


class VariableFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = TemplateVariable
        fields = ["name", "transform"]


class VariableViewSet(
    CreateMixin, UpdateMixin, DestroyMixin, RetrieveMixin, ListMixin, TenantViewSet
):
    """Template variables of the organization."""

    basename = "variable"
    serializer_class = VariableSerializer
    input_serializer_classes = {
        "create": VariableCreateSerializer,
        "update": VariableUpdateSerializer,
        "partial_update": VariableUpdateSerializer,
    }
    filterset_class = VariableFilter
    ordering_fields = ["name", "created_at", "id"]
    ordering = ["name"]

    def get_queryset(self):
        return TemplateVariable.objects.all()

    def perform_create(self, data: dict) -> TemplateVariable:
        return variable_create(actor=self.actor, **data)

    def perform_update(self, instance: TemplateVariable, data: dict) -> TemplateVariable:
        return variable_update(
            instance,
            actor=self.actor,
            transform=data.get("transform", instance.transform),
            description=data.get("description", instance.description),
        )

    def perform_destroy(self, instance: TemplateVariable) -> None:
        variable_delete(instance, actor=self.actor)
