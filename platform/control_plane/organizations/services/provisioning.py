"""Creating and provisioning organizations: one idempotent service for every caller.

Signup, the command line, the control-plane API and Terraform all call
``organization_create`` and then (in a background job) ``organization_provision``.
Provisioning is a list of named steps recorded in ``ProvisioningStep``; a step
that finished is never repeated and every step tolerates being re-run after a
crash half-way, so running the whole thing again finishes what was left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from control_plane.errors import Conflict, ServiceError
from control_plane.organizations.models import (
    Domain,
    Organization,
    OrganizationStatus,
    ProvisioningStep,
    StepStatus,
)
from control_plane.organizations.services import schemas
from control_plane.organizations.services.locks import advisory_lock
from control_plane.organizations.services.platform_audit import platform_audit_record
from control_plane.organizations.services.slugs import (
    primary_domain_for,
    schema_name_for,
    validate_slug,
)
from control_plane.organizations.services.spare_pool import spare_schema_claim
from control_plane.storage import tenant_storage_prefix

log = structlog.get_logger(__name__)


class ProvisioningFailed(ServiceError):
    code = "provisioning_failed"

    def __init__(self, step: str, error: str):
        super().__init__(f"Provisioning failed at step “{step}”: {error}")
        self.step = step
        self.error = error


# --- creating the record --------------------------------------------------------


def organization_create(
    *,
    name: str,
    slug: str,
    owner_email: str = "",
    actor: Any = None,
    enqueue: bool = True,
) -> Organization:
    """Record a new organization as ``pending`` and queue its provisioning.

    The job is queued in the same transaction as the row (Procrastinate writes
    to the same database), so a crash cannot leave an organization that no
    worker will ever provision. A slug already used, even by an archived
    organization, raises ``Conflict``.
    """
    validate_slug(slug)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Enter the organization's name."})
    if Organization.objects.filter(slug=slug).exists():
        raise Conflict(f"The address “{slug}” is taken.", code="slug_taken", field="slug")
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    try:
        with transaction.atomic():
            organization = Organization.objects.create(
                name=name,
                slug=slug,
                schema_name=schema_name_for(slug),
                owner_email=owner_email or (actor.email if authenticated else ""),
                created_by=actor if authenticated else None,
            )
            platform_audit_record(
                "organization.created",
                organization=organization,
                actor=actor,
                data={"slug": slug, "name": name},
            )
            if enqueue:
                from control_plane.organizations.tasks import provision_organization

                provision_organization.defer(organization_id=organization.pk)
    except IntegrityError as exc:
        raise Conflict(f"The address “{slug}” is taken.", code="slug_taken", field="slug") from exc
    except ValidationError as exc:
        # Another signup for this slug committed between our check above and the
        # insert: django-tenants' own schema-name check then answers before the
        # unique index can. The same conflict as the unique violation.
        if not Organization.objects.filter(schema_name__iexact=schema_name_for(slug)).exists():
            raise
        raise Conflict(f"The address “{slug}” is taken.", code="slug_taken", field="slug") from exc
    return organization


# --- the steps --------------------------------------------------------------------


def _step_schema(organization: Organization) -> str:
    name = organization.schema_name
    if schemas.exists(name):
        report = schemas.migrate_schemas([name], processes=1)
        if not report.ok:
            raise RuntimeError(report.failed[name])
        return "migrated existing schema" if report.migrated else "schema already current"
    claimed = spare_schema_claim(name)
    if claimed:
        # A spare may predate the latest deploy's migrations; finish it off.
        report = schemas.migrate_schemas([name], processes=1)
        if not report.ok:
            raise RuntimeError(report.failed[name])
        return f"claimed spare {claimed}"
    schemas.schema_create(name)
    report = schemas.migrate_schemas([name], processes=1)
    if not report.ok:
        raise RuntimeError(report.failed[name])
    return "created and migrated (pool empty)"


def _step_domain(organization: Organization) -> str:
    host = primary_domain_for(organization.slug)
    domain, created = Domain.objects.get_or_create(
        domain=host, defaults={"tenant": organization, "is_primary": True}
    )
    if domain.tenant_id != organization.pk:
        raise RuntimeError(f"The host {host} already belongs to another organization.")
    return host


def _step_storage(organization: Organization) -> str:
    prefix = tenant_storage_prefix(organization.schema_name)
    marker = f"{prefix}/.organization"
    if not default_storage.exists(marker):
        default_storage.save(marker, ContentFile(organization.slug.encode()))
    return prefix


def _step_secrets(organization: Organization) -> str:
    # The organization's secret store (tenants.secretstore): its own Infisical
    # project in production, or the local encrypted table. Idempotent.
    from tenants.secretstore.services.provisioning import secret_store_provision

    return secret_store_provision(organization)


def _step_defaults(organization: Organization) -> str:
    from tenants.audit.models import AuditEvent
    from tenants.audit.services import audit_record

    with schema_context(organization.schema_name):
        if not AuditEvent.objects.filter(code="organization.provisioned").exists():
            audit_record(
                "organization.provisioned",
                data={"slug": organization.slug, "name": organization.name},
                schema_name=organization.schema_name,
            )
    return "seeded"


def _step_owner(organization: Organization) -> str:
    from control_plane.accounts.models import Invitation, Membership, User
    from control_plane.accounts.roles import Role
    from control_plane.accounts.services.invitations import invitation_create

    email = organization.owner_email
    if not email:
        return "no owner requested"
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": Role.OWNER}
        )
        return f"owner {user.email}"
    open_invitation = Invitation.objects.filter(
        organization=organization,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).exists()
    if not open_invitation:
        invitation_create(organization=organization, email=email, role=Role.OWNER, actor=None)
    return f"owner invited: {email}"


Step = Callable[[Organization], str]

# Order matters: the schema must exist before anything is written into it, and
# the domain only routes once the schema is there. Later features add steps
# (the secret store) by inserting into this list.
PROVISIONING_STEPS: list[tuple[str, Step]] = [
    ("schema", _step_schema),
    ("domain", _step_domain),
    ("storage", _step_storage),
    ("secrets", _step_secrets),
    ("defaults", _step_defaults),
    ("owner", _step_owner),
]


# --- running them -------------------------------------------------------------------


def organization_provision(organization_id: int) -> Organization:
    """Run every step not yet done; idempotent, safe to call concurrently.

    Concurrent calls for one organization are serialised by an advisory lock;
    the second finds the steps done and returns. Raises ``ProvisioningFailed``
    (after recording the step and error) when a step fails.
    """
    with advisory_lock(f"provision:{organization_id}"), _relaxed_commits():
        organization = Organization.objects.get(pk=organization_id)
        with structlog.contextvars.bound_contextvars(tenant=organization.schema_name):
            return _provision_locked(organization)


@contextmanager
def _relaxed_commits() -> Iterator[None]:
    """Do not wait for each of provisioning's ~25 commits to reach the disk.

    Waiting for the WAL flush dominated the spare-pool path (about half of its
    time). Losing the last commits in a database crash is harmless here: every
    step is idempotent and provisioning is simply run again. Only this session's
    commits are affected, and the setting is reset afterwards.
    """
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        if connection.connection is not None and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def _provision_locked(organization: Organization) -> Organization:
    if organization.status not in (
        OrganizationStatus.PENDING,
        OrganizationStatus.PROVISIONING,
        OrganizationStatus.FAILED,
    ):
        return organization
    with transaction.atomic():
        Organization.objects.filter(pk=organization.pk).update(
            status=OrganizationStatus.PROVISIONING,
            failed_step="",
            failed_error="",
            updated_at=timezone.now(),
        )
        # Every step's row at once (one commit), so progress pages list them all.
        ProvisioningStep.objects.bulk_create(
            [
                ProvisioningStep(
                    organization=organization,
                    name=name,
                    position=position,
                    status=StepStatus.PENDING,
                )
                for position, (name, _) in enumerate(PROVISIONING_STEPS)
            ],
            ignore_conflicts=True,
        )
    steps = {step.name: step for step in organization.provisioning_steps.all()}
    for name, run in PROVISIONING_STEPS:
        step = steps[name]
        if step.status == StepStatus.DONE:
            continue
        ProvisioningStep.objects.filter(pk=step.pk).update(
            status=StepStatus.RUNNING,
            attempts=step.attempts + 1,
            started_at=timezone.now(),
            error="",
        )
        try:
            detail = run(organization)
        except Exception as exc:
            _record_failure(organization, step, exc)
            raise ProvisioningFailed(name, str(exc)) from exc
        ProvisioningStep.objects.filter(pk=step.pk).update(
            status=StepStatus.DONE, detail=(detail or "")[:200], finished_at=timezone.now()
        )
        log.info("provisioning.step_done", step=name, detail=detail)
    with transaction.atomic():
        now = timezone.now()
        Organization.objects.filter(pk=organization.pk).update(
            status=OrganizationStatus.ACTIVE, provisioned_at=now, updated_at=now
        )
        platform_audit_record("organization.provisioned", organization=organization)
        from control_plane.jobs import defer_once
        from control_plane.organizations.tasks import fill_spare_pool

        defer_once(fill_spare_pool, "spare-pool")
    organization.refresh_from_db()
    return organization


def _record_failure(organization: Organization, step: ProvisioningStep, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:4000]
    log.error("provisioning.step_failed", step=step.name, error=error)
    ProvisioningStep.objects.filter(pk=step.pk).update(
        status=StepStatus.FAILED, error=error, finished_at=timezone.now()
    )
    Organization.objects.filter(pk=organization.pk).update(
        status=OrganizationStatus.FAILED,
        failed_step=step.name,
        failed_error=error,
        updated_at=timezone.now(),
    )
    platform_audit_record(
        "organization.provisioning_failed",
        organization=organization,
        data={"step": step.name, "error": error},
    )


def provisioning_progress(organization: Organization) -> list[dict[str, Any]]:
    """Every step in order with its state, for the signup page and the API."""
    recorded = {step.name: step for step in organization.provisioning_steps.all()}
    rows = []
    for name, _ in PROVISIONING_STEPS:
        step = recorded.get(name)
        rows.append(
            {
                "name": name,
                "status": step.status if step else "pending",
                "detail": step.detail if step else "",
                "error": step.error if step else "",
                "attempts": step.attempts if step else 0,
            }
        )
    return rows
