"""Tenant schemas in PostgreSQL: create, rename, drop, and migrate many at once.

Deciding which schemas need migrating is one query over all of them (the
leaf migrations of the project compared with each schema's
``django_migrations``), so a deploy with nothing to apply does not pay
Django's per-schema migration start-up cost 200 times.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog
from django.conf import settings
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors.base import run_migrations
from django_tenants.utils import get_public_schema_name, schema_exists
from psycopg import sql

log = structlog.get_logger(__name__)


def _identifier(name: str) -> str:
    return sql.Identifier(name).as_string(connection.connection)


def schema_create(name: str) -> None:
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {_identifier(name)}")


def schema_drop(name: str) -> None:
    if name == get_public_schema_name():
        raise ValueError("Refusing to drop the public schema.")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {_identifier(name)} CASCADE")


def schema_rename(old: str, new: str) -> None:
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {_identifier(old)} RENAME TO {_identifier(new)}")


def exists(name: str) -> bool:
    return schema_exists(name)


def latest_migration_keys() -> list[str]:
    """The leaf migrations (``app.name``) a current schema has applied."""
    return list(_leaf_migration_keys())


@functools.cache
def _leaf_migration_keys() -> tuple[str, ...]:
    # Loading the migration graph reads and imports every migration module:
    # about 30 ms, paid on every provisioning (the claimed spare is checked)
    # before this cache. Migration files change only with a deploy, which
    # starts new processes, so once per process is enough.
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return tuple(sorted(f"{app}.{name}" for app, name in loader.graph.leaf_nodes()))


def schemas_pending_migration(schemas: Sequence[str]) -> list[str]:
    """Of ``schemas``, those that exist and lack any latest migration; one query.

    The loop over schemas runs inside PostgreSQL (``publishmdm_schemas_pending``,
    created by the runtime app's first migration).
    """
    if not schemas:
        return []
    keys = latest_migration_keys()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT public.publishmdm_schemas_pending(%s::text[], %s::text[])",
            [list(schemas), keys],
        )
        return [row[0] for row in cursor.fetchall()]


def all_tenant_schemas() -> list[str]:
    """Every organization and spare schema that exists in the database."""
    prefixes = [settings.TENANT_SCHEMA_PREFIX, settings.SPARE_SCHEMA_PREFIX]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace "
            "WHERE EXISTS (SELECT 1 FROM unnest(%s::text[]) AS p WHERE starts_with(nspname, p)) "
            "ORDER BY nspname",
            [prefixes],
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass
class MigrationReport:
    migrated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def _migrate_options(verbosity: int) -> dict:
    parser = MigrateCommand().create_parser("manage.py", "migrate")
    options = vars(parser.parse_args([]))
    options.update(
        verbosity=verbosity,
        interactive=False,
        skip_checks=True,
        database=connection.alias,
    )
    return options


def _migrate_one(schema: str, verbosity: int) -> tuple[str, str | None]:
    try:
        run_migrations((), _migrate_options(verbosity), "parallel", schema, allow_atomic=True)
    except Exception as exc:  # noqa: BLE001 - reported per schema, others go on
        log.error("schema.migrate_failed", schema=schema, error=str(exc))
        connections.close_all()
        return schema, f"{type(exc).__name__}: {exc}"
    finally:
        connection.set_schema_to_public()
    return schema, None


def _migrate_one_star(args: tuple[str, int]) -> tuple[str, str | None]:
    return _migrate_one(*args)


def migrate_schemas(
    schemas: Iterable[str],
    *,
    processes: int | None = None,
    verbosity: int = 0,
    only_pending: bool = True,
) -> MigrationReport:
    """Bring tenant schemas to the latest migrations.

    Schemas already current are skipped after one query. The rest migrate in
    a pool of forked processes (django-tenants' per-schema migration runner);
    a failure is recorded against its schema and the others carry on.
    """
    schemas = list(dict.fromkeys(schemas))
    report = MigrationReport()
    pending = schemas_pending_migration(schemas) if only_pending else schemas
    report.skipped = [s for s in schemas if s not in set(pending)]
    processes = processes or settings.MIGRATION_PARALLELISM
    if not pending:
        return report
    if processes <= 1 or len(pending) == 1:
        results = [_migrate_one(schema, verbosity) for schema in pending]
    else:
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with context.Pool(processes=min(processes, len(pending))) as pool:
            results = pool.map(_migrate_one_star, [(s, verbosity) for s in pending], chunksize=1)
    for schema, error in results:
        if error is None:
            report.migrated.append(schema)
        else:
            report.failed[schema] = error
    return report
