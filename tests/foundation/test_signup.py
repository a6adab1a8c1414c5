"""Signing up: all or nothing, with errors shown next to their fields."""

from __future__ import annotations

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from control_plane.accounts.models import Membership, User
from control_plane.organizations.models import Organization, OrganizationStatus
from control_plane.organizations.services.provisioning import organization_provision
from tests.factories import PASSWORD

GOOD = {
    "full_name": "Grace Hopper",
    "email": "grace@example.org",
    "password": PASSWORD,
    "organization_name": "Navy Labs",
    "slug": "navy-labs",
}


def _provision_jobs():
    return ProcrastinateJob.objects.filter(task_name="organizations.provision")


def _snapshot():
    return (User.objects.count(), Organization.objects.count(), _provision_jobs().count())


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"slug": "acme"}, "slug", "The address “acme” is taken."),
        ({"slug": "admin"}, "slug", "“admin” is reserved"),
        ({"slug": "Bad_Slug"}, "slug", "Use 3 to 40 lowercase letters"),
        ({"password": "password"}, "password", "This password is too common."),
        ({"password": "12345678901"}, "password", "This password is entirely numeric."),
        ({"email": "TAKEN@Example.ORG"}, "email", "An account with this email already exists."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"organization_name": ""}, "organization_name", "This field is required."),
    ],
)
def test_signup_with_bad_input_shows_the_error_and_creates_nothing(
    change, field, message, org_a, make_user, client_on
):
    make_user(email="taken@example.org")
    before = _snapshot()

    response = client_on(None).post("/signup/", {**GOOD, **change})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<span class="error" id="id_{field}-error">{message}' in html
    assert _snapshot() == before
    assert not User.objects.filter(email="grace@example.org").exists()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_signup_reports_every_bad_field_at_once(org_a, client_on):
    response = client_on(None).post("/signup/", {**GOOD, "slug": "acme", "password": "password"})

    html = response.content.decode()
    assert 'id="id_slug-error"' in html and 'id="id_password-error"' in html
    assert not User.objects.filter(email=GOOD["email"]).exists()


def test_a_good_signup_creates_user_pending_organization_and_job(db, client_on):
    client = client_on(None)

    response = client.post("/signup/", {**GOOD, "email": "  Grace@Example.org "})

    assert response.status_code == 302
    assert response["Location"] == "/organizations/navy-labs/setup/"
    user = User.objects.get(email__iexact="grace@example.org")
    organization = Organization.objects.get(slug="navy-labs")
    assert organization.status == OrganizationStatus.PENDING
    assert (organization.name, organization.created_by, organization.owner_email) == (
        "Navy Labs",
        user,
        user.email,
    )
    (job,) = _provision_jobs().filter(args__organization_id=organization.pk)
    assert (job.status, job.queue_name) == ("todo", "provisioning")
    # The person is logged in and watches provisioning on the setup page.
    setup = client.get("/organizations/navy-labs/setup/")
    assert setup.status_code == 200
    assert 'data-status="pending"' in setup.content.decode()


def test_after_provisioning_the_signup_owner_lands_in_the_organization(
    db, client_on, tenant_schema_cleanup
):
    client = client_on(None)
    client.post("/signup/", GOOD)
    organization = Organization.objects.get(slug="navy-labs")

    organization_provision(organization.pk)  # what the queued job runs

    user = User.objects.get(email=GOOD["email"])
    assert Membership.objects.get(organization=organization).user == user
    setup = client.get("/organizations/navy-labs/setup/")
    assert setup.status_code == 302
    assert setup["Location"] == "http://navy-labs.publishmdm.localhost:8000/"
    assert client.get("/", HTTP_HOST="navy-labs.publishmdm.localhost").status_code == 200


def test_setup_page_is_only_for_the_creator(client_on, make_user):
    client_on(None).post("/signup/", GOOD)

    response = client_on(None, make_user()).get("/organizations/navy-labs/setup/")

    assert response.status_code == 404


def test_creating_another_organization_when_logged_in(make_user, client_on):
    user = make_user()
    client = client_on(None, user)

    refused = client.post("/organizations/new/", {"name": "Www", "slug": "www"})
    response = client.post("/organizations/new/", {"name": "Second", "slug": "second-org"})

    assert 'id="id_slug-error"' in refused.content.decode()
    assert response["Location"] == "/organizations/second-org/setup/"
    organization = Organization.objects.get(slug="second-org")
    assert organization.created_by == user and organization.owner_email == user.email
    assert _provision_jobs().filter(args__organization_id=organization.pk).count() == 1
    assert not Organization.objects.filter(slug="www").exists()
