"""Suspending, resuming, archiving and purging organizations."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from control_plane.accounts.models import Invitation, Membership
from control_plane.accounts.services.invitations import invitation_create
from control_plane.errors import Conflict, InvalidState, NotAllowed
from control_plane.organizations.models import (
    Domain,
    Organization,
    OrganizationStatus,
    PlatformAuditEvent,
)
from control_plane.organizations.services import schemas
from control_plane.organizations.services.lifecycle import (
    organization_archive,
    organization_purge,
    organization_resume,
    organization_suspend,
)
from control_plane.organizations.services.provisioning import organization_create
from control_plane.storage import tenant_storage_prefix


def _codes(organization) -> list[str]:
    return list(
        PlatformAuditEvent.objects.filter(organization=organization)
        .order_by("id")
        .values_list("code", flat=True)
    )


def test_suspend_resume_archive(org_a, make_user):
    staff = make_user()

    suspended = organization_suspend(org_a, actor=staff, reason="unpaid invoice")
    assert suspended.status == OrganizationStatus.SUSPENDED and suspended.suspended_at
    resumed = organization_resume(suspended, actor=staff)
    assert resumed.status == OrganizationStatus.ACTIVE and resumed.suspended_at is None
    archived = organization_archive(resumed, actor=staff)
    assert archived.status == OrganizationStatus.ARCHIVED and archived.archived_at

    assert _codes(org_a)[-3:] == [
        "organization.suspended",
        "organization.resumed",
        "organization.archived",
    ]
    event = PlatformAuditEvent.objects.get(organization=org_a, code="organization.suspended")
    assert (event.actor, event.data) == (staff, {"reason": "unpaid invoice"})


def test_a_suspended_organization_can_be_archived(org_a):
    organization_suspend(org_a, actor=None)

    assert organization_archive(org_a, actor=None).status == OrganizationStatus.ARCHIVED


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("active", organization_resume),
        ("suspended", organization_suspend),
        ("archived", organization_suspend),
        ("archived", organization_resume),
        ("archived", organization_archive),
        ("pending", organization_suspend),
        ("provisioning", organization_archive),
    ],
)
def test_invalid_transitions_raise(start, action, org_a):
    Organization.objects.filter(pk=org_a.pk).update(status=start)

    with pytest.raises(InvalidState):
        action(org_a, actor=None)
    assert Organization.objects.get(pk=org_a.pk).status == start


@pytest.fixture
def archived_organization(new_organization, make_user):
    owner = make_user()
    organization = new_organization("doomed-org", owner_email=owner.email)
    invitation_create(
        organization=organization, email="late@example.org", role="viewer", actor=owner
    )
    return organization_archive(organization, actor=None)


def test_purge_needs_the_slug_typed_back(archived_organization):
    for wrong in ("", "doomed", "DOOMED-ORG", "doomed-org "):
        with pytest.raises(NotAllowed, match="doomed-org"):
            organization_purge(archived_organization, actor=None, confirm=wrong)

    assert schemas.exists(archived_organization.schema_name)
    assert Organization.objects.get(pk=archived_organization.pk).purged_at is None


def test_purge_needs_the_organization_archived_first(new_organization):
    organization = new_organization()

    with pytest.raises(InvalidState, match="Archive"):
        organization_purge(organization, actor=None, confirm=organization.slug)
    assert schemas.exists(organization.schema_name)


def test_purge_drops_schema_files_and_access_but_keeps_a_tombstone(
    archived_organization, django_capture_on_commit_callbacks, client, make_user
):
    organization = archived_organization
    prefix = tenant_storage_prefix(organization.schema_name)
    assert default_storage.exists(f"{prefix}/.organization")

    with django_capture_on_commit_callbacks(execute=True):
        purged = organization_purge(organization, actor=None, confirm="doomed-org")

    assert not schemas.exists(organization.schema_name)
    tombstone = Organization.objects.get(pk=organization.pk)
    assert tombstone.purged_at is not None
    assert (tombstone.status, tombstone.slug) == (OrganizationStatus.ARCHIVED, "doomed-org")
    assert purged.purged_at == tombstone.purged_at
    assert not Domain.objects.filter(tenant=organization).exists()
    assert not Membership.objects.filter(organization=organization).exists()
    assert not Invitation.objects.filter(organization=organization).exists()
    assert _codes(organization)[-1] == "organization.purged"
    files = [
        name for _, _, names in os.walk(os.path.join(settings.MEDIA_ROOT, prefix)) for name in names
    ]
    assert files == []
    client.force_login(make_user())  # (anonymous visitors are sent to log in on any host)
    assert client.get("/", HTTP_HOST="doomed-org.publishmdm.localhost").status_code == 404
    # Purging again is harmless.
    assert organization_purge(tombstone, actor=None, confirm="doomed-org").purged_at == (
        tombstone.purged_at
    )


def test_a_purged_organization_slug_stays_taken(archived_organization, client_on):
    organization_purge(archived_organization, actor=None, confirm="doomed-org")

    with pytest.raises(Conflict):
        organization_create(name="Reborn", slug="doomed-org", enqueue=False)
    response = client_on(None).post(
        "/signup/",
        {
            "email": "new@example.org",
            "password": "correct-horse-battery-staple-42",
            "organization_name": "Reborn",
            "slug": "doomed-org",
        },
    )
    assert "is taken" in response.content.decode()
    assert Organization.objects.filter(slug="doomed-org").count() == 1
