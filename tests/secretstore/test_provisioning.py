"""The ``secrets`` provisioning step: one Infisical project per organization, whatever fails."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from control_plane.organizations.models import (
    Organization,
    PlatformAuditEvent,
    ProvisioningStep,
)
from control_plane.organizations.services import schemas
from control_plane.organizations.services.lifecycle import organization_archive, organization_purge
from control_plane.organizations.services.provisioning import (
    ProvisioningFailed,
    organization_create,
    organization_provision,
)
from tenants.secretstore.errors import SecretStoreUnavailable
from tenants.secretstore.services.provisioning import infisical_project_slug
from tenants.secretstore.services.secrets import secret_put
from tenants.secretstore.store import secret_store

PROJECTS = r"^/api/v1/projects$"


def test_local_store_is_a_recorded_step(org_a):
    step = ProvisioningStep.objects.get(organization=org_a, name="secrets")
    names = list(ProvisioningStep.objects.filter(organization=org_a).values_list("name", flat=True))
    assert names.index("secrets") == names.index("storage") + 1
    assert step.status == "done"
    assert step.detail == "local (encrypted in the organization's schema)"
    assert org_a.secret_backend == "local" and org_a.infisical_project_id == ""


def _provision_fails(organization: Organization) -> Organization:
    with pytest.raises(ProvisioningFailed):
        organization_provision(organization.pk)
    organization.refresh_from_db()
    assert organization.status == "failed" and organization.failed_step == "secrets"
    return organization


def test_exactly_one_project_when_rerun_after_failures_before_and_after_creation(
    org_a, infisical, settings, tmp_path, planted
):
    settings.SECRET_STORE_BACKEND = "infisical"
    settings.MEDIA_ROOT = str(tmp_path)
    organization = organization_create(name="Secrets Test", slug="secrets-prov", enqueue=False)

    # 1. Infisical fails before creating anything.
    infisical.fail("POST", PROJECTS, status=500)
    organization = _provision_fails(organization)
    assert "InternalServerError: Something went wrong (HTTP 500" in organization.failed_error
    assert "creating project pmdm-secrets-prov" in organization.failed_error
    assert infisical.projects() == []

    # 2. The project is created, but Infisical's answer never arrives.
    infisical.fail("POST", PROJECTS, mode="drop")
    organization = _provision_fails(organization)
    assert "the connection closed before Infisical answered" in organization.failed_error
    assert len(infisical.projects()) == 1
    assert organization.infisical_project_id == ""  # we never learnt its id

    # 3. Found again by its slug (not created twice); then creating the environment fails.
    infisical.fail("POST", r"/environments$", status=503)
    organization = _provision_fails(organization)
    (project,) = infisical.projects()
    assert organization.infisical_project_id == project["id"]

    # 4. The re-run completes, still with the one project.
    organization = organization_provision(organization.pk)
    assert organization.status == "active"
    (project,) = infisical.projects()
    assert project["slug"] == infisical_project_slug("secrets-prov", "pmdm") == "pmdm-secrets-prov"
    assert organization.infisical_project_id == project["id"]
    assert organization.secret_backend == "infisical"
    assert "publishmdm" in {env["slug"] for env in project["environments"]}
    step = ProvisioningStep.objects.get(organization=organization, name="secrets")
    assert (step.status, step.attempts) == ("done", 4)
    assert step.detail == f"infisical project pmdm-secrets-prov ({project['id']})"
    assert infisical.count("POST", PROJECTS) == 2  # the failed one and the lost answer

    value = planted()
    with schema_context(organization.schema_name):
        secret_put("central-server/1/password", value, actor=None)
        assert secret_store().get("central-server/1/password").reveal() == value
    assert list(infisical.stored_secrets(project["id"]).values()) == [value]

    # Purging (after archiving) deletes the project; if Infisical fails, nothing is dropped.
    organization = organization_archive(organization, actor=None)
    infisical.fail("DELETE", rf"^/api/v1/projects/{project['id']}$", status=503, times=3)
    with pytest.raises(SecretStoreUnavailable, match="deleting project"):
        organization_purge(organization, actor=None, confirm="secrets-prov")
    organization.refresh_from_db()
    assert organization.purged_at is None and schemas.exists(organization.schema_name)
    assert len(infisical.projects()) == 1

    organization = organization_purge(organization, actor=None, confirm="secrets-prov")
    assert organization.purged_at is not None
    assert infisical.projects() == []
    assert PlatformAuditEvent.objects.filter(
        organization=organization, code="organization.secret_store_deleted"
    ).exists()


def test_long_slugs_get_a_short_unique_project_slug():
    slug = infisical_project_slug("a-very-long-organization-slug-of-40-chars", "pmdm")
    other = infisical_project_slug("a-very-long-organization-slug-of-40-chaps", "pmdm")
    assert len(slug) <= 36 and len(other) <= 36 and slug != other
    assert slug.startswith("pmdm-a-very-long-organization")
