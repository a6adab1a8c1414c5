"""Central servers page: validation errors next to fields, masked username, no password."""

from __future__ import annotations

from django.db import connection

from tenants.publishing.models import CentralServer
from tests.frontend.conftest import CENTRAL_EMAIL, CENTRAL_PASSWORD


def _form(central, **changes):
    return {
        "name": "Main Central",
        "base_url": central.base_url,
        "username": CENTRAL_EMAIL,
        "password": CENTRAL_PASSWORD,
        **changes,
    }


def test_adding_a_server_checks_the_login_and_never_shows_the_password(org_a, as_role, central):
    client = as_role("admin")

    response = client.post("/servers/new/", _form(central))

    assert response.status_code == 302
    assert response["Location"].startswith("/projects/new/?server=")
    page = client.get("/servers/").content.decode()
    assert "p***@example.org" in page and CENTRAL_EMAIL not in page
    assert CENTRAL_PASSWORD not in page
    connection.set_tenant(org_a)
    server = CentralServer.objects.get()
    connection.set_schema_to_public()
    edit = client.get(f"/servers/{server.pk}/edit/").content.decode()
    assert CENTRAL_PASSWORD not in edit and 'value="Main Central"' in edit


def test_a_refused_login_is_shown_next_to_the_password(org_a, as_role, central):
    response = as_role("admin").post("/servers/new/", _form(central, password="wrong"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_password-error">Central refused this username and password.' in html
    assert 'aria-invalid="true"' in html
    connection.set_tenant(org_a)
    assert not CentralServer.objects.exists()


def test_unsafe_or_malformed_addresses_are_refused_before_any_request(
    org_a, as_role, central, settings
):
    settings.CENTRAL_ALLOW_HTTP = False
    client = as_role("admin")

    http = client.post("/servers/new/", _form(central, base_url="http://example.org"))
    internal = client.post("/servers/new/", _form(central, base_url="https://10.0.0.5"))
    missing = client.post("/servers/new/", _form(central, name="", password=""))

    assert 'id="id_base_url-error">The server must use https.' in http.content.decode()
    assert 'id="id_base_url-error"' in internal.content.decode()
    html = missing.content.decode()
    assert 'id="id_name-error"' in html
    assert not [r for r in central.requests if r.path.endswith("/sessions")]


def test_editing_keeps_the_password_when_left_empty(org_a, as_role, central):
    client = as_role("admin")
    client.post("/servers/new/", _form(central))
    connection.set_tenant(org_a)
    server = CentralServer.objects.get()
    connection.set_schema_to_public()

    response = client.post(
        f"/servers/{server.pk}/edit/", _form(central, name="Renamed", password="")
    )

    assert response.status_code == 302
    connection.set_tenant(org_a)
    assert CentralServer.objects.get().name == "Renamed"


def test_removing_a_server_asks_first(workspace, org_a, as_role):
    client = as_role("admin")
    # A server with projects cannot go; a fresh one can.
    connection.set_tenant(org_a)
    spare = CentralServer.objects.create(name="Spare", base_url="https://spare.invalid")
    connection.set_schema_to_public()

    asked = client.post(f"/servers/{spare.pk}/delete/")
    refused = client.post(
        f"/servers/{workspace.server.pk}/delete/", {"confirm": "yes"}, follow=True
    )
    done = client.post(f"/servers/{spare.pk}/delete/", {"confirm": "yes"})

    assert asked.status_code == 200 and "Remove the server “Spare”?" in asked.content.decode()
    assert "Remove this server&#x27;s projects first." in refused.content.decode()
    assert done.status_code == 302
    connection.set_tenant(org_a)
    assert list(CentralServer.objects.values_list("name", flat=True)) == ["Main Central"]
