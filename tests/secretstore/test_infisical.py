"""The Infisical backend against the fake: round trip, batching, cache, failures."""

from __future__ import annotations

import socket

import pytest
from django_tenants.utils import schema_context

from tenants.secretstore.errors import (
    SecretNotFound,
    SecretStorePermissionDenied,
    SecretStoreUnavailable,
)
from tenants.secretstore.services.secrets import secret_delete, secret_put
from tenants.secretstore.store import secret_store

LIST = r"^/api/v3/secrets/raw$"
ONE = r"^/api/v3/secrets/raw/."


def test_round_trip(org_a, on_infisical, infisical, planted):
    org_a = on_infisical(org_a)
    project = org_a.infisical_project_id
    password, blob = planted("central"), planted.binary()
    with schema_context(org_a.schema_name):
        assert secret_put("central-server/12/password", password, actor=None) is True
        assert secret_put("stripe/customer/cus_N1x/secret", blob, actor=None) is True
        store = secret_store()
        assert store.backend.kind == "infisical"
        assert store.get("central-server/12/password").reveal() == password
        assert store.get("stripe/customer/cus_N1x/secret").reveal() == blob
        assert store.list_names() == [
            "central-server/12/password",
            "stripe/customer/cus_N1x/secret",
        ]

        replaced = planted("central")
        assert secret_put("central-server/12/password", replaced, actor=None) is False
        assert secret_store().get("central-server/12/password").reveal() == replaced
        assert secret_store().get("central-server/12/password", fresh=True).reveal() == replaced

        assert secret_delete("stripe/customer/cus_N1x/secret", actor=None) is True
        assert secret_delete("stripe/customer/cus_N1x/secret", actor=None) is False
        with pytest.raises(SecretNotFound):
            secret_store().get("stripe/customer/cus_N1x/secret")
    # Stored in the organization's own project, under a key Infisical accepts.
    assert infisical.stored_secrets(project) == {"central-server__12__password": replaced}


def test_reads_are_batched_and_cached_and_writes_invalidate(
    org_a, on_infisical, infisical, planted
):
    org_a = on_infisical(org_a)
    values = {f"tinymdm/device/{n}/key": planted() for n in range(20)}
    with schema_context(org_a.schema_name):
        for name, value in values.items():
            secret_put(name, value, actor=None)
        lists_before, singles_before = infisical.count("GET", LIST), infisical.count("GET", ONE)

        store = secret_store()
        assert {name: store.get(name).reveal() for name in values} == values
        assert (
            store.get_many(list(values))["tinymdm/device/3/key"].reveal()
            == values["tinymdm/device/3/key"]
        )
        assert secret_store().get("tinymdm/device/7/key").reveal() == values["tinymdm/device/7/key"]
        # 20 gets, a get_many and a second store: one list, no per-value call.
        assert infisical.count("GET", LIST) == lists_before + 1
        assert infisical.count("GET", ONE) == singles_before

        changed = planted()
        secret_put("tinymdm/device/7/key", changed, actor=None)
        assert secret_store().get("tinymdm/device/7/key").reveal() == changed
        assert infisical.count("GET", LIST) == lists_before + 2


def test_failing_read_is_retried_with_backoff(org_a, on_infisical, infisical, planted):
    org_a = on_infisical(org_a)
    value = planted()
    with schema_context(org_a.schema_name):
        secret_put("tailscale/api-key", value, actor=None)
        before = infisical.count("GET", LIST)
        infisical.fail("GET", LIST, status=503, times=2)
        assert secret_store().get("tailscale/api-key").reveal() == value
    assert infisical.count("GET", LIST) == before + 3


def test_infisical_down_gives_a_clear_error(org_a, on_infisical, infisical, settings, planted):
    org_a = on_infisical(org_a)
    with schema_context(org_a.schema_name):
        secret_put("tailscale/api-key", planted(), actor=None)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        settings.INFISICAL_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"
        settings.OUTBOUND_ALLOWED_INTERNAL_HOSTS = [f"127.0.0.1:{probe.getsockname()[1]}"]
    with schema_context(org_a.schema_name), pytest.raises(SecretStoreUnavailable) as caught:
        secret_store().get("tailscale/api-key")
    message = caught.value.message
    assert "Infisical is unavailable while" in message
    assert "org_acme" in message and "cannot connect" in message and "3 attempts" in message


def test_infisical_slow_times_out_and_writes_are_not_retried(
    org_a, on_infisical, infisical, settings, planted
):
    org_a = on_infisical(org_a)
    settings.INFISICAL_TIMEOUT = 0.2
    before = infisical.count("GET", LIST)
    infisical.fail("GET", LIST, mode="hang", hang=0.6, times=3)
    with schema_context(org_a.schema_name), pytest.raises(SecretStoreUnavailable) as caught:
        secret_store().get("tailscale/api-key")
    assert "listing secrets" in caught.value.message
    assert "no answer within 0.2 s" in caught.value.message
    assert infisical.count("GET", LIST) == before + 3  # the first try and two retries

    infisical.fail("POST", ONE, mode="hang", hang=0.6)
    with schema_context(org_a.schema_name), pytest.raises(SecretStoreUnavailable) as caught:
        secret_put("tailscale/api-key", planted(), actor=None)
    assert "creating secret “tailscale/api-key”" in caught.value.message
    assert infisical.count("POST", ONE) == 1  # a create is never retried blindly


def test_infisical_error_is_reported_with_its_message(org_a, on_infisical, infisical):
    org_a = on_infisical(org_a)
    infisical.fail("GET", LIST, status=500, times=3)
    with schema_context(org_a.schema_name), pytest.raises(SecretStoreUnavailable) as caught:
        secret_store().list_names()
    assert "InternalServerError: Something went wrong (HTTP 500, reqId req-fake-" in (
        caught.value.message
    )


def test_token_of_another_identity_is_refused_for_this_project(
    org_a, on_infisical, infisical, settings, planted
):
    """The fake enforces project membership, and our error says so instead of returning data."""
    org_a = on_infisical(org_a)
    with schema_context(org_a.schema_name):
        secret_put("google/refresh-token", planted(), actor=None)
    infisical.add_identity("other-platform", "other-secret")
    settings.INFISICAL_CLIENT_ID, settings.INFISICAL_CLIENT_SECRET = (
        "other-platform",
        "other-secret",
    )
    with schema_context(org_a.schema_name), pytest.raises(SecretStorePermissionDenied) as caught:
        secret_store().get("google/refresh-token")
    assert "PermissionDenied" in caught.value.message and "HTTP 403" in caught.value.message


def test_wrong_machine_identity_credentials(org_a, on_infisical, infisical, settings):
    org_a = on_infisical(org_a)
    settings.INFISICAL_CLIENT_SECRET = "not-the-secret"
    with schema_context(org_a.schema_name), pytest.raises(SecretStorePermissionDenied) as caught:
        secret_store().list_names()
    assert "universal-auth login" in caught.value.message
    assert "Invalid credentials" in caught.value.message


def test_expired_token_is_renewed_once(org_a, on_infisical, infisical, planted):
    org_a = on_infisical(org_a)
    value = planted()
    with schema_context(org_a.schema_name):
        secret_put("tinymdm/api-key", value, actor=None)
    logins = infisical.count("POST", r"universal-auth/login")
    infisical.state.tokens.clear()  # Infisical forgot every token (expiry, revocation)
    with schema_context(org_a.schema_name):
        assert secret_store().get("tinymdm/api-key").reveal() == value
    assert infisical.count("POST", r"universal-auth/login") == logins + 1
