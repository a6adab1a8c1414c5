"""Keeping tenant schemas (and spare ones) at the latest migrations."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context
from psycopg import sql

from control_plane.organizations.services import schemas
from tenants.audit.models import AuditEvent

LATEST_AUDIT = ("audit", "0003_secnet_actor_token_client_address")


def _execute(statement, *identifiers):
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(statement)
            .format(*[sql.Identifier(i) for i in identifiers])
            .as_string(connection.connection)
        )


def _put_behind(schema: str) -> None:
    """Make ``schema`` look like it was migrated before the latest audit migration existed."""
    _execute(
        "ALTER TABLE {}.audit_auditevent DROP COLUMN actor_token, DROP COLUMN client_address",
        schema,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DELETE FROM {}.django_migrations WHERE app = %s AND name = %s")
            .format(sql.Identifier(schema))
            .as_string(connection.connection),
            list(LATEST_AUDIT),
        )


def _has_migration(schema: str, app: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT 1 FROM {}.django_migrations WHERE app = %s AND name = %s")
            .format(sql.Identifier(schema))
            .as_string(connection.connection),
            [app, name],
        )
        return cursor.fetchone() is not None


def _has_column(schema: str, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND column_name = %s",
            [schema, table, column],
        )
        return cursor.fetchone() is not None


def _assert_append_only(schema: str) -> None:
    with schema_context(schema):
        event = AuditEvent.objects.create(code="test.migrated")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(code="test.changed")


def test_latest_migration_keys_include_every_tenant_app():
    keys = schemas.latest_migration_keys()

    assert "audit." + LATEST_AUDIT[1] in keys
    assert "audit.0002_append_only" not in keys  # only leaves


def test_pending_lists_only_schemas_that_are_behind(org_a, org_b, spare_schema):
    _put_behind(spare_schema)

    pending = schemas.schemas_pending_migration(
        [org_a.schema_name, org_b.schema_name, spare_schema, "org_does_not_exist"]
    )

    assert pending == [spare_schema]


def test_an_empty_schema_is_pending(db):
    schemas.schema_create("org_empty_one")

    assert schemas.schemas_pending_migration(["org_empty_one"]) == ["org_empty_one"]


def test_a_spare_one_migration_behind_is_brought_current_when_claimed(
    spare_schema, new_organization
):
    # The session's spare was made by spare_pool_fill(1); this test's changes roll back.
    spare = spare_schema
    _put_behind(spare)
    assert schemas.schemas_pending_migration([spare]) == [spare]
    assert not _has_column(spare, "audit_auditevent", "actor_token")  # really behind

    organization = new_organization()

    assert organization.provisioning_steps.get(name="schema").detail == f"claimed spare {spare}"
    assert _has_migration(organization.schema_name, *LATEST_AUDIT)
    assert _has_column(organization.schema_name, "audit_auditevent", "actor_token")
    assert schemas.schemas_pending_migration([organization.schema_name]) == []
    _assert_append_only(organization.schema_name)


def test_migrate_schemas_skips_current_schemas(org_a, org_b):
    report = schemas.migrate_schemas([org_a.schema_name, org_b.schema_name], processes=1)

    assert report.ok
    assert report.skipped == [org_a.schema_name, org_b.schema_name]
    assert report.migrated == []


@pytest.mark.django_db(transaction=True)
def test_migrate_tenants_migrates_what_is_behind_and_names_what_failed(
    org_a, org_b, spare_schema, tenant_schema_cleanup
):
    behind = spare_schema
    _put_behind(behind)
    # A schema whose django_migrations table is not Django's: it can never migrate.
    schemas.schema_create("org_broken")
    _execute("CREATE TABLE {}.django_migrations (id integer, note text)", "org_broken")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="org_broken"):
        call_command("migrate_tenants", processes=2, stdout=out, stderr=err)

    assert "FAILED org_broken:" in err.getvalue()
    assert _has_migration(behind, *LATEST_AUDIT)
    _assert_append_only(behind)
    assert schemas.schemas_pending_migration([behind, org_a.schema_name, org_b.schema_name]) == []
    summary = out.getvalue()
    assert " 1 migrated," in summary and " 1 failed" in summary
    assert f"{len(schemas.all_tenant_schemas()) - 2} already current" in summary


@pytest.mark.django_db(transaction=True)
def test_migrate_tenants_with_nothing_to_do_succeeds(org_a, org_b, tenant_schema_cleanup):
    out = StringIO()

    call_command("migrate_tenants", skip_public=True, stdout=out)

    assert " 0 migrated," in out.getvalue() and " 0 failed" in out.getvalue()
