"""The organization's audit trail, read-only (admins and owners, as in the workspace)."""

from __future__ import annotations

import django_filters
from rest_framework import serializers

from api.common.filters import UtcIsoDateTimeFilter
from api.tenant.base import ListMixin, RetrieveMixin, TenantViewSet
from control_plane.accounts.roles import Role
from tenants.audit.models import AuditEvent
from tenants.audit.sentences import audit_sentence


class AuditEventSerializer(serializers.ModelSerializer):
    summary = serializers.SerializerMethodField(
        help_text="The event as a sentence for people, e.g. “ada@example.org asked to publish "
        "Household visit”; `code` is the stable identifier."
    )

    def get_summary(self, event: AuditEvent) -> str:
        actor = "" if event.actor_label == "system" else event.actor_label
        return audit_sentence(event.code, actor=actor, target=event.target_label, data=event.data)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "code",
            "summary",
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
