"""Declarative changes to organizations, for the control-plane API and Terraform.

Operators (and Terraform) describe what an organization should be: these
services make it so idempotently, compare before writing, and refuse what
would surprise someone. ``organization_ensure`` is create-or-return-the-same;
``organization_update`` changes name, plan and custom domains in one
transaction; ``organization_archive_checked`` refuses to take an organization
that holds data offline unless the caller confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from psycopg import sql

from control_plane.errors import Conflict, InvalidState
from control_plane.organizations.models import Organization, OrganizationStatus
from control_plane.organizations.services import schemas
from control_plane.organizations.services.domains import (
    check_custom_domain_limit,
    custom_domains_of,
    domain_normalize,
    organization_domains_set,
)
from control_plane.organizations.services.lifecycle import organization_archive
from control_plane.organizations.services.platform_audit import platform_audit_record
from control_plane.organizations.services.provisioning import organization_create
from control_plane.organizations.services.slugs import validate_slug

# Tables of a tenant schema that every organization has from the start and that
# therefore do not count as "holding data".
_HOUSEKEEPING_TABLES = ("django_migrations", "django_content_type")
_HOUSEKEEPING_PREFIXES = ("audit_", "secretstore_")


class ConfirmationRequired(Conflict):
    """Archiving would take data offline; the caller must say it means it (409)."""

    code = "confirmation_required"


@dataclass(frozen=True)
class Ensured:
    organization: Organization
    created: bool


def organization_ensure(
    *,
    slug: str,
    name: str,
    plan: str | None = None,
    custom_domains: list[str] | None = None,
    owner_email: str = "",
    actor: Any,
) -> Ensured:
    """Create the organization and queue its provisioning, or return the same one.

    Idempotent on the slug: asking again with the same settings returns the
    existing organization (``created=False``); with different settings, or for
    an archived slug, raises ``Conflict``. Settings not given are not compared.
    """
    from control_plane.billing.defaults import DEFAULT_PLAN
    from control_plane.billing.services import plan_get, plan_slug_of

    try:
        validate_slug(slug)
    except ValidationError as exc:
        raise ValidationError({"slug": exc.messages}) from exc
    plan_obj = plan_get(plan, for_new=True) if plan else None
    domains = sorted({domain_normalize(d) for d in custom_domains or []})
    check_custom_domain_limit(len(domains), plan_obj or plan_get(DEFAULT_PLAN))
    existing = Organization.objects.filter(slug=slug).first()
    if existing is None:
        try:
            with transaction.atomic():
                organization = organization_create(
                    name=name, slug=slug, owner_email=owner_email, actor=actor
                )
                if plan_obj is not None:
                    Organization.objects.filter(pk=organization.pk).update(plan=plan_obj)
                    organization.plan = plan_obj
                if domains:
                    organization_domains_set(organization, domains, actor=actor)
            return Ensured(organization, created=True)
        except Conflict as exc:
            if exc.code != "slug_taken":
                raise
            existing = Organization.objects.filter(slug=slug).first()
            if existing is None:  # pragma: no cover - taken and gone again
                raise
    wanted = {"name": name.strip(), "custom_domains": domains}
    actual = {"name": existing.name, "custom_domains": custom_domains_of(existing)}
    if plan_obj is not None:
        wanted["plan"], actual["plan"] = plan_obj.slug, plan_slug_of(existing)
    if owner_email:
        wanted["owner_email"], actual["owner_email"] = (
            owner_email.lower(),
            existing.owner_email.lower(),
        )
    if existing.status == OrganizationStatus.ARCHIVED:
        raise Conflict(
            f"The address “{slug}” belonged to an organization that was archived; "
            "slugs are never reused.",
            code="slug_archived",
            field="slug",
        )
    differences = sorted(key for key in wanted if wanted[key] != actual[key])
    if differences:
        raise Conflict(
            f"An organization “{slug}” already exists with different {', '.join(differences)}; "
            "change it with PATCH instead.",
            code="organization_exists",
            field="slug",
        )
    return Ensured(existing, created=False)


def organization_update(
    organization: Organization,
    *,
    actor: Any,
    name: str | None = None,
    plan: str | None = None,
    custom_domains: list[str] | None = None,
) -> Organization:
    """Change what is given (and differs); every change is one audit event."""
    from control_plane.billing.services import plan_get, plan_of

    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        if organization.status == OrganizationStatus.ARCHIVED:
            raise InvalidState(f"{organization.slug} is archived and cannot be changed.")
        if name is not None and name.strip() != organization.name:
            new_name = name.strip()
            if not new_name:
                raise ValidationError({"name": "Enter the organization's name."})
            platform_audit_record(
                "organization.renamed",
                organization=organization,
                actor=actor,
                data={"from": organization.name, "to": new_name},
            )
            organization.name = new_name
            organization.save(update_fields=["name", "updated_at"])
        if plan is not None and plan != plan_of(organization).slug:
            new_plan = plan_get(plan, for_new=True)
            count = len(
                custom_domains if custom_domains is not None else custom_domains_of(organization)
            )
            check_custom_domain_limit(count, new_plan)
            platform_audit_record(
                "organization.plan_changed",
                organization=organization,
                actor=actor,
                data={"from": plan_of(organization).slug, "to": new_plan.slug},
            )
            organization.plan = new_plan
            organization.save(update_fields=["plan", "updated_at"])
        if custom_domains is not None:
            organization_domains_set(organization, custom_domains, actor=actor)
    organization.refresh_from_db()
    return organization


def organization_data_summary(organization: Organization) -> dict[str, Any]:
    """What the organization holds beyond what provisioning made: members and tables with rows.

    Empty means archiving it loses nobody's work; anything else needs the
    caller's explicit confirmation.
    """
    from control_plane.accounts.models import Membership

    summary: dict[str, Any] = {}
    members = Membership.objects.filter(organization=organization).count()
    if members:
        summary["members"] = members
    schema = organization.schema_name
    if schema and schemas.exists(schema):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename",
                [schema],
            )
            tables = [
                row[0]
                for row in cursor.fetchall()
                if row[0] not in _HOUSEKEEPING_TABLES
                and not row[0].startswith(_HOUSEKEEPING_PREFIXES)
            ]
            if tables:
                query = sql.SQL(" UNION ALL ").join(
                    sql.SQL("SELECT {name} WHERE EXISTS (SELECT 1 FROM {table})").format(
                        name=sql.Literal(table), table=sql.Identifier(schema, table)
                    )
                    for table in tables
                )
                cursor.execute(query.as_string(cursor.connection))
                with_rows = [row[0] for row in cursor.fetchall()]
                if with_rows:
                    summary["tables_with_rows"] = with_rows
    return summary


def organization_archive_checked(
    organization: Organization, *, actor: Any, confirm: bool = False
) -> Organization:
    """Archive (take offline, keep the schema); idempotent on an archived organization.

    An organization holding data (members, or rows in its schema) is archived
    only with ``confirm=True``: Terraform's ``destroy`` must never take a
    customer's workspace offline because a resource was renamed.
    """
    if organization.status == OrganizationStatus.ARCHIVED:
        return organization
    if not confirm:
        summary = organization_data_summary(organization)
        if summary:
            parts = []
            if summary.get("members"):
                parts.append(f"{summary['members']} member(s)")
            if summary.get("tables_with_rows"):
                parts.append("data in " + ", ".join(summary["tables_with_rows"]))
            raise ConfirmationRequired(
                f"{organization.slug} holds {' and '.join(parts)}. Archiving takes it offline: "
                "repeat with confirm=true (in Terraform, set confirm_destroy = true and apply "
                "before destroying).",
                field="confirm",
            )
    return organization_archive(organization, actor=actor)
