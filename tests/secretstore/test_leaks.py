"""Secret values stay out of reprs, JSON, exceptions, pages and logs.

Every test of this package also runs under the autouse check in conftest that
no planted value reached a log record (DEBUG and up) or the captured output.
"""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django_tenants.utils import schema_context

from tenants.secretstore.cache import tenant_secret_cache
from tenants.secretstore.errors import SecretStoreError
from tenants.secretstore.services.secrets import secret_put
from tenants.secretstore.store import secret_store
from tenants.secretstore.values import SecretValue


def test_value_wrapper_hides_the_value(planted):
    raw = planted()
    value = SecretValue(raw)
    for shown in (
        repr(value),
        str(value),
        f"{value}",
        f"{value!r}",
        "%s" % (value,),  # noqa: UP031 - the old-style formatting logging uses
        repr([value]),
        repr({"v": value}),
    ):
        assert raw not in shown
    with pytest.raises(TypeError):
        json.dumps({"v": value})
    with pytest.raises(TypeError):
        json.dumps({"v": value}, cls=DjangoJSONEncoder)
    with pytest.raises(TypeError):
        pickle.dumps(value)
    assert copy.deepcopy(value) == value == SecretValue(raw) != SecretValue(raw.encode())
    assert value.reveal() == raw


def test_reprs_of_the_store_and_its_parts_hold_no_value(org_a, on_infisical, infisical, planted):
    org_a = on_infisical(org_a)
    raw = planted()
    with schema_context(org_a.schema_name):
        secret_put("stripe/webhook/secret", raw, actor=None)
        store = secret_store()
        fetched = store.get_many(["stripe/webhook/secret"])
        shown = " ".join(
            repr(item)
            for item in (
                store,
                store.backend,
                store.backend.client,
                store.backend.config,
                tenant_secret_cache,
                fetched,
            )
        )
    assert raw not in shown
    assert infisical.platform_client_secret not in shown  # the machine identity's secret too


def test_errors_name_the_operation_not_the_value(org_a, on_infisical, infisical, planted):
    org_a = on_infisical(org_a)
    raw = planted()
    infisical.fail("POST", r"^/api/v3/secrets/raw/.", status=500)
    with schema_context(org_a.schema_name), pytest.raises(SecretStoreError) as caught:
        secret_put("central-server/4/password", raw, actor=None)
    assert "creating secret “central-server/4/password”" in caught.value.message
    assert raw not in str(caught.value) and raw not in repr(caught.value.__dict__)


def test_no_value_in_any_page_of_the_organization(org_a, member_of, client_on, planted):
    raw = planted()
    with schema_context(org_a.schema_name):
        secret_put("central-server/5/password", raw, actor=None)
    owner = member_of(org_a, "owner")
    client = client_on(org_a, owner)
    for path in ("/", "/audit/", "/audit/?code=secrets", "/members/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert raw not in response.content.decode(), path
    # The audit trail does record the write, by name.
    assert "secrets.secret.written" in client.get("/audit/?code=secrets").content.decode()
