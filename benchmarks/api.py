#!/usr/bin/env python
"""Benchmark: what tenant routing costs the REST API, and whether 200 organizations slow it.

The request measured is the one scripts make most: ``GET /api/v1/app-users/?page_size=50``
with an API token, through the whole Django stack in-process (WSGI, every middleware,
DRF: token check, membership role, throttle, filter, cursor pagination, JSON).

Configurations, measured in interleaved rounds so that drift hits all alike:

- **routed, 1 organization**: the product as deployed: the host names the
  organization (``TenantRoutingMiddleware`` looks up its domain, activates its
  schema; django-tenants sets ``search_path`` on each new cursor);
- **no routing**: the same view and query with the organization fixed for the
  process (a one-line middleware sets ``request.tenant``; ``search_path`` is set
  once): what a single-tenant deployment of the same code would do;
- **routed, 200 organizations**: as the first, after 199 more organizations with
  real schemas (the first one's tables copied, so creating them takes seconds, not
  the minutes that migrating would), domains, members and tokens exist.

For information it also measures the routed product with django-tenants'
``TENANT_LIMIT_SET_CALLS`` on (one ``SET search_path`` per request instead of one
per cursor), the product's default since it was measured here.

It prints requests per second and p50/p99 latency of each, and the ratios against
the targets: routing costs <= 10% throughput; 200 organizations vs 1 changes p99 by
<= 10%. Run it against a database of its own (it removes what it created)::

    psql -h 127.0.0.1 -U postgres -c 'create database pmdm_bench_api'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmdm_bench_api \\
        uv run python -m benchmarks.api [--requests 3000] [--orgs 200]

Exit status is 0 when both targets are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks._bootstrap import percentile
from benchmarks._bootstrap import setup_django as bootstrap

ROOT = Path(__file__).resolve().parents[1]

SLUG_PREFIX = "benchapi-"
SCHEMA_PREFIX = "org_benchapi_"
TARGET_ROUTING_COST = 0.10
TARGET_P99_CHANGE = 0.10
APP_USERS = 200
PATH = "/api/v1/app-users/?page_size=50"


def setup_django(media_root: Path) -> None:
    # Measure routing, not the rate limiter refusing a benchmark.
    bootstrap(
        defaults={"SPARE_POOL_SIZE": "0", "API_THROTTLE_TOKEN": "100000000/min"},
        forced={"MEDIA_ROOT": str(media_root)},
    )


# --- data -----------------------------------------------------------------------------------


def make_first_organization(run_id: str):
    """A provisioned organization with a project, 200 app users, a member and a token."""
    from django.db import connection

    from control_plane.accounts.models import Membership, User
    from control_plane.organizations.services.provisioning import (
        organization_create,
        organization_provision,
    )
    from tenants.publishing.models import AppUser, CentralServer, Project
    from tests.api.helpers import issue_token

    organization = organization_create(
        name="Bench API", slug=f"{SLUG_PREFIX}{run_id}-0", actor=None, enqueue=False
    )
    organization = organization_provision(organization.pk)
    user = User.objects.create_user(f"bench-{run_id}@example.org", "x" * 20)
    Membership.objects.create(user=user, organization=organization, role="editor")
    token = issue_token(organization, user, "editor")
    connection.set_tenant(organization)
    server = CentralServer.objects.create(name="Bench", base_url="https://central.invalid")
    project = Project.objects.create(name="Bench", server=server, central_project_id=1)
    AppUser.objects.bulk_create(
        [AppUser(project=project, name=f"user_{i:04d}") for i in range(APP_USERS)]
    )
    connection.set_schema_to_public()
    return organization, token


def copy_schema(source: str, target: str) -> None:
    """A new schema with the tables (columns, defaults, identities, indexes) of ``source``.

    ``CREATE TABLE ... (LIKE ... INCLUDING ALL)`` per table takes milliseconds, where
    django-tenants' clone function takes seconds per schema (it also copies foreign
    keys, functions and triggers, which routing never touches).
    """
    from django.db import connection
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [source]
        )
        tables = [row[0] for row in cursor.fetchall()]
        statements = [sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(target))]
        statements += [
            sql.SQL("CREATE TABLE {}.{} (LIKE {}.{} INCLUDING ALL)").format(
                sql.Identifier(target),
                sql.Identifier(table),
                sql.Identifier(source),
                sql.Identifier(table),
            )
            for table in tables
        ]
        cursor.connection.execute(sql.SQL("; ").join(statements))  # one round trip


def make_more_organizations(first, run_id: str, count: int) -> None:
    """``count`` more active organizations with schemas copied from the first (no data)."""
    from django.db import connection, transaction

    from control_plane.accounts.models import Membership, User
    from control_plane.organizations.models import Domain, Organization, OrganizationStatus
    from control_plane.organizations.services.slugs import primary_domain_for
    from tests.api.helpers import issue_token

    connection.set_schema_to_public()
    for index in range(1, count + 1):
        slug = f"{SLUG_PREFIX}{run_id}-{index}"
        schema = f"{SCHEMA_PREFIX}{run_id}_{index}"
        with transaction.atomic():
            copy_schema(first.schema_name, schema)
            organization = Organization.objects.create(
                name=f"Bench API {index}",
                slug=slug,
                schema_name=schema,
                status=OrganizationStatus.ACTIVE,
            )
            Domain.objects.create(
                domain=primary_domain_for(slug), tenant=organization, is_primary=True
            )
            user = User.objects.create_user(f"bench-{run_id}-{index}@example.org", "x" * 20)
            Membership.objects.create(user=user, organization=organization, role="editor")
            issue_token(organization, user, "editor")
    connection.set_schema_to_public()


def drop_clones(run_id: str) -> None:
    """Remove the copied organizations (not the first), to measure 1 organization again."""
    _remove(run_id, keep_first=True)


def clean_up(run_id: str) -> None:
    _remove(run_id, keep_first=False)


def _remove(run_id: str, *, keep_first: bool) -> None:
    from django.db import connection

    from control_plane.accounts.models import User
    from control_plane.organizations.models import Organization

    connection.set_schema_to_public()
    organizations = Organization.objects.filter(slug__startswith=f"{SLUG_PREFIX}{run_id}-")
    if keep_first:
        organizations = organizations.exclude(slug=f"{SLUG_PREFIX}{run_id}-0")
    schemas = list(organizations.values_list("schema_name", flat=True))
    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    for organization in organizations:
        organization.domains.all().delete()
        organization.provisioning_steps.all().delete()
    from control_plane.accounts.models import ApiToken, Membership

    ApiToken.objects.filter(organization__in=organizations).delete()
    Membership.objects.filter(organization__in=organizations).delete()
    from control_plane.organizations.models import PlatformAuditEvent

    PlatformAuditEvent.objects.filter(organization__in=organizations).delete()
    organizations.delete()
    users = User.objects.filter(email__startswith=f"bench-{run_id}")
    if keep_first:
        users = users.exclude(email=f"bench-{run_id}@example.org")
    users.delete()


# --- clients --------------------------------------------------------------------------------


class FixedTenantMiddleware:
    """The "no routing" stand-in: one organization for the whole process."""

    organization = None

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = self.organization
        return self.get_response(request)


def make_client(organization, token: str, *, routed: bool):
    """A Django test client on the product's middleware, or with routing replaced."""
    from django.conf import settings
    from django.test import Client
    from django.test.client import ClientHandler

    middleware = list(settings.MIDDLEWARE)
    if not routed:
        index = middleware.index("control_plane.middleware.TenantRoutingMiddleware")
        middleware[index] = f"{__name__}.FixedTenantMiddleware"
    client = Client(HTTP_HOST=organization.primary_domain, HTTP_AUTHORIZATION=f"Bearer {token}")
    handler = ClientHandler(enforce_csrf_checks=False)
    original = settings.MIDDLEWARE
    settings.MIDDLEWARE = middleware
    try:
        handler.load_middleware()
    finally:
        settings.MIDDLEWARE = original
    client.handler = handler
    return client


def timed_requests(client, count: int, *, before: Callable[[], None]) -> list[float]:
    before()
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(PATH)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{PATH} answered {response.status_code}: {response.content[:300]!r}")
    return latencies


def measure(clients: dict[str, tuple], total: int, rounds: int) -> dict[str, list[float]]:
    """Interleave the configurations in ``rounds`` so that drift affects all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in clients}
    per_round = max(1, total // rounds)
    for client, before in clients.values():  # warm-up, not recorded
        timed_requests(client, 100, before=before)
    for _ in range(rounds):
        for name, (client, before) in clients.items():
            gc.collect()
            samples[name] += timed_requests(client, per_round, before=before)
    return samples


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "rps": len(latencies) / sum(latencies),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=2000, help="per configuration")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--orgs", type=int, default=200)
    args = parser.parse_args(argv)

    media_root = Path(tempfile.mkdtemp(prefix="pmdm-bench-api-"))
    setup_django(media_root)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    run_id = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    try:
        organization, token = make_first_organization(run_id)
        FixedTenantMiddleware.organization = organization
        routed = make_client(organization, token, routed=True)
        fixed = make_client(organization, token, routed=False)

        def product_mode() -> None:
            settings.TENANT_LIMIT_SET_CALLS = getattr(settings, "_bench_limit_default", False)
            connection.set_schema_to_public()

        def single_tenant_mode() -> None:
            # No routing: the schema is the process's, set once, never switched.
            settings.TENANT_LIMIT_SET_CALLS = True
            connection.set_tenant(organization)

        settings._bench_limit_default = getattr(settings, "TENANT_LIMIT_SET_CALLS", False)

        def limited_mode() -> None:
            # Routed, with django-tenants' TENANT_LIMIT_SET_CALLS: one SET per request.
            settings.TENANT_LIMIT_SET_CALLS = True
            connection.set_schema_to_public()

        both = {
            "routed": (routed, product_mode),
            "no routing": (fixed, single_tenant_mode),
            "routed, limit": (routed, limited_mode),
        }
        setup_s = time.perf_counter() - started
        before = measure(both, args.requests, args.rounds)
        started = time.perf_counter()
        make_more_organizations(organization, run_id, args.orgs - 1)
        clone_s = time.perf_counter() - started
        many = measure(both, args.requests, args.rounds)
        drop_clones(run_id)
        after = measure(both, args.requests, args.rounds)
    finally:
        settings.TENANT_LIMIT_SET_CALLS = getattr(settings, "_bench_limit_default", False)
        clean_up(run_id)
        shutil.rmtree(media_root, ignore_errors=True)

    one_org = {k: before[k] + after[k] for k in before}  # before the 199 and after dropping them
    rows = {
        "routed, 1 org": summary(one_org["routed"]),
        "no routing, 1 org": summary(one_org["no routing"]),
        f"routed, {args.orgs} orgs": summary(many["routed"]),
        f"no routing, {args.orgs} orgs": summary(many["no routing"]),
        "routed+LIMIT_SET, 1 org": summary(one_org["routed, limit"]),
        f"routed+LIMIT_SET, {args.orgs} orgs": summary(many["routed, limit"]),
    }
    print(f"\nGET {PATH} ({APP_USERS} app users, editor token, in-process WSGI)")
    print(f"setup {setup_s:.1f} s; {args.orgs - 1} more organizations created in {clone_s:.1f} s")
    print(f"{args.requests} requests per configuration and phase, {args.rounds} interleaved rounds")
    print("1 org = measured before the other organizations existed and again after dropping them\n")
    print(f"{'configuration':<24} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
    for name, figures in rows.items():
        print(
            f"{name:<24} {figures['rps']:>9.0f} {figures['p50_ms']:>9.2f} {figures['p99_ms']:>9.2f}"
        )
    routed_one, base_one = rows["routed, 1 org"], rows["no routing, 1 org"]
    routed_many, base_many = (
        rows[f"routed, {args.orgs} orgs"],
        rows[f"no routing, {args.orgs} orgs"],
    )
    routing_cost = 1 - routed_one["rps"] / base_one["rps"]
    routing_cost_many = 1 - routed_many["rps"] / base_many["rps"]
    p99_change = routed_many["p99_ms"] / routed_one["p99_ms"] - 1
    print()
    print(
        f"routed / no routing throughput, 1 org:    {routed_one['rps'] / base_one['rps']:.3f} "
        f"(routing costs {routing_cost:.1%}; target <= {TARGET_ROUTING_COST:.0%})"
    )
    print(
        f"routed / no routing throughput, {args.orgs} orgs: "
        f"{routed_many['rps'] / base_many['rps']:.3f} (routing costs {routing_cost_many:.1%})"
    )
    print(
        f"routed p99, {args.orgs} orgs / 1 org:           "
        f"{routed_many['p99_ms'] / routed_one['p99_ms']:.3f} "
        f"({p99_change:+.1%}; target within {TARGET_P99_CHANGE:.0%})"
    )
    print(
        f"routed throughput, {args.orgs} orgs / 1 org:    {routed_many['rps'] / routed_one['rps']:.3f}"
    )
    limited = rows["routed+LIMIT_SET, 1 org"]
    print(
        f"with TENANT_LIMIT_SET_CALLS (forced on; the product's default), routing costs "
        f"{1 - limited['rps'] / base_one['rps']:.1%} (1 org)"
    )
    routing_cost = max(routing_cost, routing_cost_many)
    ok = routing_cost <= TARGET_ROUTING_COST and abs(p99_change) <= TARGET_P99_CHANGE
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
