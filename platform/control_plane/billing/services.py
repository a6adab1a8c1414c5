"""Reading plans and checking an organization against its plan's limits."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from control_plane.billing.defaults import DEFAULT_PLAN, DEFAULT_PLANS
from control_plane.billing.models import Plan


def plans_seed() -> list[Plan]:
    """Create the default plans that are missing (never overwrites an edited plan).

    The seeding migration does this once; tests that flush the public tables
    call it again.
    """
    existing = set(Plan.objects.values_list("slug", flat=True))
    missing = [Plan(**row) for row in DEFAULT_PLANS if row["slug"] not in existing]
    Plan.objects.bulk_create(missing, ignore_conflicts=True)
    return list(Plan.objects.all())


def plan_get(slug: str, *, for_new: bool = False) -> Plan:
    """The plan called ``slug``; ValidationError (field ``plan``) when there is none.

    ``for_new`` refuses retired plans, which existing organizations may keep.
    """
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None and slug == DEFAULT_PLAN:
        plan = next(p for p in plans_seed() if p.slug == DEFAULT_PLAN)
    if plan is None or (for_new and not plan.is_available):
        choices = ", ".join(Plan.objects.filter(is_available=True).values_list("slug", flat=True))
        raise ValidationError({"plan": f"No plan “{slug}”. Choose one of: {choices}."})
    return plan


def plan_of(organization) -> Plan:
    """The organization's plan; organizations that never chose one are on the default."""
    return organization.plan if organization.plan_id else plan_get(DEFAULT_PLAN)


def plan_slug_of(organization) -> str:
    return organization.plan_id or DEFAULT_PLAN
