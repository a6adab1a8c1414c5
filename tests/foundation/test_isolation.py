"""Tenant isolation and routing by host name (DESIGN.md §1)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, converters, get_resolver, resolve
from django.urls.resolvers import RoutePattern
from django.utils.regex_helper import normalize
from django_tenants.utils import schema_context

from control_plane.middleware import ANONYMOUS_TENANT_PATHS, API_PATH_RE, OPEN_PATHS
from control_plane.organizations.models import Organization
from control_plane.organizations.services.lifecycle import (
    organization_archive,
    organization_resume,
    organization_suspend,
)
from control_plane.organizations.services.provisioning import ProvisioningFailed
from tenants.audit.models import AuditEvent

TENANT_URLCONF = "control_plane.tenant_urls"

SAMPLES = {
    converters.IntConverter: 1,
    converters.StringConverter: "sample",
    converters.SlugConverter: "sample-slug",
    converters.UUIDConverter: uuid.UUID("12345678-1234-5678-1234-567812345678"),
    converters.PathConverter: "some/path",
}


_PARAMETER = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")


def _fill(pattern) -> list[str]:
    """Paths matching one pattern, every parameter replaced by a sample value."""
    if isinstance(pattern, RoutePattern):

        def sample(match):
            converter = pattern.converters[match["name"]]
            assert type(converter) in SAMPLES, f"No sample for {type(converter).__name__}"
            return converter.to_url(SAMPLES[type(converter)])

        return [_PARAMETER.sub(sample, str(pattern))]
    # re_path() and routers: every form the regex can take, as reverse() sees them.
    return [template % dict.fromkeys(params, "1") for template, params in normalize(str(pattern))]


def _walk(patterns, prefix="/"):
    for entry in patterns:
        for filled in _fill(entry.pattern):
            if isinstance(entry, URLResolver):
                yield from _walk(entry.url_patterns, prefix + filled)
            elif isinstance(entry, URLPattern):
                yield prefix + filled


ALL_TENANT_PATHS = sorted(set(_walk(get_resolver(TENANT_URLCONF).url_patterns)))
OPEN_TO_ANYONE = tuple(OPEN_PATHS) + tuple(ANONYMOUS_TENANT_PATHS)
MEMBER_PATHS = [p for p in ALL_TENANT_PATHS if not p.startswith(OPEN_TO_ANYONE)]


def test_the_walk_found_the_tenant_pages():
    # Guards the walk itself: if it found nothing the test below would pass vacuously.
    assert {"/", "/members/", "/audit/", "/members/1/role/"} <= set(MEMBER_PATHS)
    for path in ALL_TENANT_PATHS:
        resolve(path, urlconf=TENANT_URLCONF)


@pytest.mark.parametrize("path", MEMBER_PATHS)
def test_a_member_of_a_gets_404_on_every_page_of_b(path, org_a, org_b, member_of, client_on):
    client = client_on(org_b, member_of(org_a, "owner"))

    assert client.get(path).status_code == 404
    assert client.post(path, {"role": "viewer", "email": "x@example.org"}).status_code == 404


@pytest.mark.parametrize("path", MEMBER_PATHS)
def test_anonymous_visitors_are_sent_to_log_in_on_every_page(path, org_a, client_on):
    response = client_on(org_a).get(path)

    if API_PATH_RE.match(path):
        # API clients get 401 (or 404 for a path that names no resource), never
        # a login redirect or data.
        assert response.status_code in (401, 404)
        return
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_member_reaches_their_own_pages(org_a, member_of, client_on):
    client = client_on(org_a, member_of(org_a, "owner"))

    for path in ("/", "/members/", "/audit/"):
        assert client.get(path).status_code == 200, path


def test_login_page_is_served_on_organization_hosts_to_anyone(org_a, client_on):
    assert client_on(org_a).get("/login/").status_code == 200


def test_data_written_in_one_schema_is_invisible_from_another(org_a, org_b):
    with schema_context(org_a.schema_name):
        AuditEvent.objects.create(code="isolation.marker", actor_label="a")
    with schema_context(org_b.schema_name):
        assert not AuditEvent.objects.filter(code="isolation.marker").exists()
    with schema_context(org_a.schema_name):
        assert AuditEvent.objects.filter(code="isolation.marker").count() == 1


def test_audit_page_of_b_does_not_show_events_of_a(org_a, org_b, member_of, client_on):
    with schema_context(org_a.schema_name):
        AuditEvent.objects.create(code="isolation.only_in_acme", actor_label="a")

    page_b = client_on(org_b, member_of(org_b, "admin")).get("/audit/")
    page_a = client_on(org_a, member_of(org_a, "admin")).get("/audit/")

    assert "isolation.only_in_acme" not in page_b.content.decode()
    assert "isolation.only_in_acme" in page_a.content.decode()


@pytest.mark.parametrize(
    "host", ["nope.publishmdm.localhost", "evil.example.com", "acme.publishmdm.localhost.evil.com"]
)
def test_unknown_hosts_get_404(host, org_a, client, make_user):
    # Anonymous visitors are sent to log in, as on every organization's host (they must
    # not learn which organizations exist); signed in, nobody is a member: 404.
    anonymous = client.get("/", HTTP_HOST=host)
    assert (anonymous.status_code, anonymous["Location"]) == (302, "/login/?next=%2F")
    client.force_login(make_user())
    assert client.get("/", HTTP_HOST=host).status_code == 404
    assert client.get("/api/v1/me/", HTTP_HOST=host).status_code == 404


def test_host_matching_ignores_case_port_and_trailing_dot(org_a, member_of, client):
    client.force_login(member_of(org_a, "viewer"))

    for host in (
        "ACME.publishmdm.localhost",
        "acme.publishmdm.localhost:8000",
        "acme.publishmdm.localhost.",
    ):
        assert client.get("/", HTTP_HOST=host).status_code == 200, host


def test_suspended_organization_answers_403_until_resumed(org_a, member_of, client_on):
    client = client_on(org_a, member_of(org_a, "owner"))

    organization_suspend(org_a, actor=None, reason="unpaid")
    response = client.get("/")
    assert response.status_code == 403
    assert "is suspended" in response.content.decode()
    assert client.get("/members/").status_code == 403

    organization_resume(org_a, actor=None)
    assert client.get("/").status_code == 200


def test_archived_organization_answers_404(org_a, member_of, client_on):
    client = client_on(org_a, member_of(org_a, "owner"))

    organization_archive(org_a, actor=None)

    assert client.get("/").status_code == 404
    assert client.get("/api/v1/me/").status_code == 404


def test_organization_not_yet_active_answers_503(
    new_organization, replace_provisioning_step, client, make_user
):
    organization = new_organization(provision=False)

    def crash(org, original):
        raise RuntimeError("storage unreachable")

    from control_plane.organizations.services.provisioning import organization_provision

    with replace_provisioning_step("storage", crash), pytest.raises(ProvisioningFailed):
        organization_provision(organization.pk)  # the domain exists, the storage does not

    assert client.get("/", HTTP_HOST=organization.primary_domain).status_code == 302  # log in
    creator = make_user()
    Organization.objects.filter(pk=organization.pk).update(created_by=creator)
    client.force_login(creator)
    response = client.get("/", HTTP_HOST=organization.primary_domain)
    assert response.status_code == 503
    assert response["Retry-After"]


def test_healthz_is_open_on_organization_hosts(org_a, client_on):
    response = client_on(org_a).get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
