"""Finding 9: no open redirects, and no links built from the request's Host header.

The attacks: ``/login/?next=`` followed any host in the Domain table (a
custom domain is a name an organization brought, pointing wherever it likes)
and any port on our hosts; password-reset emails carried a link built from
the ``Host`` header, so a forged header sent the victim's reset token to
another server. Now only paths, or our own hosts with the configured scheme
and port, are followed, and emails use ``PUBLIC_SCHEME``/``BASE_DOMAIN``/
``PUBLIC_PORT``.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from control_plane.organizations.models import Domain

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def person(make_user):
    return make_user(email="person@example.org", password=PASSWORD)


def _after_login(next_url: str, host: str | None = None) -> str:
    client = Client(HTTP_HOST=host or settings.BASE_DOMAIN)
    response = client.post(
        "/login/", {"username": "person@example.org", "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302
    return response["Location"]


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example.org/",
        "http://evil.example.org:8000/",
        "//evil.example.org/",
        "/\\evil.example.org/",
        "http:evil.example.org",
        "javascript:alert(1)",
        "http://publishmdm.localhost:6666/organizations/",  # our host, another port
        "http://acme.publishmdm.localhost:9999/",  # an organization's host, another port
        "http://acme.publishmdm.localhost/",  # ... the default port, not the configured one
        "https://acme.publishmdm.localhost:8000/",  # ... another scheme
        "http://user:pw@acme.publishmdm.localhost:8000/",
        "http://a.b.publishmdm.localhost:8000/",  # not an organization's name
        "http://publishmdm.localhost.evil.example.org:8000/",
    ],
)
def test_foreign_or_odd_next_urls_are_not_followed(person, org_a, next_url, settings):
    settings.PUBLIC_SCHEME, settings.PUBLIC_PORT = "http", 8000
    assert _after_login(next_url) == "/organizations/"


def test_a_custom_domain_is_not_followed(person, org_a, settings):
    """An organization's custom domain may point anywhere; it is not ours to vouch for."""
    settings.PUBLIC_SCHEME, settings.PUBLIC_PORT = "http", 8000
    Domain.objects.create(domain="forms.attacker.example", tenant=org_a, is_primary=False)
    assert _after_login("http://forms.attacker.example:8000/") == "/organizations/"
    assert _after_login("http://forms.attacker.example/") == "/organizations/"


@pytest.mark.parametrize(
    "next_url",
    [
        "/templates/?project=3",
        "http://publishmdm.localhost:8000/organizations/",
        "http://acme.publishmdm.localhost:8000/templates/",
        "http://no-such-org.publishmdm.localhost:8000/",  # existence plays no part
    ],
)
def test_paths_and_our_own_hosts_are_followed(person, org_a, next_url, settings):
    settings.PUBLIC_SCHEME, settings.PUBLIC_PORT = "http", 8000
    assert _after_login(next_url) == next_url


def test_google_return_to_uses_the_configured_port(org_a, settings):
    """The Google button on an organization's login page returns there on our port."""
    from frontend.navigation import safe_next_url
    from frontend.views.auth import google_return_to

    settings.PUBLIC_SCHEME, settings.PUBLIC_PORT = "http", 8000
    request = Client().get("/", HTTP_HOST=f"{org_a.primary_domain}:6666").wsgi_request
    return_to = google_return_to(request, "/templates/")
    assert return_to == f"http://{org_a.primary_domain}:8000/templates/"
    assert safe_next_url(request, return_to, "/organizations/") == return_to


@pytest.mark.parametrize(
    "host", ["publishmdm.localhost:6666", "publishmdm.localhost"], ids=["other-port", "no-port"]
)
def test_password_reset_links_ignore_the_request_host(person, host, settings):
    settings.PUBLIC_SCHEME, settings.PUBLIC_PORT = "https", 8443
    response = Client(HTTP_HOST=host).post(
        "/password-reset/", {"email": person.email}, secure=False
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    links = re.findall(r"\S+://\S+", message.body)
    assert links and all(
        link.startswith(f"https://{settings.BASE_DOMAIN}:8443/reset/") for link in links
    ), links


def test_the_pages_own_origin_is_followed(rf):
    """A Referer on a custom domain's page may send people back to that page."""
    from frontend.navigation import safe_next_url

    request = rf.get("/", HTTP_HOST="forms.customer.example")
    own = "http://forms.customer.example/templates/"
    assert safe_next_url(request, own, "/") == own
    assert safe_next_url(request, "http://forms.customer.example:81/", "/") == "/"
    assert safe_next_url(request, "https://forms.customer.example/", "/") == "/"
