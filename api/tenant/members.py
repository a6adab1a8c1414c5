"""Members of the organization: list, change roles, remove (or leave).

Memberships are public-schema rows; every query here is filtered by the
host's organization, so another organization's ids answer 404.
"""

from __future__ import annotations

import django_filters
from rest_framework import exceptions, serializers

from api.common.authentication import token_identity
from api.common.permissions import request_role, require_grantable
from api.tenant.base import DestroyMixin, ListMixin, RetrieveMixin, TenantViewSet, UpdateMixin
from control_plane.accounts.models import Membership, User
from control_plane.accounts.roles import Role, role_at_least
from control_plane.accounts.services.memberships import membership_change_role, membership_remove


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "created_at", "updated_at"]
        read_only_fields = fields


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MemberFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(field_name="user__email", lookup_expr="icontains")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["role", "email"]


class MemberViewSet(UpdateMixin, DestroyMixin, RetrieveMixin, ListMixin, TenantViewSet):
    """People who belong to the organization, with their roles."""

    basename = "member"
    serializer_class = MemberSerializer
    input_serializer_classes = {
        "update": MemberUpdateSerializer,
        "partial_update": MemberUpdateSerializer,
    }
    filterset_class = MemberFilter
    ordering_fields = ["user__email", "created_at", "id"]
    ordering = ["user__email"]
    write_role = Role.ADMIN
    # Anyone may remove themselves (leave) in their session; removing others, or anything
    # done with a token (even on its creator), is checked below.
    action_roles = {"destroy": Role.VIEWER}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no host
            return Membership.objects.none()
        return Membership.objects.filter(organization=self.request.tenant).select_related("user")

    def perform_update(self, instance: Membership, data: dict) -> Membership:
        require_grantable(self.request, data["role"], what="grant this role")
        if instance.role == Role.OWNER:
            require_grantable(self.request, Role.OWNER, what="change an owner's role")
        membership_change_role(instance, data["role"], actor=self.actor)
        return self.get_queryset().get(pk=instance.pk)

    def _leaving(self, membership: Membership) -> bool:
        """A person removing their own membership in their session (not through a token)."""
        return membership.user_id == self.request.user.pk and token_identity(self.request) is None

    def check_object_permissions(self, request, obj: Membership) -> None:
        # Before If-Match and the service: anyone may leave, only admins remove others.
        super().check_object_permissions(request, obj)
        if self.action == "destroy" and not self._leaving(obj):
            if not role_at_least(request_role(request) or Role.VIEWER, Role.ADMIN):
                raise exceptions.PermissionDenied(
                    "Only admins and owners remove members; to leave, use your session "
                    "(a token cannot remove its own creator unless its role could remove others)."
                )

    def perform_destroy(self, instance: Membership) -> None:
        if instance.role == Role.OWNER and not self._leaving(instance):
            require_grantable(self.request, Role.OWNER, what="remove an owner")
        membership_remove(instance, actor=self.actor)
