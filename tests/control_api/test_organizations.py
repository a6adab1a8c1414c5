"""Organizations through the control-plane API: create, read, update, lifecycle."""

from __future__ import annotations

from control_plane.accounts.models import Membership
from control_plane.organizations.models import (
    Domain,
    Organization,
    OrganizationStatus,
    PlatformAuditEvent,
)

ORGS = "/api/v1/organizations/"


def _queued_provisioning(organization_id: int) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s AND args->>'organization_id' = %s",
            ["organizations.provision", str(organization_id)],
        )
        return cursor.fetchone()[0] == 1


def test_create_starts_provisioning_and_answers_202(api, tenant_schema_cleanup):
    response = api.post(
        ORGS,
        {
            "slug": "north-clinic",
            "name": "North Clinic",
            "plan": "team",
            "custom_domains": ["Forms.North-Clinic.org."],
        },
    )

    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["plan"] == "team"
    assert body["custom_domains"] == ["forms.north-clinic.org"]
    assert body["primary_domain"] == "north-clinic.publishmdm.localhost"
    assert body["url"].startswith("http://north-clinic.publishmdm.localhost")
    assert body["api_base"].endswith("/api/v1/")
    assert [s["name"] for s in body["provisioning"]][:2] == ["schema", "domain"]
    assert response["Location"] == f"{ORGS}north-clinic/"
    organization = Organization.objects.get(slug="north-clinic")
    assert _queued_provisioning(organization.pk)
    event = PlatformAuditEvent.objects.get(organization=organization, code="organization.created")
    assert event.actor_label.startswith("platform-token:terraform (pmdp_")


def test_create_is_idempotent_on_the_slug(api):
    first = api.post(ORGS, {"slug": "twice", "name": "Twice", "plan": "free"})
    again = api.post(ORGS, {"slug": "twice", "name": "Twice", "plan": "free"})
    other = api.post(ORGS, {"slug": "twice", "name": "Another name"})

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["slug"] == "twice"
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "organization_exists"
    assert "name" in other.json()["error"]["message"]
    assert Organization.objects.filter(slug="twice").count() == 1


def test_an_archived_slug_is_never_reused(api, org_a):
    from control_plane.organizations.services.lifecycle import organization_archive

    organization_archive(org_a, actor=None)

    response = api.post(ORGS, {"slug": "acme", "name": org_a.name})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slug_archived"


def test_create_validates_fields(api, org_a):
    bad_slug = api.post(ORGS, {"slug": "No Spaces", "name": "X"})
    unknown_plan = api.post(ORGS, {"slug": "okay-slug", "name": "X", "plan": "gold"})
    platform_domain = api.post(
        ORGS,
        {
            "slug": "okay-slug",
            "name": "X",
            "plan": "team",
            "custom_domains": ["evil.publishmdm.localhost"],
        },
    )
    over_limit = api.post(
        ORGS, {"slug": "okay-slug", "name": "X", "custom_domains": ["forms.example.org"]}
    )
    Domain.objects.create(domain="forms.acme.org", tenant=org_a, is_primary=False)
    taken = api.post(
        ORGS,
        {"slug": "okay-slug", "name": "X", "plan": "team", "custom_domains": ["forms.acme.org"]},
    )

    assert bad_slug.status_code == 400 and "slug" in bad_slug.json()["error"]["fields"]
    assert unknown_plan.status_code == 400 and "plan" in unknown_plan.json()["error"]["fields"]
    assert platform_domain.status_code == 400
    assert "custom_domains" in platform_domain.json()["error"]["fields"]
    assert over_limit.status_code == 400  # the free plan has no custom domains
    assert "Free plan allows 0" in over_limit.json()["error"]["fields"]["custom_domains"][0]
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "domain_taken"
    assert not Organization.objects.filter(slug="okay-slug").exists()


def test_read_shows_status_steps_and_domains(api, org_a):
    body = api.get(f"{ORGS}acme/").json()

    assert body["status"] == "active"
    assert body["schema_name"] == "org_acme"
    assert body["primary_domain"] == "acme.publishmdm.localhost"
    assert body["plan"] == "free"  # never chose one: the default plan
    assert {s["status"] for s in body["provisioning"]} == {"done"}
    assert api.get(f"{ORGS}nobody/").status_code == 404


def test_list_is_cursor_paginated_and_filtered(api, org_a, org_b, django_assert_max_num_queries):
    # token, orgs, domains, steps (+ search_path resets): not one query per row
    with django_assert_max_num_queries(10):
        everything = api.get(ORGS).json()
    assert [o["slug"] for o in everything["results"]] == ["acme", "globex"]
    first = api.get(ORGS, {"page_size": 1}).json()
    assert [o["slug"] for o in first["results"]] == ["acme"]
    second = api.get(first["next"]).json()
    assert [o["slug"] for o in second["results"]] == ["globex"]
    assert api.get(ORGS, {"status": "suspended"}).json()["results"] == []
    bad = api.get(ORGS, {"cursor": "garbage"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"


def test_update_changes_name_plan_and_domains_with_audit(api, org_a):
    response = api.patch(
        f"{ORGS}acme/",
        {"name": "Acme Global Health", "plan": "team", "custom_domains": ["forms.acme.org"]},
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["plan"], body["custom_domains"]) == (
        "Acme Global Health",
        "team",
        ["forms.acme.org"],
    )
    codes = set(
        PlatformAuditEvent.objects.filter(organization=org_a).values_list("code", flat=True)
    )
    assert {
        "organization.renamed",
        "organization.plan_changed",
        "organization.domains_changed",
    } <= codes

    # The same again changes (and records) nothing.
    before = PlatformAuditEvent.objects.count()
    assert (
        api.patch(f"{ORGS}acme/", {"name": "Acme Global Health", "plan": "team"}).status_code == 200
    )
    assert PlatformAuditEvent.objects.count() == before

    downgrade = api.patch(f"{ORGS}acme/", {"plan": "free"})
    assert downgrade.status_code == 400
    assert "custom_domains" in downgrade.json()["error"]["fields"]

    cleared = api.patch(f"{ORGS}acme/", {"plan": "free", "custom_domains": []}).json()
    assert (cleared["plan"], cleared["custom_domains"]) == ("free", [])
    assert Domain.objects.filter(tenant=org_a).count() == 1  # the primary stays


def test_a_domain_cannot_be_taken_from_another_organization(api, org_a, org_b):
    api.patch(f"{ORGS}acme/", {"plan": "team", "custom_domains": ["shared.example.org"]})

    response = api.patch(
        f"{ORGS}globex/", {"plan": "team", "custom_domains": ["shared.example.org"]}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "domain_taken"


def test_suspend_resume(api, org_a):
    suspended = api.post(f"{ORGS}acme/suspend/", {"reason": "unpaid"})
    again = api.post(f"{ORGS}acme/suspend/")
    resumed = api.post(f"{ORGS}acme/resume/")

    assert suspended.json()["status"] == "suspended" and suspended.json()["suspended_at"]
    assert again.status_code == 200
    assert resumed.json()["status"] == "active"
    event = PlatformAuditEvent.objects.get(organization=org_a, code="organization.suspended")
    assert event.data == {"reason": "unpaid"} and event.actor_label.startswith("platform-token:")


def test_archive_needs_confirmation_when_the_organization_holds_data(api, org_a, member_of):
    member_of(org_a, "owner")

    refused = api.post(f"{ORGS}acme/archive/")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "confirmation_required"
    assert "1 member" in error["message"] and "confirm" in error["fields"]
    assert Organization.objects.get(pk=org_a.pk).status == OrganizationStatus.ACTIVE

    archived = api.post(f"{ORGS}acme/archive/", {"confirm": True})
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert api.post(f"{ORGS}acme/archive/").status_code == 200  # idempotent
    assert Membership.objects.filter(organization=org_a).exists()  # nothing dropped
    assert api.patch(f"{ORGS}acme/", {"name": "Zombie"}).status_code == 409
    assert api.post(f"{ORGS}acme/suspend/").status_code == 409


def test_archive_without_data_needs_no_confirmation(api, org_a):
    response = api.post(f"{ORGS}acme/archive/")

    assert response.status_code == 200
    assert response.json()["status"] == "archived"


def test_rows_in_the_schema_count_as_data(org_a):
    from django.db import connection

    from control_plane.organizations.services.changes import organization_data_summary
    from tenants.publishing.models import TemplateVariable

    assert organization_data_summary(org_a) == {}  # what provisioning made is not data
    connection.set_tenant(org_a)
    TemplateVariable.objects.create(name="district")
    connection.set_schema_to_public()

    assert organization_data_summary(org_a) == {
        "tables_with_rows": [TemplateVariable._meta.db_table]
    }


def test_provision_retries_a_failed_organization(api, new_organization):
    organization = new_organization(provision=False)
    Organization.objects.filter(pk=organization.pk).update(
        status=OrganizationStatus.FAILED, failed_step="schema", failed_error="boom"
    )

    body = api.get(f"{ORGS}{organization.slug}/").json()
    assert (body["status"], body["failed_step"], body["failed_error"]) == (
        "failed",
        "schema",
        "boom",
    )
    response = api.post(f"{ORGS}{organization.slug}/provision/")
    assert response.status_code == 202
    assert api.post(f"{ORGS}acme/provision/").status_code in (404, 409)


def test_control_api_is_not_served_on_organization_hosts(org_a, make_token, client_on):
    response = client_on(org_a).get(
        "/api/v1/organizations/", HTTP_AUTHORIZATION=f"Bearer {make_token()}"
    )

    assert response.status_code in (302, 401, 404)
