"""The organization's audit trail, read-only (admins and owners, as in the workspace)."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from api.common.filters import UtcIsoDateTimeFilter
from api.tenant.base import ListMixin, RetrieveMixin, TenantViewSet
from control_plane.accounts.roles import Role
from tenants.audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "code",
            "actor_id",
            "actor_label",
            "actor_token",
            "target_type",
            "target_id",
            "target_label",
            "data",
            "request_id",
            "client_address",
            "created_at",
        ]
        read_only_fields = fields


class AuditEventFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="startswith")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["code", "actor_id", "target_type", "target_id"]


class AuditEventViewSet(RetrieveMixin, ListMixin, TenantViewSet):
    """Who did what, and when."""

    basename = "audit-event"
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at"]
    read_role = Role.ADMIN

    def get_queryset(self):
        return AuditEvent.objects.all()
