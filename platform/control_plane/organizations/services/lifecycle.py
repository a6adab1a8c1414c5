"""Suspending, resuming, archiving and purging organizations.

Suspension keeps everything and answers the organization's hosts with 403.
Archiving takes the organization offline (its hosts answer 404) but keeps
its schema; only ``organization_purge``, with the slug typed back as
confirmation, drops the schema and files. The row stays as a tombstone so the
slug is never handed to someone else by accident.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from control_plane.errors import InvalidState, NotAllowed
from control_plane.organizations.models import Organization, OrganizationStatus
from control_plane.organizations.services import schemas
from control_plane.organizations.services.platform_audit import platform_audit_record
from control_plane.storage import tenant_files_delete


def _transition(
    organization: Organization,
    *,
    allowed_from: set[str],
    to: str,
    code: str,
    actor: Any,
    data: dict | None = None,
    **fields: Any,
) -> Organization:
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        if organization.status not in allowed_from:
            raise InvalidState(
                f"{organization.slug} is {organization.status}; cannot move it to {to}."
            )
        organization.status = to
        for name, value in fields.items():
            setattr(organization, name, value)
        organization.save()
        platform_audit_record(code, organization=organization, actor=actor, data=data or {})
    return organization


def organization_suspend(
    organization: Organization, *, actor: Any, reason: str = ""
) -> Organization:
    return _transition(
        organization,
        allowed_from={OrganizationStatus.ACTIVE},
        to=OrganizationStatus.SUSPENDED,
        code="organization.suspended",
        actor=actor,
        data={"reason": reason},
        suspended_at=timezone.now(),
    )


def organization_resume(organization: Organization, *, actor: Any) -> Organization:
    return _transition(
        organization,
        allowed_from={OrganizationStatus.SUSPENDED},
        to=OrganizationStatus.ACTIVE,
        code="organization.resumed",
        actor=actor,
        suspended_at=None,
    )


def organization_archive(organization: Organization, *, actor: Any) -> Organization:
    return _transition(
        organization,
        allowed_from={
            OrganizationStatus.ACTIVE,
            OrganizationStatus.SUSPENDED,
            OrganizationStatus.FAILED,
            OrganizationStatus.PENDING,
        },
        to=OrganizationStatus.ARCHIVED,
        code="organization.archived",
        actor=actor,
        archived_at=timezone.now(),
    )


def organization_purge(organization: Organization, *, actor: Any, confirm: str) -> Organization:
    """Drop an archived organization's schema, files, domains and memberships.

    ``confirm`` must repeat the slug: this is the one action that destroys data.
    """
    if confirm != organization.slug:
        raise NotAllowed(
            f"Type the organization's slug ({organization.slug}) to confirm deleting its data."
        )
    if organization.status != OrganizationStatus.ARCHIVED:
        raise InvalidState("Archive the organization before deleting its data.")
    if organization.purged_at:
        return organization
    # --- secret store (tenants.secretstore) ---------------------------------------
    # Delete the organization's Infisical project first: if that fails, the
    # purge stops with nothing dropped and can be re-run (a project already
    # gone counts as deleted). Local secrets go with the schema below.
    from tenants.secretstore.services.provisioning import secret_store_destroy

    secret_store_destroy(organization, actor=actor)
    # --- end secret store ---------------------------------------------------------
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        schemas.schema_drop(organization.schema_name)
        organization.domains.all().delete()
        organization.memberships.all().delete()
        organization.invitations.all().delete()
        organization.purged_at = timezone.now()
        organization.save(update_fields=["purged_at", "updated_at"])
        platform_audit_record("organization.purged", organization=organization, actor=actor)
        schema_name = organization.schema_name
        transaction.on_commit(lambda: tenant_files_delete(schema_name))
    return organization
