"""Control-plane records of organizations (public schema).

An organization is a django-tenants tenant whose schema we create ourselves
during provisioning (``auto_create_schema`` is off): creating the row must be
cheap and transactional, and the schema work is a recorded, retryable step.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class OrganizationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROVISIONING = "provisioning", "Provisioning"
    ACTIVE = "active", "Active"
    FAILED = "failed", "Failed"
    SUSPENDED = "suspended", "Suspended"
    ARCHIVED = "archived", "Archived"


class SecretBackend(models.TextChoices):
    """Where an organization's secrets live (tenants.secretstore, DESIGN.md §6)."""

    LOCAL = "local", "Local (encrypted in the organization's schema)"
    INFISICAL = "infisical", "Infisical (a project of its own)"


class Organization(TenantMixin):
    auto_create_schema = False
    auto_drop_schema = False

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=40, unique=True)
    status = models.CharField(
        max_length=20, choices=OrganizationStatus.choices, default=OrganizationStatus.PENDING
    )
    # Who becomes the first owner once the schema exists: a user account if one
    # has this email, else an owner invitation is sent to it.
    owner_email = models.EmailField(blank=True)
    failed_step = models.CharField(max_length=40, blank=True)
    failed_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    provisioned_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Set when the schema has been dropped; the row stays as a tombstone so
    # that the slug (part of URLs and bookmarks) is never reused by accident.
    purged_at = models.DateTimeField(null=True, blank=True)
    # Secret store (tenants.secretstore): which backend holds this organization's
    # secrets, and its own Infisical project when it has one. Changed only by the
    # secret store's provisioning step and its ``secrets_move`` command.
    secret_backend = models.CharField(
        max_length=20, choices=SecretBackend.choices, default=SecretBackend.LOCAL
    )
    infisical_project_id = models.CharField(max_length=64, blank=True)
    # The plan (control_plane.billing); null means the default plan, so that
    # creating an organization never depends on the catalogue being seeded.
    plan = models.ForeignKey(
        "billing.Plan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_usable(self) -> bool:
        return self.status == OrganizationStatus.ACTIVE

    @property
    def primary_domain(self) -> str:
        domain = self.domains.filter(is_primary=True).first()
        return domain.domain if domain else ""


class Domain(DomainMixin):
    """A host name that routes to one organization."""

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.domain


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ProvisioningStep(models.Model):
    """One recorded step of provisioning an organization.

    A step that is ``done`` is never repeated; one that is ``running`` after a
    crash is simply run again, which every step tolerates.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="provisioning_steps"
    )
    name = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=StepStatus.choices)
    attempts = models.PositiveIntegerField(default=0)
    detail = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "position"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uniq_step_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}:{self.name}={self.status}"


class SpareSchemaStatus(models.TextChoices):
    MIGRATING = "migrating", "Migrating"
    READY = "ready", "Ready"


class SpareSchema(models.Model):
    """A fully migrated, empty tenant schema waiting to be claimed by a new organization."""

    name = models.CharField(max_length=63, unique=True)
    status = models.CharField(max_length=10, choices=SpareSchemaStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


class PlatformAuditEvent(models.Model):
    """Organization-level events kept by the control plane (append-only).

    Events inside an organization (members, content) go to that organization's
    own audit log in its schema; these are the ones that must outlive the
    schema: created, provisioned, suspended, archived, purged.
    """

    code = models.CharField(max_length=100)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.code
