"""The local backend: round trip, ciphertext only in the tenant's table, tenancy guards."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenants.audit.models import AuditEvent
from tenants.secretstore.errors import (
    InvalidSecretName,
    SecretNotFound,
    SecretStoreMisconfigured,
    TenantMismatch,
)
from tenants.secretstore.services.secrets import secret_delete, secret_put
from tenants.secretstore.store import secret_store


def test_round_trip_text_and_bytes(org_a, planted, make_user):
    actor = make_user()
    password, blob = planted("password"), planted.binary()
    with schema_context(org_a.schema_name):
        assert secret_put("central-server/12/password", password, actor=actor) is True
        assert secret_put("webhook/stripe/signing.key", blob, actor=actor) is True
        store = secret_store()
        assert store.backend.kind == "local"
        assert store.get("central-server/12/password").reveal() == password
        assert store.get("webhook/stripe/signing.key").reveal() == blob  # bytes stay bytes
        assert store.list_names() == ["central-server/12/password", "webhook/stripe/signing.key"]

        replaced = planted("password")
        assert secret_put("central-server/12/password", replaced, actor=actor) is False
        assert secret_store().get("central-server/12/password").reveal() == replaced
        assert secret_store().get_many(["central-server/12/password", "missing/one"]).keys() == {
            "central-server/12/password"
        }

        assert secret_delete("central-server/12/password", actor=actor) is True
        assert secret_delete("central-server/12/password", actor=actor) is False
        with pytest.raises(SecretNotFound):
            secret_store().get("central-server/12/password")

        codes = list(
            AuditEvent.objects.filter(code__startswith="secrets.secret.")
            .order_by("id")
            .values_list("code", "actor_id", "data")
        )
    assert [code for code, _, _ in codes] == [
        "secrets.secret.written",
        "secrets.secret.written",
        "secrets.secret.written",
        "secrets.secret.deleted",
    ]
    assert all(actor_id == actor.pk for _, actor_id, _ in codes)
    assert codes[0][2] == {
        "name": "central-server/12/password",
        "backend": "local",
        "created": True,
    }


def test_only_ciphertext_in_the_tenant_table(org_a, org_b, planted):
    value = planted("tinymdm-key")
    with schema_context(org_a.schema_name):
        secret_put("tinymdm/api-key", value, actor=None)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT name, ciphertext, key_id FROM "{org_a.schema_name}".secretstore_secretrecord'  # noqa: S608, E501
        )
        rows = cursor.fetchall()
        cursor.execute(f'SELECT count(*) FROM "{org_b.schema_name}".secretstore_secretrecord')  # noqa: S608
        assert cursor.fetchone()[0] == 0  # nothing lands in another tenant's table
        cursor.execute("SELECT to_regclass('public.secretstore_secretrecord')")
        assert cursor.fetchone()[0] is None  # nor in the public schema
    assert len(rows) == 1
    name, ciphertext, key_id = rows[0]
    raw = bytes(ciphertext)
    assert name == "tinymdm/api-key"
    assert value.encode() not in raw
    assert len(raw) >= len(value) + 12 + 16  # nonce and tag around the sealed value
    assert len(key_id) == 16


def test_same_ciphertext_copied_to_another_tenant_does_not_open(org_a, org_b, planted):
    """A row copied across schemas (a bad restore, a bug) fails instead of decrypting."""
    from tenants.secretstore.errors import SecretDecryptionFailed

    with schema_context(org_a.schema_name):
        secret_put("google/refresh-token", planted("refresh"), actor=None)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{org_b.schema_name}".secretstore_secretrecord '  # noqa: S608
            "(name, ciphertext, key_id, created_at, updated_at) "
            f'SELECT name, ciphertext, key_id, now(), now() FROM "{org_a.schema_name}".'
            "secretstore_secretrecord"
        )
    with schema_context(org_b.schema_name), pytest.raises(SecretDecryptionFailed):
        secret_store().get("google/refresh-token")


def test_store_refuses_another_tenant_and_the_public_schema(org_a, org_b, planted):
    with schema_context(org_a.schema_name):
        secret_put("tailscale/auth-key", planted(), actor=None)
        store = secret_store()
    with schema_context(org_b.schema_name), pytest.raises(TenantMismatch):
        store.get("tailscale/auth-key")
    with pytest.raises(SecretStoreMisconfigured):
        secret_store()  # public schema: no organization
    with pytest.raises(SecretStoreMisconfigured):
        secret_put("tailscale/auth-key", "x", actor=None)


@pytest.mark.parametrize(
    "name",
    ["", "a//b", "/lead", "trail/", "../up", "has space", "org_acme:x", "a__b", "é", "x" * 201],
)
def test_invalid_names_are_refused(org_a, name):
    with schema_context(org_a.schema_name):
        with pytest.raises(InvalidSecretName):
            secret_put(name, "value", actor=None)
        with pytest.raises(InvalidSecretName):
            secret_store().get(name)
