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
        "nobody.publishmdm.localhost:8000",  # an unknown organization stays a 404
        "nowhere.example.com",
        "10.0.0.8:8000",
        "testserver",
    ],
)
def test_other_unknown_hosts_stay_404(db, host):
    assert Client(HTTP_HOST=host).get("/").status_code == 404


def test_production_never_redirects_local_names(db, settings):
    settings.IS_PRODUCTION = True

    assert Client(HTTP_HOST="localhost:8000").get("/").status_code == 404


def test_health_checks_still_answer_on_loopback(db):
    assert Client(HTTP_HOST="127.0.0.1:8000").get("/healthz").status_code == 200


@pytest.mark.parametrize("host", ["nobody.publishmdm.localhost:8000", "publishmdm.localhost:8000"])
def test_the_404_page_links_to_the_control_planes_start_page(db, settings, host):
    path = "/no/such/page/"
    response = Client(HTTP_HOST=host).get(path)

    assert response.status_code == 404
    html = response.content.decode()
    link = re.search(r'<a class="btn" href="([^"]+)">Go to the start page</a>', html)
    assert link is not None, html
    assert link.group(1) == f"http://{settings.BASE_DOMAIN}:8000/"
