"""Master key rotation of the local backend."""

from __future__ import annotations

import base64
import io
import os

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from tenants.secretstore.crypto import MasterKey
from tenants.secretstore.errors import SecretDecryptionFailed
from tenants.secretstore.models import SecretRecord
from tenants.secretstore.services.secrets import secret_put
from tenants.secretstore.store import secret_store


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _key_ids(organization) -> set[str]:
    with schema_context(organization.schema_name):
        return set(SecretRecord.objects.values_list("key_id", flat=True))


def test_rotation_re_encrypts_everything_under_the_first_key(org_a, org_b, settings, planted):
    old, new = _key(), _key()
    old_id, new_id = MasterKey.from_setting(old).key_id, MasterKey.from_setting(new).key_id
    settings.SECRETS_MASTER_KEYS = [old]
    values = {}
    for organization in (org_a, org_b):
        with schema_context(organization.schema_name):
            for n in range(3):
                values[(organization.slug, f"central-server/{n}/password")] = value = planted()
                secret_put(f"central-server/{n}/password", value, actor=None)
    assert _key_ids(org_a) == _key_ids(org_b) == {old_id}

    settings.SECRETS_MASTER_KEYS = [new, old]
    with schema_context(org_a.schema_name):  # old rows still open; new writes use the new key
        assert (
            secret_store().get("central-server/0/password").reveal()
            == values[("acme", "central-server/0/password")]
        )
        values[("acme", "central-server/9/password")] = planted()
        secret_put(
            "central-server/9/password", values[("acme", "central-server/9/password")], actor=None
        )
    assert _key_ids(org_a) == {old_id, new_id}

    out = io.StringIO()
    call_command("secrets_rotate_keys", stdout=out)
    assert "acme: 3 of 4 secrets re-encrypted" in out.getvalue()
    assert "globex: 3 of 3 secrets re-encrypted" in out.getvalue()
    assert _key_ids(org_a) == _key_ids(org_b) == {new_id}

    out = io.StringIO()
    call_command("secrets_rotate_keys", "-o", "acme", stdout=out)  # nothing left to do
    assert "acme: 0 of 4" in out.getvalue()

    settings.SECRETS_MASTER_KEYS = [new]  # the old key retired
    for (slug, name), value in values.items():
        organization = org_a if slug == "acme" else org_b
        with schema_context(organization.schema_name):
            assert secret_store().get(name).reveal() == value

    settings.SECRETS_MASTER_KEYS = [_key()]  # a key that sealed nothing: a clear error
    with schema_context(org_a.schema_name), pytest.raises(SecretDecryptionFailed) as caught:
        secret_store().get("central-server/0/password")
    assert new_id in caught.value.message and "SECRETS_MASTER_KEYS" in caught.value.message
