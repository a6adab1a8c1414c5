"""Cross-organization isolation, for every route of the tenant router (discovered).

- A's token on B's host is refused (401), whatever the route and method;
- a member of A only, with a session, gets 404 on B's host (B's existence
  does not leak);
- an owner of B, on B's host, gets 404 for A's object ids;
- nobody gets anything without credentials (401 JSON, never a redirect).
"""

from __future__ import annotations

import pytest

from tests.api.helpers import api_client, error_of, issue_token
from tests.api.routes import api_routes, route_ids

ROUTES = api_routes()


def _calls(objects):
    for route in ROUTES:
        for method in route.methods:
            yield route, method, route.path(route_ids(route, objects))


def _send(client, method: str, path: str):
    return (
        getattr(client, method.lower())(path, {}, format="json")
        if method != "GET"
        else client.get(path)
    )


@pytest.mark.django_db
def test_a_token_is_refused_on_b_host(org_a, org_b, member_of, a_objects):
    owner_a = member_of(org_a, "owner")
    client = api_client(org_b, token=issue_token(org_a, owner_a, "owner"))
    for _route, method, path in _calls(a_objects):
        response = _send(client, method, path)
        assert response.status_code == 401, (method, path, response.content)
        assert error_of(response)["code"] == "invalid_token"


@pytest.mark.django_db
def test_a_member_session_gets_404_on_b_host(org_a, org_b, member_of, a_objects):
    client = api_client(org_b, user=member_of(org_a, "owner"))
    for _route, method, path in _calls(a_objects):
        response = _send(client, method, path)
        assert response.status_code == 404, (method, path, response.content)
        assert error_of(response)["code"] == "not_found"


@pytest.mark.django_db
def test_a_ids_are_404_on_b_host_for_b_owner(org_a, org_b, member_of, a_objects):
    client = api_client(org_b, token=issue_token(org_b, member_of(org_b, "owner"), "owner"))
    for route, method, path in _calls(a_objects):
        if not route.kwargs:
            continue
        response = _send(client, method, path)
        assert response.status_code == 404, (method, path, response.content)
        assert error_of(response)["code"] == "not_found"


@pytest.mark.django_db
def test_anonymous_gets_401_everywhere(org_a, a_objects):
    client = api_client(org_a)
    for _route, method, path in _calls(a_objects):
        response = _send(client, method, path)
        assert response.status_code == 401, (method, path, response.content)
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_b_lists_never_show_a_rows(org_a, org_b, member_of, a_objects):
    client = api_client(org_b, token=issue_token(org_b, member_of(org_b, "owner"), "owner"))
    for route in ROUTES:
        if route.kwargs or "GET" not in route.methods or not route.name.endswith("-list"):
            continue
        response = client.get(route.path({}))
        assert response.status_code == 200, (route.name, response.content)
        ids = {row["id"] for row in response.json()["results"]}
        assert a_objects.get(route.view_class) not in ids, route.name
