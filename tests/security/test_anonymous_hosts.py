"""Finding 8: anonymous visitors cannot tell which organizations exist.

The attack: ask ``<guess>.BASE_DOMAIN`` for a page. An existing organization
answered 302-to-login, an unknown one 404, and a suspended one a 403 page
with its name. Now every host with no organization the visitor belongs to
answers the same way, whatever is behind it (active, unknown, archived,
suspended, being set up): anonymous → the same login redirect and page, API
without credentials → the same 401, signed-in non-members → the same 404.
Members still learn that their organization is suspended or being set up.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from control_plane.accounts.models import Membership
from control_plane.organizations.models import Organization
from tests.realtime import conftest as realtime

# Socket fixtures (module-local aliases of the realtime suite's own).
ws = realtime.ws
use_layer = realtime.use_layer
layer_kind = realtime.layer_kind
channel_prefix = realtime.channel_prefix

STATES = ["unknown", "archived", "suspended", "provisioning"]
PATHS = ["/", "/templates/", "/members/", "/api/docs/", "/no/such/page/", "/realtime/ticket/"]


@pytest.fixture
def hosts(org_a, org_b):
    """``hosts(state)`` → (active host, other host): the other is org B in ``state``."""

    def make(state: str) -> tuple[str, str]:
        if state == "unknown":
            return org_a.primary_domain, f"nobody-here.{settings.BASE_DOMAIN}"
        Organization.objects.filter(pk=org_b.pk).update(status=state)
        return org_a.primary_domain, org_b.primary_domain

    return make


def _normalise(response, host: str) -> tuple:
    body = response.content.decode()
    body = body.replace(host, "HOST")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", body)
    body = re.sub(r'name="csrf-token" content="[^"]+"', "CSRF", body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", body)
    body = re.sub(r'nonce="[^"]+"', "NONCE", body)
    headers = {
        name: response.headers[name].replace(host, "HOST")
        for name in ("Location", "Content-Type", "WWW-Authenticate", "Retry-After")
        if name in response.headers
    }
    return response.status_code, headers, body


def _same(get, active: str, other: str) -> None:
    assert _normalise(get(active), active) == _normalise(get(other), other)


@pytest.mark.parametrize("state", STATES)
def test_anonymous_pages_answer_alike(hosts, state):
    active, other = hosts(state)
    for path in PATHS:
        _same(lambda host, path=path: Client(HTTP_HOST=host).get(path), active, other)
        response = Client(HTTP_HOST=other).get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("state", STATES)
def test_the_login_page_is_the_same_everywhere(hosts, state):
    active, other = hosts(state)
    for path in ("/login/", "/login/?next=/templates/"):
        _same(lambda host, path=path: Client(HTTP_HOST=host).get(path), active, other)
    _same(
        lambda host: Client(HTTP_HOST=host).post(
            "/login/", {"username": "who@example.org", "password": "nope"}
        ),
        active,
        other,
    )


@pytest.mark.parametrize("state", STATES)
def test_the_api_answers_401_alike_without_valid_credentials(hosts, state):
    active, other = hosts(state)
    bogus = {"HTTP_AUTHORIZATION": "Bearer pmdm_0123abcd_not-a-real-token"}
    for path in ("/api/v1/app-users/", "/api/v1/me/", "/api/schema/"):
        for extra in ({}, bogus):
            _same(
                lambda host, path=path, extra=extra: Client(HTTP_HOST=host).get(path, **extra),
                active,
                other,
            )
            assert Client(HTTP_HOST=other).get(path, **extra).status_code == 401


@pytest.mark.parametrize("state", STATES)
def test_signed_in_non_members_get_the_same_404(hosts, state, make_user):
    active, other = hosts(state)
    stranger = make_user()

    def get(host: str, path: str):
        client = Client(HTTP_HOST=host)
        client.force_login(stranger)
        return client.get(path)

    for path in ("/", "/api/v1/app-users/", "/login/"):
        _same(lambda host, path=path: get(host, path), active, other)
    assert get(other, "/").status_code == 404


def test_a_suspended_page_names_the_organization_to_members_only(org_b, member_of, make_user):
    member = member_of(org_b, "viewer")
    Organization.objects.filter(pk=org_b.pk).update(status="suspended")
    host = org_b.primary_domain

    anonymous = Client(HTTP_HOST=host).get("/")
    assert anonymous.status_code == 302 and org_b.name not in anonymous.content.decode()
    stranger = Client(HTTP_HOST=host)
    stranger.force_login(make_user())
    refused = stranger.get("/")
    assert refused.status_code == 404 and org_b.name not in refused.content.decode()

    as_member = Client(HTTP_HOST=host)
    as_member.force_login(member)
    page = as_member.get("/")
    assert page.status_code == 403 and f"{org_b.name} is suspended" in page.content.decode()
    api = as_member.get("/api/v1/app-users/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "organization_suspended"


def test_an_organization_being_set_up_is_shown_to_its_creator_only(org_b, make_user):
    creator = make_user()
    Organization.objects.filter(pk=org_b.pk).update(status="provisioning", created_by=creator)
    Membership.objects.filter(organization=org_b).delete()
    client = Client(HTTP_HOST=org_b.primary_domain)
    client.force_login(creator)
    page = client.get("/")
    assert page.status_code == 503 and "is being set up" in page.content.decode()


def test_members_still_see_their_workspace(org_a, member_of):
    client = Client(HTTP_HOST=org_a.primary_domain)
    client.force_login(member_of(org_a, "viewer"))
    assert client.get("/").status_code == 200


def _close_code(ws, host: str, **credentials) -> int | str:
    async def scenario(sockets):
        communicator = await sockets.open(host, expect_hello=False, **credentials)
        message = await communicator.receive_output(timeout=5)
        return message["code"] if message["type"] == "websocket.close" else "open"

    return ws(scenario)


@pytest.mark.parametrize("state", STATES)
def test_anonymous_sockets_are_refused_alike(ws, hosts, state):
    active, other = hosts(state)
    for origin in (None, "https://evil.example.com"):
        codes = []
        for host in (active, other):
            own = {"origin": f"http://{host}:8000"} if origin is None else {"origin": origin}
            codes.append(_close_code(ws, host, **own))
        assert codes[0] == codes[1], origin
    assert _close_code(ws, other) == 4401
