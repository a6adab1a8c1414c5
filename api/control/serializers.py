"""Request and response shapes of the control-plane API (validation only; no logic)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from control_plane.accounts.models import Invitation
from control_plane.accounts.roles import Role
from control_plane.billing.models import Plan
from control_plane.billing.services import plan_slug_of
from control_plane.organizations.models import Organization, OrganizationStatus
from control_plane.organizations.services.provisioning import provisioning_progress
from control_plane.organizations.services.slugs import primary_domain_for
from control_plane.urls_helpers import organization_url

# --- plans ----------------------------------------------------------------------


class PlanLimitsSerializer(serializers.Serializer):
    max_members = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    max_app_users = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    max_custom_domains = serializers.IntegerField(allow_null=True, help_text="null: unlimited")


class PlanSerializer(serializers.ModelSerializer):
    limits = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = ["slug", "name", "description", "is_available", "limits"]

    @extend_schema_field(PlanLimitsSerializer)
    def get_limits(self, plan: Plan) -> dict[str, int | None]:
        return plan.limits()


# --- organizations -----------------------------------------------------------------


class ProvisioningStepSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "running", "done", "failed"])
    detail = serializers.CharField()
    error = serializers.CharField()
    attempts = serializers.IntegerField()


def _domains(organization: Organization) -> list[Any]:
    # Views prefetch ``domains``; this reads the prefetched rows.
    return list(organization.domains.all())


class OrganizationSerializer(serializers.ModelSerializer):
    plan = serializers.SerializerMethodField()
    primary_domain = serializers.SerializerMethodField()
    custom_domains = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    api_base = serializers.SerializerMethodField()
    provisioning = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "slug",
            "name",
            "status",
            "plan",
            "schema_name",
            "primary_domain",
            "custom_domains",
            "url",
            "api_base",
            "owner_email",
            "secret_backend",
            "infisical_project_id",
            "failed_step",
            "failed_error",
            "provisioning",
            "created_at",
            "provisioned_at",
            "suspended_at",
            "archived_at",
            "purged_at",
        ]
        read_only_fields = fields

    def get_plan(self, organization: Organization) -> str:
        return plan_slug_of(organization)

    def get_primary_domain(self, organization: Organization) -> str:
        primary = next((d.domain for d in _domains(organization) if d.is_primary), "")
        if primary or organization.purged_at:
            return primary
        return primary_domain_for(organization.slug)  # what provisioning will add

    def get_custom_domains(self, organization: Organization) -> list[str]:
        return sorted(d.domain for d in _domains(organization) if not d.is_primary)

    def _host(self, organization: Organization) -> SimpleNamespace:
        # organization_url() with the prefetched primary domain (no query per row).
        return SimpleNamespace(
            primary_domain=self.get_primary_domain(organization), slug=organization.slug
        )

    def get_url(self, organization: Organization) -> str:
        return organization_url(self._host(organization), "/")

    def get_api_base(self, organization: Organization) -> str:
        return organization_url(self._host(organization), "/api/v1/")

    @extend_schema_field(ProvisioningStepSerializer(many=True))
    def get_provisioning(self, organization: Organization) -> list[dict[str, Any]]:
        return provisioning_progress(organization)


class OrganizationCreateSerializer(serializers.Serializer):
    slug = serializers.CharField(
        max_length=40, help_text="Lowercase letters, digits and hyphens; becomes the host name."
    )
    name = serializers.CharField(max_length=200)
    plan = serializers.CharField(
        max_length=40, required=False, help_text="A plan slug (GET /api/v1/plans/); default free."
    )
    custom_domains = serializers.ListField(
        child=serializers.CharField(max_length=253), required=False, max_length=50
    )
    owner_email = serializers.EmailField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text="Optional: provisioning makes this account owner, or invites the address.",
    )


class OrganizationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    plan = serializers.CharField(max_length=40, required=False)
    custom_domains = serializers.ListField(
        child=serializers.CharField(max_length=253),
        required=False,
        max_length=50,
        help_text="The complete list: domains left out are removed.",
    )


class SuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ArchiveSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        default=False,
        help_text="Required when the organization holds data (members, or rows in its schema).",
    )


# --- invitations -------------------------------------------------------------------


class InvitationSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "organization",
            "email",
            "role",
            "status",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(choices=["open", "accepted", "revoked", "expired"])
    )
    def get_status(self, invitation: Invitation) -> str:
        if invitation.accepted_at:
            return "accepted"
        if invitation.revoked_at:
            return "revoked"
        return "expired" if invitation.is_expired() else "open"


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.OWNER)


# --- signup and tokens -----------------------------------------------------------------


class SignupSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(
        max_length=128, write_only=True, style={"input_type": "password"}
    )
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    organization_name = serializers.CharField(max_length=200)
    slug = serializers.CharField(max_length=40)


class SignupOrganizationSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=OrganizationStatus.choices)
    url = serializers.URLField()


class SignupResultSerializer(serializers.Serializer):
    email = serializers.EmailField()
    organization = SignupOrganizationSerializer()


class TokenInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
