"""Role matrix: every role against every method of every route (routes discovered).

The table below is the specification: the minimum role per route and
method. Safe methods not in it need ``viewer``; every unsafe method must be
in it, so a new write endpoint cannot ship without a decision here. A role
below the minimum gets 403 ``permission_denied``; one at or above it gets
past the permission check (to a 400, 409, 412 or success). Writes are sent
with a stale ``If-Match`` where honoured, so allowed calls change nothing.
"""

from __future__ import annotations

import pytest

from control_plane.accounts.roles import role_at_least
from tests.api.conftest import ROLES
from tests.api.helpers import api_client, error_of, issue_token
from tests.api.routes import SAFE, api_routes, route_ids

MINIMUM_ROLE = {
    ("member-detail", "PUT"): "admin",
    ("member-detail", "PATCH"): "admin",
    ("member-detail", "DELETE"): "admin",  # removing someone else; anyone may leave
    ("invitation-list", "GET"): "admin",
    ("invitation-list", "POST"): "admin",
    ("invitation-detail", "GET"): "admin",
    ("invitation-detail", "DELETE"): "admin",
    ("invitation-resend", "POST"): "admin",
    ("token-list", "GET"): "admin",
    ("token-list", "POST"): "admin",
    ("token-detail", "GET"): "admin",
    ("token-detail", "DELETE"): "admin",
    ("server-list", "POST"): "admin",
    ("server-detail", "PUT"): "admin",
    ("server-detail", "PATCH"): "admin",
    ("server-detail", "DELETE"): "admin",
    ("server-central-projects", "GET"): "editor",
    ("project-list", "POST"): "editor",
    ("project-detail", "PUT"): "editor",
    ("project-detail", "PATCH"): "editor",
    ("project-import-from-central", "POST"): "editor",
    ("variable-list", "POST"): "editor",
    ("variable-detail", "PUT"): "editor",
    ("variable-detail", "PATCH"): "editor",
    ("variable-detail", "DELETE"): "editor",
    ("app-user-list", "POST"): "editor",
    ("app-user-detail", "PUT"): "editor",
    ("app-user-detail", "PATCH"): "editor",
    ("app-user-detail", "DELETE"): "editor",
    ("app-user-collect-settings", "GET"): "editor",
    ("app-user-qr-code", "GET"): "editor",
    ("app-user-import-apply", "POST"): "editor",
    ("app-user-import-preview", "POST"): "editor",
    ("template-list", "POST"): "editor",
    ("template-detail", "PUT"): "editor",
    ("template-detail", "PATCH"): "editor",
    ("template-detail", "DELETE"): "editor",
    ("template-source", "PUT"): "editor",
    ("template-restore", "POST"): "admin",
    ("template-version-rollback", "POST"): "editor",
    ("publish-run-list", "POST"): "editor",
    ("publish-run-retry", "POST"): "editor",
    ("audit-event-list", "GET"): "admin",
    ("audit-event-detail", "GET"): "admin",
}

ROUTES = api_routes()
CALLS = [(route, method) for route in ROUTES for method in route.methods]


def test_every_write_has_a_decided_role():
    undecided = [
        (route.name, method)
        for route, method in CALLS
        if method not in SAFE and (route.name, method) not in MINIMUM_ROLE
    ]
    assert not undecided, f"add these to MINIMUM_ROLE: {undecided}"
    known = {(route.name, method) for route, method in CALLS}
    assert not set(MINIMUM_ROLE) - known, "MINIMUM_ROLE names routes that no longer exist"


def _send(client, method: str, path: str):
    headers = {"HTTP_IF_MATCH": '"stale"'} if method in ("PUT", "PATCH", "DELETE") else {}
    if method == "GET":
        return client.get(path)
    return getattr(client, method.lower())(path, {}, format="json", **headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.django_db
def test_role_matrix(role, org_a, member_of, a_objects):
    client = api_client(org_a, token=issue_token(org_a, member_of(org_a, role), role))
    failures = []
    for route, method in CALLS:
        minimum = MINIMUM_ROLE.get((route.name, method), "viewer")
        path = route.path(route_ids(route, a_objects))
        response = _send(client, method, path)
        denied = response.status_code == 403 and error_of(response)["code"] == "permission_denied"
        if denied == role_at_least(role, minimum):
            failures.append((method, path, minimum, response.status_code, response.content[:200]))
        assert response.status_code < 500, (method, path, response.content)
    assert not failures, failures


@pytest.mark.django_db
def test_session_roles_match_token_roles(org_a, member_of, a_objects):
    """The same rules hold for a browser session (sampled on a few write routes)."""
    for role in ROLES:
        client = api_client(org_a, user=member_of(org_a, role))
        response = client.post("/api/v1/servers/", {}, format="json")
        assert (response.status_code == 403) != role_at_least(role, "admin"), role
        response = client.post("/api/v1/variables/", {}, format="json")
        assert (response.status_code == 403) != role_at_least(role, "editor"), role


@pytest.mark.django_db
def test_removing_another_member_needs_admin_but_anyone_may_leave(org_a, member_of):
    from control_plane.accounts.models import Membership

    for role in ROLES:
        user = member_of(org_a, role)
        client = api_client(org_a, token=issue_token(org_a, user, role))
        other = Membership.objects.get(user=member_of(org_a, "editor"), organization=org_a)
        response = client.delete(f"/api/v1/members/{other.pk}/")
        assert (response.status_code == 204) == role_at_least(role, "admin"), role
        if response.status_code != 204:
            assert error_of(response)["code"] == "permission_denied"
        mine = Membership.objects.get(user=user, organization=org_a)
        # Leaving is done in one's own session (a token needs the role removing others needs).
        response = api_client(org_a, user=user).delete(f"/api/v1/members/{mine.pk}/")
        if (
            role == "owner"
            and Membership.objects.filter(organization=org_a, role="owner").count() == 1
        ):
            assert response.status_code == 409  # the last owner cannot leave
        else:
            assert response.status_code == 204, role


@pytest.mark.django_db
def test_a_token_never_exceeds_its_creator(org_a, member_of):
    """A token keeps working after its creator is demoted, but only with the creator's role."""
    from control_plane.accounts.models import Membership

    user = member_of(org_a, "admin")
    client = api_client(org_a, token=issue_token(org_a, user, "admin"))
    assert client.get("/api/v1/tokens/").status_code == 200
    Membership.objects.filter(user=user, organization=org_a).update(role="viewer")
    assert client.get("/api/v1/me/").json()["role"] == "viewer"
    assert client.get("/api/v1/tokens/").status_code == 403
