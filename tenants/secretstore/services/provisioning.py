"""Creating and deleting an organization's secret store.

``secret_store_provision`` is the ``secrets`` step of organization provisioning
(``PROVISIONING_STEPS``). With Infisical it gives the organization a project of
its own, with a deterministic slug, and an environment for the product's
secrets. It is idempotent: the project id is recorded on the organization the
moment Infisical returns it, and when an earlier run created the project but
died before recording it (or lost Infisical's answer), the project is found by
its slug instead of being created twice. Project creation is never retried
within a run for the same reason.

``secret_store_destroy`` deletes the project when the organization is purged
(after archiving and its grace period); a project already gone counts as done.
"""

from __future__ import annotations

import hashlib
from typing import Any

import structlog
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from control_plane.organizations.models import Organization, OrganizationStatus, SecretBackend
from tenants.secretstore.cache import tenant_secret_cache
from tenants.secretstore.crypto import Keyring
from tenants.secretstore.errors import SecretStoreError
from tenants.secretstore.infisical_client import InfisicalClient, InfisicalConfig
from tenants.secretstore.models import SecretRecord

log = structlog.get_logger(__name__)

PROJECT_SLUG_MAX = 36  # Infisical accepts 5 to 36 characters


def infisical_project_slug(organization_slug: str, prefix: str) -> str:
    """``acme`` → ``pmdm-acme``; long slugs are cut and suffixed with a hash to stay unique."""
    slug = f"{prefix}-{organization_slug}"
    if len(slug) <= PROJECT_SLUG_MAX:
        return slug
    digest = hashlib.sha256(organization_slug.encode()).hexdigest()[:6]
    head = slug[: PROJECT_SLUG_MAX - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def infisical_project_ensure(organization: Organization) -> dict:
    """Make sure the organization has its Infisical project and environment; return the project.

    Safe to call any number of times (provisioning re-runs, ``secrets_move``).
    """
    config = InfisicalConfig.from_settings()
    client = InfisicalClient(config, schema_name=organization.schema_name)
    slug = infisical_project_slug(organization.slug, config.project_prefix)
    try:
        project = None
        if organization.infisical_project_id:
            project = client.get_project(organization.infisical_project_id)
            if project is None and organization.status == OrganizationStatus.ACTIVE:
                raise SecretStoreError(
                    f"The Infisical project {organization.infisical_project_id} recorded for "
                    f"{organization.slug} no longer exists; its secrets are gone. Restore it in "
                    "Infisical, or clear infisical_project_id to start an empty one."
                )
        if project is None:
            project = client.get_project_by_slug(slug)
            if project is not None:
                log.info("secrets.infisical_project_adopted", project=project["id"], slug=slug)
        if project is None:
            project = client.create_project(
                name=slug,
                slug=slug,
                description=(
                    f"Secrets of the Publish MDM organization “{organization.slug}” "
                    f"(schema {organization.schema_name}). Managed by the platform."
                ),
            )
            log.info("secrets.infisical_project_created", project=project["id"], slug=slug)
        if organization.infisical_project_id != project["id"]:
            Organization.objects.filter(pk=organization.pk).update(
                infisical_project_id=project["id"], updated_at=timezone.now()
            )
            organization.infisical_project_id = project["id"]
        environments = {env["slug"] for env in project.get("environments", [])}
        if config.environment not in environments:
            client.create_environment(project["id"], name="Publish MDM", slug=config.environment)
        return project
    finally:
        client.close()


def secret_store_provision(organization: Organization) -> str:
    """The ``secrets`` provisioning step; returns the detail recorded with it."""
    wanted = settings.SECRET_STORE_BACKEND
    if organization.secret_backend == SecretBackend.INFISICAL or wanted == SecretBackend.INFISICAL:
        project = infisical_project_ensure(organization)
        if organization.secret_backend != SecretBackend.INFISICAL:
            with schema_context(organization.schema_name):
                holds_local = SecretRecord.objects.exists()
            if not holds_local:  # a fresh organization; one with secrets moves by command
                Organization.objects.filter(pk=organization.pk).update(
                    secret_backend=SecretBackend.INFISICAL, updated_at=timezone.now()
                )
                organization.secret_backend = SecretBackend.INFISICAL
        _record_created(organization, project_id=project["id"])
        return f"infisical project {project['slug']} ({project['id']})"
    Keyring.from_settings()  # fails the step clearly on a bad master key
    with schema_context(organization.schema_name):
        SecretRecord.objects.exists()  # the table is there (migrations ran)
    _record_created(organization, project_id="")
    return "local (encrypted in the organization's schema)"


def _record_created(organization: Organization, *, project_id: str) -> None:
    from tenants.audit.models import AuditEvent
    from tenants.audit.services import audit_record

    with schema_context(organization.schema_name):
        if not AuditEvent.objects.filter(code="secrets.store.created").exists():
            audit_record(
                "secrets.store.created",
                data={"backend": organization.secret_backend, "project_id": project_id},
                schema_name=organization.schema_name,
            )


def secret_store_destroy(organization: Organization, *, actor: Any) -> bool:
    """Delete the organization's Infisical project, if it has one; True if one was deleted.

    Called by ``organization_purge`` before the schema is dropped, so a failure
    here stops the purge and it can be re-run; a project already gone is fine.
    """
    from control_plane.organizations.services.platform_audit import platform_audit_record

    tenant_secret_cache.invalidate_schema(organization.schema_name)
    project_id = organization.infisical_project_id
    if not project_id:
        return False
    client = InfisicalClient(InfisicalConfig.from_settings(), schema_name=organization.schema_name)
    try:
        deleted = client.delete_project(project_id)
    finally:
        client.close()
    platform_audit_record(
        "organization.secret_store_deleted",
        organization=organization,
        actor=actor,
        data={"backend": "infisical", "project_id": project_id, "already_gone": not deleted},
    )
    log.info("secrets.infisical_project_deleted", project=project_id, already_gone=not deleted)
    return deleted
