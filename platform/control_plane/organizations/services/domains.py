"""Custom domains of an organization (host names besides ``<slug>.BASE_DOMAIN``).

The primary domain is made by provisioning and never changes here; this module
only manages the others. A custom domain must be a real host name outside
``BASE_DOMAIN`` (those names are the platform's: a custom domain under it
could shadow another organization's future slug) and may belong to only one
organization; how many an organization may have is its plan's limit.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from control_plane.errors import Conflict, InvalidState
from control_plane.organizations.models import Domain, Organization, OrganizationStatus
from control_plane.organizations.services.platform_audit import platform_audit_record

FIELD = "custom_domains"
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def domain_normalize(raw: str) -> str:
    """``Forms.Example.ORG.`` → ``forms.example.org``; raises ValidationError saying why not.

    Internationalised names are stored in their ASCII (punycode) form, which is
    what arrives in the ``Host`` header.
    """
    host = (raw or "").strip().lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError({FIELD: f"“{raw}” is not a valid host name."}) from exc
    labels = host.split(".")
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL_RE.fullmatch(label) for label in labels)
        or labels[-1].isdigit()  # an IP address, not a name
    ):
        raise ValidationError({FIELD: f"“{raw}” is not a valid host name."})
    base = settings.BASE_DOMAIN
    if host == base or host.endswith("." + base):
        raise ValidationError(
            {FIELD: f"“{host}” is under {base}, whose names belong to the platform."}
        )
    return host


def custom_domains_of(organization: Organization) -> list[str]:
    return sorted(
        Domain.objects.filter(tenant=organization, is_primary=False).values_list(
            "domain", flat=True
        )
    )


def check_custom_domain_limit(count: int, plan: Any) -> None:
    limit = plan.max_custom_domains
    if limit is not None and count > limit:
        raise ValidationError(
            {
                FIELD: f"The {plan.name} plan allows {limit} custom domain(s); "
                f"{count} requested. Choose a larger plan."
            }
        )


def organization_domains_set(
    organization: Organization, domains: list[str], *, actor: Any
) -> list[str]:
    """Make the organization's custom domains exactly ``domains``; returns them sorted.

    Idempotent: setting the same list changes nothing and records nothing.
    """
    from control_plane.billing.services import plan_of

    wanted = sorted({domain_normalize(d) for d in domains})
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        if organization.status == OrganizationStatus.ARCHIVED:
            raise InvalidState(f"{organization.slug} is archived; its domains cannot change.")
        check_custom_domain_limit(len(wanted), plan_of(organization))
        current = custom_domains_of(organization)
        added = sorted(set(wanted) - set(current))
        removed = sorted(set(current) - set(wanted))
        if not added and not removed:
            return current
        taken = list(
            Domain.objects.filter(domain__in=added)
            .exclude(tenant=organization)
            .values_list("domain", flat=True)
        )
        if taken:
            raise Conflict(
                f"{', '.join(sorted(taken))} already belong(s) to another organization.",
                code="domain_taken",
                field=FIELD,
            )
        Domain.objects.filter(tenant=organization, is_primary=False, domain__in=removed).delete()
        try:
            with transaction.atomic():
                # bulk_create, not save(): DomainMixin.save() would make the
                # first domain of a not-yet-provisioned organization primary.
                Domain.objects.bulk_create(
                    [Domain(domain=d, tenant=organization, is_primary=False) for d in added]
                )
        except IntegrityError as exc:  # claimed by someone else a moment ago
            raise Conflict(
                "One of these domains already belongs to another organization.",
                code="domain_taken",
                field=FIELD,
            ) from exc
        platform_audit_record(
            "organization.domains_changed",
            organization=organization,
            actor=actor,
            data={"added": added, "removed": removed},
        )
    return wanted
