"""Logging in, and moving between organizations on one session."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from tests.factories import PASSWORD


def test_login_ignores_the_case_of_the_email(make_user, client_on):
    user = make_user(email="Grace.Hopper@Example.org")
    client = client_on(None)

    response = client.post(
        "/login/", {"username": "GRACE.HOPPER@example.ORG", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/organizations/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_with_a_wrong_password_fails(make_user, client_on):
    make_user(email="grace@example.org")
    client = client_on(None)

    response = client.post("/login/", {"username": "grace@example.org", "password": "nope"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_login_does_not_redirect_to_foreign_hosts(make_user, client_on):
    make_user(email="grace@example.org")

    response = client_on(None).post(
        "/login/",
        {"username": "grace@example.org", "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/organizations/"


def test_login_redirects_to_an_organization_host(org_a, make_user, client_on):
    make_user(email="grace@example.org")
    target = "http://acme.publishmdm.localhost:8000/members/"

    response = client_on(None).post(
        "/login/", {"username": "grace@example.org", "password": PASSWORD, "next": target}
    )

    assert response["Location"] == target


def test_one_login_opens_every_organization_of_the_member(org_a, org_b, member_of):
    user = member_of(org_a, "viewer")
    from control_plane.accounts.models import Membership

    Membership.objects.create(user=user, organization=org_b, role="editor")
    client = Client()

    login = client.post(
        "/login/",
        {"username": user.email, "password": PASSWORD},
        HTTP_HOST=settings.BASE_DOMAIN,
    )
    assert login.status_code == 302

    # The browser must send the control plane's session cookie to the organizations' hosts.
    cookie = login.cookies[settings.SESSION_COOKIE_NAME]
    for organization in (org_a, org_b):
        host = organization.primary_domain
        assert cookie["domain"], "session cookie is host-only: every organization asks to log in"
        assert host == cookie["domain"].lstrip(".") or host.endswith(
            "." + cookie["domain"].lstrip(".")
        )

    page_a = client.get("/", HTTP_HOST=org_a.primary_domain)
    page_b = client.get("/", HTTP_HOST=org_b.primary_domain)
    assert page_a.status_code == page_b.status_code == 200
    assert "Globex Research" in page_a.content.decode()  # the switcher lists the other one
    assert "http://globex.publishmdm.localhost:8000/" in page_a.content.decode()


def test_logging_in_on_an_organization_host_returns_to_the_page(org_a, member_of, client_on):
    user = member_of(org_a, "editor")
    client = client_on(org_a)

    first = client.get("/audit/?code=x")
    login = client.post(
        "/login/", {"username": user.email, "password": PASSWORD, "next": "/audit/?code=x"}
    )

    assert first["Location"] == "/login/?next=%2Faudit%2F%3Fcode%3Dx"
    assert login["Location"] == "/audit/?code=x"
    assert client.get("/").status_code == 200


def test_logout(org_a, member_of, client_on):
    client = client_on(org_a, member_of(org_a, "editor"))

    response = client.post("/logout/")

    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_logging_in_on_an_organization_host_passes_csrf_checks(org_a, member_of):
    user = member_of(org_a, "viewer")
    client = Client(enforce_csrf_checks=True, HTTP_HOST=org_a.primary_domain)

    client.get("/login/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        "/login/",
        {"username": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="http://acme.publishmdm.localhost:8000",
    )

    assert response.status_code == 302
    assert client.get("/").status_code == 200
