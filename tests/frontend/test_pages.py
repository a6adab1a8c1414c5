"""Every workspace page: who may open it, 404 across organizations, and the page's hygiene
(CSRF token in every form, no inline script, a Content-Security-Policy without unsafe-inline)."""

from __future__ import annotations

import re

import pytest

from control_plane.accounts.roles import role_at_least
from tests.frontend.conftest import ROLES

# (path template, least role that may open it)
PAGES = [
    ("/", "viewer"),
    ("/runs/", "viewer"),
    ("/runs/{run}/", "viewer"),
    ("/runs/{run}/live/", "viewer"),
    ("/servers/", "viewer"),
    ("/projects/", "viewer"),
    ("/variables/", "viewer"),
    ("/app-users/", "viewer"),
    ("/app-users/{app_user}/", "viewer"),
    ("/app-users/export/?format=csv", "viewer"),
    ("/templates/", "viewer"),
    ("/templates/{template}/", "viewer"),
    ("/templates/{template}/source/", "viewer"),
    ("/templates/{template}/versions/{version}/source/", "viewer"),
    ("/templates/{template}/variants/{variant}/xlsx/", "viewer"),
    ("/templates/{template}/variants/{variant}/xml/", "viewer"),
    ("/templates/{template}/diff/", "viewer"),
    ("/templates/{template}/diff/?from={version}&to={version}", "viewer"),
    ("/projects/new/", "editor"),
    ("/projects/import/", "editor"),
    ("/projects/import/choices/?server={server}", "editor"),
    ("/projects/{project}/edit/", "editor"),
    ("/variables/{variable}/edit/", "editor"),
    ("/app-users/new/", "editor"),
    ("/app-users/import/", "editor"),
    ("/app-users/{app_user}/qr/", "editor"),
    ("/templates/new/", "editor"),
    ("/templates/{template}/edit/", "editor"),
    ("/templates/{template}/publish/", "editor"),
    ("/servers/new/", "admin"),
    ("/servers/{server}/edit/", "admin"),
    ("/members/", "admin"),
    ("/tokens/", "admin"),
    ("/audit/", "admin"),
]

# (path template, least role) of actions; POSTed without confirmation they change nothing.
ACTIONS = [
    ("/servers/{server}/delete/", "admin"),
    ("/variables/{variable}/delete/", "editor"),
    ("/app-users/{app_user}/delete/", "editor"),
    ("/app-users/{app_user}/qr/regenerate/", "editor"),
    ("/app-users/qr/regenerate/", "editor"),
    ("/templates/{template}/delete/", "editor"),
    ("/templates/{template}/attachments/", "editor"),
    ("/templates/{template}/versions/{version}/rollback/", "editor"),
    ("/templates/{template}/restore/", "admin"),
    ("/runs/{run}/retry/", "editor"),
    ("/app-users/import/confirm/", "editor"),
]


def fill(path: str, ws) -> str:
    return path.format(
        run=ws.run.pk,
        app_user=ws.app_users[0].pk,
        template=ws.template.pk,
        version=ws.version.pk,
        variant=ws.variant.pk,
        server=ws.server.pk,
        project=ws.project.pk,
        variable=ws.variable.pk,
    )


@pytest.fixture(autouse=True)
def _no_central(monkeypatch):
    """The import picker asks Central for its projects; these tests only check access."""
    monkeypatch.setattr(
        "frontend.views.projects.central_projects",
        lambda server: [{"id": 1, "name": "Remote", "imported": False}],
    )


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_the_pages_it_may(role, workspace, as_role):
    client = as_role(role)
    for template, minimum in PAGES:
        path = fill(template, workspace)
        expected = 200 if role_at_least(role, minimum) else 403
        assert client.get(path).status_code == expected, (role, path)


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_actions_above_a_role_are_refused(role, workspace, as_role):
    client = as_role(role)
    for template, minimum in ACTIONS:
        if role_at_least(role, minimum):
            continue
        path = fill(template, workspace)
        assert client.post(path, {"confirm": "yes"}).status_code == 403, path


def test_another_organizations_objects_are_404(workspace, org_b, member_of, client_on):
    client = client_on(org_b, member_of(org_b, "owner"))
    for template, _ in PAGES + ACTIONS:
        if "{" not in template:
            continue
        path = fill(template, workspace)
        assert client.get(path).status_code in (404, 405), path  # 405: POST-only actions
        assert client.post(path, {"confirm": "yes"}).status_code == 404, path


def test_outsiders_get_404_and_anonymous_visitors_log_in(workspace, org_a, make_user, client_on):
    outsider, anonymous = client_on(org_a, make_user()), client_on(org_a)
    for template, _ in PAGES:
        path = fill(template, workspace)
        assert outsider.get(path).status_code == 404, path
        assert anonymous.get(path).status_code == 302, path


_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


@pytest.mark.parametrize("role", ["owner"])
def test_every_page_has_csrf_tokens_no_inline_scripts_and_a_strict_csp(role, workspace, as_role):
    client = as_role(role)
    for template, _ in PAGES:
        path = fill(template, workspace)
        response = client.get(path)
        if not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        for form in _FORM.findall(html):
            if re.search(r'method="post"', form, re.I):
                assert "csrfmiddlewaretoken" in form, (path, form[:120])
        for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S):
            assert not script.strip(), (path, "inline script")
        assert not re.search(r"\son[a-z]+=\"", html), (path, "inline event handler")
        assert not re.search(r'\sstyle="', html), (path, "inline style")
        if "<html" in html:
            policy = response["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
            assert "unsafe-eval" not in policy


def test_session_and_csrf_cookies_are_samesite(settings):
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.CSRF_COOKIE_SAMESITE == "Lax"
    assert settings.SESSION_COOKIE_HTTPONLY


def test_forms_post_without_a_csrf_token_are_refused(workspace, org_a, member_of):
    from django.test import Client

    client = Client(HTTP_HOST=org_a.primary_domain, enforce_csrf_checks=True)
    client.force_login(member_of(org_a, "owner"))

    assert client.post("/variables/", {"name": "site"}).status_code == 403


def test_404_pages_do_not_name_the_organization(org_a, make_user, client_on):
    response = client_on(org_a, make_user()).get("/templates/")

    assert response.status_code == 404
    assert org_a.name not in response.content.decode()
