"""Development: this machine's other names lead to the start page, and 404 pages link there."""

from __future__ import annotations

import re

import pytest
from django.test import Client


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("localhost:8000", "/"),
        ("127.0.0.1:8000", "/"),
        ("127.0.0.1:8000", "/login/?next=/organizations/"),
        ("[::1]:8000", "/signup/"),
        ("0.0.0.0:8000", "/"),  # noqa: S104 - a Host header, not a bind address
        ("acme.localhost:8000", "/"),
        ("LOCALHOST", "/"),
    ],
)
def test_loopback_and_local_names_redirect_to_the_base_domain(db, settings, host, path):
    response = Client(HTTP_HOST=host).get(path)

    assert response.status_code == 302
    assert response["Location"] == f"http://{settings.BASE_DOMAIN}:8000{path}"
    # ... where the start page answers.
    assert Client(HTTP_HOST=settings.BASE_DOMAIN).get("/").status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "nobody.publishmdm.localhost:8000",  # an unknown organization
        "nowhere.example.com",
        "10.0.0.8:8000",
        "testserver",
    ],
)
def test_other_unknown_hosts_are_not_sent_to_the_base_domain(db, django_user_model, host):
    # Anonymous visitors get the login redirect every organization host gives them
    # (so existence does not leak); a signed-in person gets 404.
    anonymous = Client(HTTP_HOST=host).get("/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")

    signed_in = Client(HTTP_HOST=host)
    signed_in.force_login(django_user_model.objects.create_user(email="x@example.org"))
    assert signed_in.get("/").status_code == 404


def test_production_never_redirects_local_names(db, settings):
    settings.IS_PRODUCTION = True

    response = Client(HTTP_HOST="localhost:8000").get("/")
    assert not response.get("Location", "").startswith("http://")


def test_health_checks_still_answer_on_loopback(db):
    assert Client(HTTP_HOST="127.0.0.1:8000").get("/healthz").status_code == 200


@pytest.mark.parametrize("host", ["nobody.publishmdm.localhost:8000", "publishmdm.localhost:8000"])
def test_the_404_page_links_to_the_control_planes_start_page(db, settings, django_user_model, host):
    path = "/no/such/page/"
    client = Client(HTTP_HOST=host)
    client.force_login(django_user_model.objects.create_user(email="x@example.org"))
    response = client.get(path)

    assert response.status_code == 404
    html = response.content.decode()
    link = re.search(r'<a class="btn" href="([^"]+)">Go to the start page</a>', html)
    assert link is not None, html
    assert link.group(1) == f"http://{settings.BASE_DOMAIN}:8000/"
