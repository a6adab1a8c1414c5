"""Provisioning raced from several workers at once (real threads, real connections)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from control_plane.errors import Conflict
from control_plane.organizations.models import (
    Domain,
    Organization,
    OrganizationStatus,
    PlatformAuditEvent,
    SpareSchema,
    StepStatus,
)
from control_plane.organizations.services import schemas
from control_plane.organizations.services.provisioning import (
    organization_create,
    organization_provision,
)
from control_plane.organizations.services.spare_pool import spare_pool_fill

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]


def _race(*calls):
    """Run each call in its own thread (own DB connection), released at the same moment."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=10)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result(timeout=120) for future in [pool.submit(run, c) for c in calls]]


def _create_and_provision(slug):
    def call():
        try:
            organization = organization_create(name=slug.title(), slug=slug, enqueue=False)
        except Conflict:
            organization = Organization.objects.get(slug=slug)
        return organization_provision(organization.pk).status

    return call


def _create_only(slug):
    def call():
        try:
            organization_create(name=slug.title(), slug=slug, enqueue=False)
        except Conflict as exc:
            assert exc.code == "slug_taken"
            return "conflict"
        return "created"

    return call


def test_signups_racing_for_one_slug_get_one_organization_and_the_rest_a_conflict():
    """50 rounds of three racing signups: whichever way the race goes (the losers blocked on
    the unique index, or arriving after the winner committed), the losers get ``slug_taken``."""
    for round_ in range(50):
        slug = f"race-{round_}"
        results = _race(_create_only(slug), _create_only(slug), _create_only(slug))

        assert sorted(results) == ["conflict", "conflict", "created"], (round_, results)
        assert Organization.objects.filter(slug=slug).count() == 1


def test_two_signups_racing_for_one_slug_end_with_one_organization(tenant_schema_cleanup):
    results = _race(_create_and_provision("racer"), _create_and_provision("racer"))

    assert results == [OrganizationStatus.ACTIVE, OrganizationStatus.ACTIVE]
    organization = Organization.objects.get(slug="racer")
    steps = list(organization.provisioning_steps.all())
    assert {step.status for step in steps} == {StepStatus.DONE}
    assert {step.attempts for step in steps} == {1}  # the second run found them done
    assert Domain.objects.filter(tenant=organization).count() == 1
    for code in ("organization.created", "organization.provisioned"):
        assert PlatformAuditEvent.objects.filter(organization=organization, code=code).count() == 1
    assert schemas.exists("org_racer")


def test_two_organizations_never_claim_the_same_spare(tenant_schema_cleanup):
    SpareSchema.objects.all().delete()
    (spare,) = spare_pool_fill(1)

    _race(_create_and_provision("first-co"), _create_and_provision("second-co"))

    details = sorted(
        Organization.objects.get(slug=slug).provisioning_steps.get(name="schema").detail
        for slug in ("first-co", "second-co")
    )
    assert details == ["claimed spare " + spare, "created and migrated (pool empty)"]
    assert not SpareSchema.objects.exists()
    assert schemas.exists("org_first_co") and schemas.exists("org_second_co")
    assert not schemas.exists(spare)
