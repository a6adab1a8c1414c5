"""Provisioning an organization: a working schema, recorded steps, safe re-runs."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from control_plane.accounts.models import Invitation, Membership
from control_plane.accounts.roles import Role
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
    PROVISIONING_STEPS,
    ProvisioningFailed,
    organization_create,
    organization_provision,
    provisioning_progress,
)
from control_plane.organizations.services.slugs import validate_slug
from control_plane.organizations.services.spare_pool import spare_pool_fill
from tenants.audit.models import AuditEvent

pytestmark = pytest.mark.embedded

STEP_NAMES = [name for name, _ in PROVISIONING_STEPS]


def _tables_of(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        )
        return {row[0] for row in cursor.fetchall()}


def _step_of(organization, name):
    return organization.provisioning_steps.get(name=name)


def test_provisioning_creates_a_working_schema(new_organization, make_user, client_on):
    owner = make_user()
    organization = new_organization(owner_email=owner.email)

    assert organization.status == OrganizationStatus.ACTIVE
    assert organization.provisioned_at is not None
    assert {"audit_auditevent", "django_migrations", "django_content_type"} <= _tables_of(
        organization.schema_name
    )
    assert schemas.schemas_pending_migration([organization.schema_name]) == []
    with schema_context(organization.schema_name):
        AuditEvent.objects.create(code="test.round_trip", actor_label="tester")
        assert AuditEvent.objects.filter(code="test.round_trip").count() == 1
        assert AuditEvent.objects.filter(code="organization.provisioned").count() == 1
    assert organization.primary_domain == f"{organization.slug}.publishmdm.localhost"
    assert Membership.objects.get(organization=organization).role == Role.OWNER
    assert client_on(organization, owner).get("/").status_code == 200


def test_provisioning_without_spares_creates_and_migrates_the_schema(new_organization):
    SpareSchema.objects.all().delete()
    organization = new_organization()

    assert _step_of(organization, "schema").detail == "created and migrated (pool empty)"
    assert schemas.exists(organization.schema_name)


def test_provisioning_claims_a_spare_schema_from_the_pool(new_organization):
    SpareSchema.objects.all().delete()
    (spare,) = spare_pool_fill(1)
    assert SpareSchema.objects.filter(name=spare, status="ready").exists()

    organization = new_organization()

    assert _step_of(organization, "schema").detail == f"claimed spare {spare}"
    assert not SpareSchema.objects.exists()
    assert not schemas.exists(spare)
    assert "audit_auditevent" in _tables_of(organization.schema_name)


def test_a_failing_step_leaves_the_organization_failed_with_step_and_error(
    new_organization, replace_provisioning_step
):
    organization = new_organization(provision=False)

    def broken_storage(org, original):
        raise OSError("disk full")

    with replace_provisioning_step("storage", broken_storage):
        with pytest.raises(ProvisioningFailed) as excinfo:
            organization_provision(organization.pk)

    assert excinfo.value.step == "storage"
    organization.refresh_from_db()
    assert organization.status == OrganizationStatus.FAILED
    assert organization.failed_step == "storage"
    assert organization.failed_error == "OSError: disk full"
    step = _step_of(organization, "storage")
    assert step.status == StepStatus.FAILED
    assert step.error == "OSError: disk full"
    progress = {row["name"]: row["status"] for row in provisioning_progress(organization)}
    assert progress["schema"] == progress["domain"] == StepStatus.DONE
    assert progress["storage"] == StepStatus.FAILED
    assert progress["defaults"] == progress["owner"] == "pending"
    event = PlatformAuditEvent.objects.get(
        organization=organization, code="organization.provisioning_failed"
    )
    assert event.data["step"] == "storage"


class InjectedCrash(RuntimeError):
    pass


def _crashing(when):
    def step(organization, original):
        if when == "after":
            original(organization)  # the work is done, but the process dies before recording it
        raise InjectedCrash(f"crash {when} the work")

    return step


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("step_name", STEP_NAMES)
def test_rerun_after_a_crash_at_any_step_finishes_without_duplicates(
    step_name, when, new_organization, make_user, replace_provisioning_step, spare_schema
):
    owner = make_user()
    spare = spare_schema
    # A second, later spare that a repeated claim would take (an empty schema is
    # enough to notice: migrating a real one costs a second per test).
    decoy = SpareSchema.objects.create(name="spare_decoy", status="ready", ready_at=timezone.now())
    schemas.schema_create(decoy.name)
    organization = new_organization(owner_email=owner.email, provision=False)

    with replace_provisioning_step(step_name, _crashing(when)):
        with pytest.raises(ProvisioningFailed, match="crash"):
            organization_provision(organization.pk)
    organization.refresh_from_db()
    assert organization.status == OrganizationStatus.FAILED
    assert organization.failed_step == step_name

    organization = organization_provision(organization.pk)

    assert organization.status == OrganizationStatus.ACTIVE
    assert organization.failed_step == "" and organization.failed_error == ""
    steps = {step.name: step for step in organization.provisioning_steps.all()}
    assert set(steps) == set(STEP_NAMES)
    assert {step.status for step in steps.values()} == {StepStatus.DONE}
    assert {n: s.attempts for n, s in steps.items()} == {
        n: 2 if n == step_name else 1 for n in STEP_NAMES
    }
    assert Domain.objects.filter(tenant=organization).count() == 1
    assert (
        Membership.objects.filter(organization=organization, user=owner, role="owner").count() == 1
    )
    assert list(SpareSchema.objects.values_list("name", flat=True)) == ["spare_decoy"]
    assert schemas.exists("spare_decoy") and not schemas.exists(spare)
    assert _step_of(organization, "schema").detail in (
        f"claimed spare {spare}",
        "schema already current",  # the crash came after the claim
    )
    with schema_context(organization.schema_name):
        assert AuditEvent.objects.filter(code="organization.provisioned").count() == 1
    assert (
        PlatformAuditEvent.objects.filter(
            organization=organization, code="organization.provisioned"
        ).count()
        == 1
    )


@pytest.mark.parametrize("when", ["before", "after"])
def test_rerun_after_a_crash_in_the_owner_step_sends_one_invitation(
    when,
    new_organization,
    replace_provisioning_step,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    organization = new_organization(owner_email="founder@example.org", provision=False)

    with django_capture_on_commit_callbacks(execute=True):
        with replace_provisioning_step("owner", _crashing(when)):
            with pytest.raises(ProvisioningFailed):
                organization_provision(organization.pk)
        organization_provision(organization.pk)

    invitation = Invitation.objects.get(organization=organization)
    assert invitation.email == "founder@example.org"
    assert invitation.role == Role.OWNER
    assert [m.to for m in mailoutbox] == [["founder@example.org"]]


def test_provisioning_an_active_organization_again_changes_nothing(new_organization):
    organization = new_organization()
    before = {s.name: s.attempts for s in organization.provisioning_steps.all()}

    again = organization_provision(organization.pk)

    assert again.status == OrganizationStatus.ACTIVE
    assert {s.name: s.attempts for s in again.provisioning_steps.all()} == before


def test_creating_an_organization_with_a_taken_slug_conflicts(org_a):
    with pytest.raises(Conflict) as excinfo:
        organization_create(name="Another Acme", slug="acme", enqueue=False)
    assert excinfo.value.code == "slug_taken"
    assert Organization.objects.filter(slug="acme").count() == 1


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "ab",
        "a" * 41,
        "Acme",
        "-acme",
        "acme-",
        "ac--me",
        "xn--acme",
        "ac_me",
        "ac.me",
        "acmé",
        "ac me",
        "ACME",
    ],
)
def test_invalid_slugs_are_refused_and_create_nothing(db, slug):
    with pytest.raises(ValidationError):
        organization_create(name="Bad", slug=slug, enqueue=False)
    assert not Organization.objects.filter(slug=slug).exists()


@pytest.mark.parametrize("slug", ["admin", "api", "www", "static", "spare", "public", "login"])
def test_reserved_slugs_are_refused(db, slug):
    with pytest.raises(ValidationError) as excinfo:
        organization_create(name="Reserved", slug=slug, enqueue=False)
    assert excinfo.value.code == "reserved_slug"
    assert not Organization.objects.filter(slug=slug).exists()


@pytest.mark.parametrize("slug", ["abc", "acme-health", "a1b", "a" * 40, "9lives"])
def test_valid_slugs_are_accepted(slug):
    assert validate_slug(slug) == slug


def test_hyphenated_slug_becomes_a_valid_schema_name_and_host(new_organization):
    organization = new_organization("acme-field-team")

    assert organization.schema_name == "org_acme_field_team"
    assert schemas.exists("org_acme_field_team")
    assert organization.primary_domain == "acme-field-team.publishmdm.localhost"
