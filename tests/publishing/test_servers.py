"""Central servers: SSRF refusals before any request, login probe, credentials only in the store."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tenants.publishing.models import CentralServer
from tenants.publishing.network import UnsafeURL, check_server_url
from tenants.publishing.services.servers import CentralServerInvalid, central_server_save
from tests.publishing.fixtures import CENTRAL_EMAIL, CENTRAL_PASSWORD


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://localhost:8443",
        "https://10.1.2.3",
        "https://192.168.0.10",
        "https://172.16.5.4",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]:443",
        "https://[::ffff:10.0.0.1]",
        "https://0.0.0.0",
        "https://100.64.0.7",
    ],
)
def test_internal_addresses_are_refused_before_any_request(url, in_org_a, fake_central):
    with pytest.raises(UnsafeURL):
        central_server_save(actor=None, name="x", base_url=url, username="a@b.org", password="pw")
    assert fake_central.requests == []
    assert CentralServer.objects.count() == 0


def test_http_is_refused_outside_debug(settings, in_org_a):
    settings.DEBUG = False
    settings.CENTRAL_ALLOW_HTTP = False
    with pytest.raises(UnsafeURL, match="https"):
        check_server_url("http://central.example.org")


def test_credentials_in_the_url_are_refused():
    with pytest.raises(UnsafeURL):
        check_server_url("https://user:pw@central.example.org")


def test_bad_login_is_refused_and_nothing_saved(central, in_org_a):
    with pytest.raises(CentralServerInvalid) as caught:
        central_server_save(
            actor=None,
            name="x",
            base_url=central.base_url,
            username=CENTRAL_EMAIL,
            password="wrong-password",
        )
    assert caught.value.code == "central_login_refused"
    assert CentralServer.objects.count() == 0


def test_saved_server_keeps_credentials_out_of_tables_and_logs(central, in_org_a, caplog):
    caplog.set_level(logging.DEBUG)
    server = central_server_save(
        actor=None,
        name="Main",
        base_url=central.base_url + "/",
        username=CENTRAL_EMAIL,
        password=CENTRAL_PASSWORD,
    )
    assert server.base_url == central.base_url
    assert server.username_hint == "p***@example.org"
    assert CENTRAL_PASSWORD not in repr(server) and CENTRAL_EMAIL not in repr(server)
    with connection.cursor() as cursor:
        cursor.execute("SELECT string_agg(t::text, ' ') FROM publishing_centralserver t")
        dump = cursor.fetchone()[0]
        cursor.execute("SELECT string_agg(t::text, ' ') FROM secretstore_secretrecord t")
        secrets_dump = cursor.fetchone()[0] or ""
    assert CENTRAL_PASSWORD not in dump and CENTRAL_EMAIL not in dump
    assert CENTRAL_PASSWORD not in secrets_dump
    assert CENTRAL_PASSWORD not in caplog.text


def test_blank_password_on_edit_keeps_the_stored_one(central_server, central):
    server = central_server_save(
        actor=None,
        server=central_server,
        name="Renamed",
        base_url=central.base_url,
        username=CENTRAL_EMAIL,
        password="",
    )
    assert server.name == "Renamed"
    logins = [r for r in central.requests if r.method == "POST" and r.path == "/v1/sessions"]
    assert len(logins) >= 2  # the edit probed the login with the stored password


def test_missing_fields_are_field_errors(in_org_a):
    with pytest.raises(ValidationError) as caught:
        central_server_save(
            actor=None, name="", base_url="https://x.org", username="a", password="b"
        )
    assert "name" in caught.value.message_dict
