"""Invitations: admins invite people by email with a role, resend or revoke them.

The invitation link travels only by email: its token is never in a response.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.permissions import require_grantable
from api.tenant.base import CreateMixin, DestroyMixin, ListMixin, RetrieveMixin, TenantViewSet
from control_plane.accounts.models import Invitation
from control_plane.accounts.roles import Role
from control_plane.accounts.services.invitations import (
    invitation_create,
    invitation_resend,
    invitation_revoke,
)

STATUSES = ["open", "expired", "accepted", "revoked"]


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "status",
            "invited_by",
            "created_at",
            "expires_at",
            "last_sent_at",
            "send_count",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_status(self, invitation: Invitation) -> str:
        if invitation.revoked_at:
            return "revoked"
        if invitation.accepted_at:
            return "accepted"
        return "expired" if invitation.is_expired() else "open"


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(lookup_expr="icontains")
    role = django_filters.ChoiceFilter(choices=Role.choices)
    status = django_filters.ChoiceFilter(choices=[(s, s) for s in STATUSES], method="filter_status")

    class Meta:
        model = Invitation
        fields = ["email", "role", "status"]

    def filter_status(self, queryset, name: str, value: str):
        now = timezone.now()
        pending = Q(accepted_at__isnull=True, revoked_at__isnull=True)
        return {
            "open": queryset.filter(pending, expires_at__gt=now),
            "expired": queryset.filter(pending, expires_at__lte=now),
            "accepted": queryset.filter(accepted_at__isnull=False),
            "revoked": queryset.filter(revoked_at__isnull=False),
        }[value]


class InvitationViewSet(CreateMixin, DestroyMixin, RetrieveMixin, ListMixin, TenantViewSet):
    """Invitations to join the organization (admins and owners)."""

    basename = "invitation"
    serializer_class = InvitationSerializer
    input_serializer_classes = {
        "create": InvitationCreateSerializer,
        "resend": serializers.Serializer,
    }
    filterset_class = InvitationFilter
    ordering_fields = ["created_at", "email", "id"]
    ordering = ["-created_at"]
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no host
            return Invitation.objects.none()
        return Invitation.objects.filter(organization=self.request.tenant).select_related(
            "invited_by"
        )

    def perform_create(self, data: dict) -> Invitation:
        require_grantable(self.request, data["role"], what="invite with this role")
        issued = invitation_create(
            organization=self.request.tenant,
            email=data["email"],
            role=data["role"],
            actor=self.actor,
        )
        return issued.invitation

    def perform_destroy(self, instance: Invitation) -> None:
        invitation_revoke(instance, actor=self.actor)

    @extend_schema(summary="Send the invitation again with a fresh link", request=None)
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        issued = invitation_resend(self.get_object(), actor=self.actor)
        return Response(self.output(issued.invitation))
