"""Finding 4: changing a Central server's address must not send the stored password there.

The attack: an admin (or an admin token) edits a server, points ``base_url``
at a server they control and leaves the password blank; the login probe used
to sign in to the new address with the stored, write-only password. Every
surface (service, web form, API) now asks for the password again, and the new
server hears nothing.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.api.helpers import api_client, error_of, issue_token
from tests.fakes import central as central_fake
from tests.fakes.central import FakeCentral
from tests.publishing import fixtures as publishing_fixtures
from tests.publishing.fixtures import CENTRAL_EMAIL

fake_central = central_fake.fake_central
central = publishing_fixtures.central
in_org_a = publishing_fixtures.in_org_a
central_server = publishing_fixtures.central_server


@pytest.fixture
def attacker(settings):
    """A second 'Central' that records every request (the attacker's server)."""
    fake = FakeCentral().start()
    fake.add_account(CENTRAL_EMAIL, "the-attackers-own-password")
    settings.CENTRAL_ALLOWED_INTERNAL_HOSTS = [
        *settings.CENTRAL_ALLOWED_INTERNAL_HOSTS,
        fake.base_url.split("://", 1)[1],
    ]
    try:
        yield fake
    finally:
        fake.stop()


def _stored_url(org, server) -> str:
    connection.set_tenant(org)
    try:
        server.refresh_from_db()
        return server.base_url
    finally:
        connection.set_schema_to_public()


def test_service_asks_for_the_password_when_the_address_changes(central_server, attacker):
    from tenants.publishing.services.servers import central_server_save

    with pytest.raises(ValidationError) as caught:
        central_server_save(
            actor=None,
            server=central_server,
            name=central_server.name,
            base_url=attacker.base_url,
            username=CENTRAL_EMAIL,
            password="",
        )
    assert "password" in caught.value.message_dict
    assert attacker.requests == []


def test_service_accepts_a_new_address_with_its_password(central_server, attacker):
    from tenants.publishing.services.servers import central_server_save

    attacker.add_account("owner@example.org", "typed-again-password")
    saved = central_server_save(
        actor=None,
        server=central_server,
        name="Moved",
        base_url=attacker.base_url,
        username="owner@example.org",
        password="typed-again-password",
    )
    assert saved.base_url == attacker.base_url
    # The login probe (and its logout) ran as the newly typed account only.
    assert attacker.requests
    assert {r.account for r in attacker.requests} == {"owner@example.org"}


def test_service_keeps_the_stored_password_when_the_address_is_unchanged(central_server, central):
    from tenants.publishing.services.servers import central_server_save

    saved = central_server_save(
        actor=None,
        server=central_server,
        name="Renamed",
        base_url=central.base_url + "/",  # the same address, written differently
        username=CENTRAL_EMAIL,
        password="",
    )
    assert saved.name == "Renamed"


def test_web_form_asks_for_the_password_when_the_address_changes(
    org_a, central_server, attacker, member_of, client_on
):
    client = client_on(org_a, member_of(org_a, "admin"))
    response = client.post(
        f"/servers/{central_server.pk}/edit/",
        {
            "name": "Main Central",
            "base_url": attacker.base_url,
            "username": CENTRAL_EMAIL,
            "password": "",
        },
    )
    assert response.status_code == 200
    assert 'id="id_password-error"' in response.content.decode()
    assert attacker.requests == []
    assert _stored_url(org_a, central_server) != attacker.base_url


def test_api_asks_for_the_password_when_the_address_changes(
    org_a, central_server, attacker, member_of
):
    admin = member_of(org_a, "admin")
    client = api_client(org_a, token=issue_token(org_a, admin, "admin"))
    response = client.patch(
        f"/api/v1/servers/{central_server.pk}/", {"base_url": attacker.base_url}, format="json"
    )
    assert response.status_code == 400
    assert "password" in error_of(response)["fields"]
    assert attacker.requests == []
    assert _stored_url(org_a, central_server) != attacker.base_url
