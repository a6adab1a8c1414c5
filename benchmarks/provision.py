#!/usr/bin/env python
"""Benchmark: how fast a new organization becomes usable, and what a deploy's migrate costs.

DESIGN.md §3 promises two things this script checks against one PostgreSQL in
one run:

(a) Provisioning claims a ready **spare schema** so signup does not slow down
    as migrations accumulate. We time N organizations (``--orgs``, default 20)
    from ``organization_create`` until ``organization_provision`` returns them
    ``active``, first with N spares waiting in the pool, then with the pool
    empty (django-tenants' migrate path), and report p50/p95 and the ratio.
    Filling the pool is background work in the product, so it is done before
    the clock starts and reported as setup.

(b) Deploy-time migration (``manage.py migrate_tenants``) **skips schemas
    already current** and migrates the rest in parallel. Over ``--schemas``
    (default 200) tenant schemas we time it with nothing to apply, and with
    one real migration to apply on every schema: ``audit.0002_append_only``
    is un-recorded and its trigger and function dropped in each schema, so
    the migration genuinely runs again (and we check it did).

Targets on the 2-core reference machine: pool p50 <= 100 ms and >= 10x faster
than the migrate path; no-op migrate over 200 schemas <= 5 s.

Run it against a database of its own (it migrates the public schema itself and
removes every schema, row and file it created, so it can run repeatedly)::

    psql -h 127.0.0.1 -U postgres -c 'create database pmdm_bench'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmdm_bench \\
        uv run python -m benchmarks.provision [--orgs 20] [--schemas 200] [--skip-migrate-bench]

Without ``DATABASE_URL`` it uses the embedded PostgreSQL, like ``manage.py``.
Exit status is 0 when every target measured is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._bootstrap import percentile
from benchmarks._bootstrap import setup_django as bootstrap

ROOT = Path(__file__).resolve().parents[1]

# Names this script owns, and only these, are removed at the end. Organization
# slugs "bench-..." become schemas "org_bench_..."; spares made for the pool
# phase get their own prefix (still under "spare_", so every deploy-time path
# sees them as spares) and the migrate phase's schemas are "org_bench_s...".
SLUG_PREFIX = "bench-"
ORG_SCHEMA_PREFIX = "org_bench_"
SPARE_PREFIX = "spare_bench_"
MIGRATE_SCHEMA_PREFIX = "org_bench_s"
REDONE_MIGRATION = ("audit", "0002_append_only")

TARGET_POOL_P50_MS = 100.0
TARGET_RATIO = 10.0
TARGET_NOOP_S = 5.0


# --- Django -----------------------------------------------------------------------------


def setup_django(media_root: Path) -> None:
    """Django with mail in memory (owner invitations are sent during provisioning)
    and files in a temporary MEDIA_ROOT we delete."""
    bootstrap(forced={"MEDIA_ROOT": str(media_root)})


# --- measuring --------------------------------------------------------------------------


@contextmanager
def stopwatch(label: str, sink: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        sink[label] = time.perf_counter() - started


@dataclass
class Results:
    setup: dict[str, float] = field(default_factory=dict)
    pool_ms: list[float] = field(default_factory=list)
    migrate_path_ms: list[float] = field(default_factory=list)
    first_pool_ms: float | None = None
    first_migrate_path_ms: float | None = None
    noop_runs_s: list[float] = field(default_factory=list)
    one_migration_s: float | None = None
    schema_count: int = 0
    notes: list[str] = field(default_factory=list)


# --- (a) provisioning -------------------------------------------------------------------


def provision_many(run_id: str, label: str, count: int, expect: str) -> list[float]:
    """Create and provision ``count`` organizations one after another; ms each.

    ``expect`` is the start of the schema step's recorded detail ("claimed
    spare" or "created and migrated"), checked so a figure can never silently
    come from the other path.
    """
    from control_plane.organizations.models import OrganizationStatus, ProvisioningStep
    from control_plane.organizations.services.provisioning import (
        organization_create,
        organization_provision,
    )

    timings = []
    for index in range(count):
        slug = f"{SLUG_PREFIX}{run_id}-{label}-{index:03d}"
        started = time.perf_counter()
        organization = organization_create(
            name=f"Bench {label} {index}",
            slug=slug,
            owner_email=f"owner-{index}@{slug}.example.com",
            actor=None,
            enqueue=False,
        )
        organization = organization_provision(organization.pk)
        elapsed = (time.perf_counter() - started) * 1000
        assert organization.status == OrganizationStatus.ACTIVE, organization.status
        detail = ProvisioningStep.objects.get(organization=organization, name="schema").detail
        assert detail.startswith(expect), f"{slug}: schema step said {detail!r}, not {expect!r}"
        timings.append(elapsed)
    return timings


def bench_provisioning(orgs: int, run_id: str, results: Results) -> None:
    """Time ``orgs`` provisionings from a full pool, then ``orgs`` with the pool empty.

    Each path starts with one extra organization timed apart: the first
    provisioning in a process also pays for importing the step modules and
    loading the migration graph, which a long-running worker does once. It is
    reported as "first in process" and not mixed into p50/p95.
    """
    from django.conf import settings

    from control_plane.organizations.models import SpareSchema, SpareSchemaStatus
    from control_plane.organizations.services.spare_pool import spare_pool_fill

    others = SpareSchema.objects.exclude(name__startswith=SPARE_PREFIX)
    if others.exists():
        raise SystemExit(
            f"The database holds {others.count()} spare schema(s) this benchmark did not make; "
            "they would be claimed in the migrate-path run. Use a database of its own."
        )
    # spare_pool_fill names spares after this setting; ours get a prefix of
    # their own so the clean-up can tell them apart.
    settings.SPARE_SCHEMA_PREFIX = SPARE_PREFIX
    with stopwatch(f"fill spare pool with {orgs + 1}", results.setup):
        spare_pool_fill(orgs + 1)
    ready = SpareSchema.objects.filter(status=SpareSchemaStatus.READY).count()
    assert ready == orgs + 1, f"pool holds {ready} ready spares, wanted {orgs + 1}"

    [results.first_pool_ms] = provision_many(run_id, "pool-first", 1, "claimed spare")
    results.pool_ms = provision_many(run_id, "pool", orgs, "claimed spare")
    left = SpareSchema.objects.count()
    assert left == 0, f"{left} spares left; the migrate path would claim them"
    [results.first_migrate_path_ms] = provision_many(
        run_id, "migrate-first", 1, "created and migrated"
    )
    results.migrate_path_ms = provision_many(run_id, "migrate", orgs, "created and migrated")


# --- (b) deploy-time migrate ------------------------------------------------------------


def quoted(name: str) -> str:
    from django.db import connection
    from psycopg import sql

    connection.ensure_connection()
    return sql.Identifier(name).as_string(connection.connection)


def _psycopg_connect():
    """A plain connection of our own: a pg_dump script sets ``search_path`` to ''."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold", "server_side_binding"):
        params.pop(key, None)
    return psycopg.connect(**params)


def _dump_schema(name: str) -> str:
    """``pg_dump`` of one schema, structure and rows, as plain SQL without psql commands.

    The ``pg_dump`` must be as new as the server (the embedded server is
    PostgreSQL 18, a distribution's may be older): ``client_program`` finds one,
    the embedded wheel's own first.
    """
    from django.db import connection

    from control_plane.embedded_db import client_program

    connection.ensure_connection()
    server_major = connection.connection.info.server_version // 10000
    settings = connection.settings_dict
    pg_dump = client_program("pg_dump", server_major)
    command = [pg_dump, "--schema", name, "--inserts", "--no-owner", "--no-privileges"]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            command += [flag, str(settings[key])]
    command += ["--dbname", settings["NAME"]]
    env = dict(os.environ, PGPASSWORD=settings.get("PASSWORD") or "")
    dump = subprocess.run(  # noqa: S603 - fixed program, our own arguments
        command, check=True, capture_output=True, text=True, env=env
    ).stdout
    # pg_dump 15.14+ brackets its output in psql-only \restrict meta-commands.
    return "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))


def make_migrate_schemas(count: int, results: Results) -> list[str]:
    """``count`` fully migrated tenant schemas: migrate one, copy it for the rest.

    Migrating each costs one to two seconds, and django-tenants'
    ``clone_schema`` is nearly as slow; replaying a ``pg_dump`` of the
    migrated schema under each new name copies tables, indexes, functions,
    triggers and rows (``django_migrations`` included) in a few milliseconds.
    Setup, reported apart from the measurements.
    """
    from control_plane.organizations.services import schemas

    names = [f"{MIGRATE_SCHEMA_PREFIX}{i:04d}" for i in range(count)]
    template = names[0]
    with stopwatch(f"create {count} schemas (migrate 1, copy {count - 1})", results.setup):
        schemas.schema_create(template)
        report = schemas.migrate_schemas([template], processes=1)
        assert report.ok, report.failed
        dump = _dump_schema(template)
        assert f"CREATE SCHEMA {template};" in dump, "unexpected pg_dump output"
        with _psycopg_connect() as conn:
            for start in range(1, count, 25):
                with conn.transaction():
                    for name in names[start : start + 25]:
                        conn.execute(dump.replace(template, name))
    return names


def trigger_count(names: Sequence[str]) -> int:
    """How many of ``names`` have the append-only trigger, bound to their own function."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*)
            FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE t.tgname = 'audit_event_append_only' AND p.pronamespace = n.oid
              AND n.nspname = ANY(%s)
            """,
            [list(names)],
        )
        return cursor.fetchone()[0]


def unapply_redone_migration(names: Sequence[str]) -> None:
    """Undo ``audit.0002_append_only`` in every schema: its record, trigger and function.

    The migration then really has to run again everywhere; merely deleting
    the ``django_migrations`` row would make its ``CREATE TRIGGER`` fail.
    """
    from django.db import connection, transaction

    app, migration = REDONE_MIGRATION
    with transaction.atomic(), connection.cursor() as cursor:
        for name in names:
            schema = quoted(name)
            cursor.execute(
                f"DELETE FROM {schema}.django_migrations WHERE app = %s AND name = %s",  # noqa: S608
                [app, migration],
            )
            cursor.execute(
                f"DROP TRIGGER IF EXISTS audit_event_append_only ON {schema}.audit_auditevent"
            )
            cursor.execute(f"DROP FUNCTION IF EXISTS {schema}.audit_event_is_append_only()")


def run_migrate_tenants() -> tuple[float, str]:
    """The deploy-time command, as a deploy runs it after migrating public; (seconds, output)."""
    from django.core.management import call_command
    from django.db import connection

    out = io.StringIO()
    started = time.perf_counter()
    call_command("migrate_tenants", skip_public=True, stdout=out)
    elapsed = time.perf_counter() - started
    connection.set_schema_to_public()
    return elapsed, out.getvalue().strip()


def bench_migrate(count: int, results: Results, noop_runs: int) -> None:
    from control_plane.organizations.services import schemas

    names = make_migrate_schemas(count, results)
    every = schemas.all_tenant_schemas()
    results.schema_count = len(every)
    if len(every) != count:
        results.notes.append(
            f"migrate_tenants sees {len(every)} tenant schemas, not {count}: the database "
            "holds tenant schemas this benchmark did not make."
        )
    assert trigger_count(names) == count, "cloned schemas lack their own append-only trigger"
    pending = schemas.schemas_pending_migration(every)
    assert not pending, f"{len(pending)} schemas not current before the no-op run"

    for _ in range(noop_runs):
        elapsed, output = run_migrate_tenants()
        assert f"{len(every)} already current" in output, output
        results.noop_runs_s.append(elapsed)
        print(f"  no-op migrate_tenants: {output}")

    unapply_redone_migration(names)
    assert trigger_count(names) == 0
    assert len(schemas.schemas_pending_migration(names)) == count
    elapsed, output = run_migrate_tenants()
    print(f"  one-migration migrate_tenants: {output}")
    assert f"{count} migrated" in output, output
    assert not schemas.schemas_pending_migration(every), "schemas still pending after migrate"
    assert trigger_count(names) == count, "the migration did not recreate every trigger"
    results.one_migration_s = elapsed


# --- cleaning up ------------------------------------------------------------------------


def public_functions() -> set[int]:
    """OIDs of the functions in ``public``; clone_schema installs helpers we remove after."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public'"
        )
        return {row[0] for row in cursor.fetchall()}


def highest_job_id() -> int:
    """Provisioning queues a pool refill job; jobs above this id are ours to delete."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")
        return cursor.fetchone()[0]


def cleanup(job_id_floor: int | None = None, functions_before: set[int] | None = None) -> None:
    """Remove every schema, row and job this benchmark made (also leftovers of a crashed run)."""
    from django.db import connection, transaction

    from control_plane.accounts.models import Invitation, Membership
    from control_plane.organizations.models import (
        Organization,
        PlatformAuditEvent,
        SpareSchema,
    )
    from control_plane.organizations.services import schemas

    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace "
            "WHERE starts_with(nspname, %s) OR starts_with(nspname, %s)",
            [ORG_SCHEMA_PREFIX, SPARE_PREFIX],
        )
        ours = [row[0] for row in cursor.fetchall()]
    for name in ours:
        schemas.schema_drop(name)
    with transaction.atomic():
        organizations = Organization.objects.filter(slug__startswith=SLUG_PREFIX)
        PlatformAuditEvent.objects.filter(organization__in=organizations).delete()
        Invitation.objects.filter(organization__in=organizations).delete()
        Membership.objects.filter(organization__in=organizations).delete()
        organizations.delete()  # domains and provisioning steps cascade
        SpareSchema.objects.filter(name__startswith=SPARE_PREFIX).delete()
        if job_id_floor is not None:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM procrastinate_jobs WHERE id > %s", [job_id_floor])
    if functions_before is not None:
        extra = public_functions() - functions_before
        with connection.cursor() as cursor:
            for oid in extra:
                cursor.execute("SELECT %s::regprocedure::text", [oid])
                signature = cursor.fetchone()[0]
                cursor.execute(f"DROP FUNCTION IF EXISTS {signature}")


# --- report -----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: Results, orgs: int, schema_target: int) -> bool:
    rows: list[tuple[str, str, str]] = []
    all_met = True

    def add(label: str, value: str, target: str = "", ok: bool | None = None) -> None:
        nonlocal all_met
        if ok is not None:
            all_met &= ok
            target = f"{target} ({verdict(ok)})"
        rows.append((label, value, target))

    if results.pool_ms:
        pool_p50 = percentile(results.pool_ms, 50)
        migrate_p50 = percentile(results.migrate_path_ms, 50)
        ratio = migrate_p50 / pool_p50
        add(
            f"pool path p50 ({orgs} orgs)",
            f"{pool_p50:.1f} ms",
            f"<= {TARGET_POOL_P50_MS:.0f} ms",
            pool_p50 <= TARGET_POOL_P50_MS,
        )
        add("pool path p95", f"{percentile(results.pool_ms, 95):.1f} ms")
        add(f"migrate path p50 ({orgs} orgs)", f"{migrate_p50:.1f} ms")
        add("migrate path p95", f"{percentile(results.migrate_path_ms, 95):.1f} ms")
        add(
            "first in process, pool / migrate (not in p50/p95)",
            f"{results.first_pool_ms:.0f} / {results.first_migrate_path_ms:.0f} ms",
        )
        add(
            "ratio (migrate p50 / pool p50)",
            f"{ratio:.1f}x",
            f">= {TARGET_RATIO:.0f}x",
            ratio >= TARGET_RATIO,
        )
    if results.noop_runs_s:
        noop = statistics.median(results.noop_runs_s)
        runs = ", ".join(f"{s:.2f}" for s in results.noop_runs_s)
        add(
            f"no-op migrate_tenants, {results.schema_count} schemas",
            f"{noop:.2f} s",
            f"<= {TARGET_NOOP_S:.0f} s (median of {runs})",
            noop <= TARGET_NOOP_S,
        )
    if results.one_migration_s is not None:
        add(
            f"one-migration migrate_tenants, {schema_target} schemas",
            f"{results.one_migration_s:.2f} s",
            "no target",
        )

    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print()
    print("Setup (not measured):")
    for label, seconds in results.setup.items():
        print(f"  {label}: {seconds:.1f} s")
    print()
    header = ("measure", "value", "target")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    for note in results.notes:
        print(f"note: {note}")
    print()
    print("All targets met." if all_met else "Some targets MISSED.")
    return all_met


# --- main -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--orgs", type=int, default=20, help="Organizations provisioned per path (default 20)."
    )
    parser.add_argument(
        "--schemas",
        type=int,
        default=200,
        help="Tenant schemas for the migrate benchmark (default 200).",
    )
    parser.add_argument(
        "--noop-runs",
        type=int,
        default=3,
        help="No-op migrate runs; the median is reported (default 3).",
    )
    parser.add_argument(
        "--skip-migrate-bench", action="store_true", help="Only measure provisioning."
    )
    args = parser.parse_args(argv)
    if args.orgs < 1 or args.schemas < 2 or args.noop_runs < 1:
        parser.error("--orgs >= 1, --schemas >= 2 and --noop-runs >= 1, please.")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    media_root = Path(tempfile.mkdtemp(prefix="pmdm-bench-media-"))
    results = Results()
    try:
        setup_django(media_root)
        from django.core.management import call_command
        from django.db import connection

        print(
            f"database: {connection.settings_dict['NAME']} "
            f"on {connection.settings_dict['HOST'] or 'local socket'}"
        )
        with stopwatch("migrate public schema", results.setup):
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        cleanup()  # whatever a killed earlier run left behind
        job_floor = highest_job_id()
        functions_before = public_functions()
        run_id = format(int(time.time()) % 46656, "x")
        steps: list[tuple[str, Callable[[], None]]] = [
            ("provisioning", lambda: bench_provisioning(args.orgs, run_id, results)),
        ]
        if not args.skip_migrate_bench:
            steps.append(("migrate", lambda: bench_migrate(args.schemas, results, args.noop_runs)))
        try:
            for name, step in steps:
                started = time.perf_counter()
                print(f"[{name}] ...", flush=True)
                step()
                print(f"[{name}] done in {time.perf_counter() - started:.0f} s", flush=True)
                # Each phase starts from a database holding only what it makes.
                with stopwatch(f"clean up after {name}", results.setup):
                    cleanup(job_floor, functions_before)
        finally:
            cleanup(job_floor, functions_before)
    finally:
        shutil.rmtree(media_root, ignore_errors=True)
    return 0 if report(results, args.orgs, args.schemas) else 1


if __name__ == "__main__":
    sys.exit(main())
