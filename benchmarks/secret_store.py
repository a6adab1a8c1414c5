#!/usr/bin/env python
"""Benchmark: reading 100 secrets for one request from the Infisical backend.

DESIGN.md §6 and issue 3 ask that reads are batched and briefly cached (one
list per request or job) rather than one round trip per value. Against the
fake Infisical (a real HTTP server on 127.0.0.1, ``tests/fakes/infisical.py``)
answering every request after 20 ms, this script times one request path that
reads 100 secrets of one organization:

- **per value**: ``store.get(name, fresh=True)`` for each, one call per value;
- **batched, cold**: ``store.get(name)`` for each with an empty cache (the
  first request after the cache entry expired): one list call in all;
- **batched, warm**: the same within ``SECRET_STORE_CACHE_TTL``: no call.

It prints the medians and the ratio per-value / batched-cold; the target is
>= 20x. Exit status 0 when it is met.

Everything it writes to the database (an organization, its schema, audit
rows) happens in one transaction that is rolled back at the end, so it can run
against any database, repeatedly::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmdm_bench \\
        uv run python -m benchmarks.secret_store [--secrets 100] [--latency-ms 20] [--runs 3]

Without ``DATABASE_URL`` it uses the embedded PostgreSQL, like ``manage.py``.
"""

from __future__ import annotations

# Named secret_store.py rather than the secrets.py, which would read as the
# standard library's ``secrets`` next to it.
import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks._bootstrap import setup_django as bootstrap

ROOT = Path(__file__).resolve().parents[1]

TARGET_RATIO = 20.0


class _Rollback(Exception):
    """Raised to leave the benchmark's transaction without keeping anything."""


def setup_django(fake_url: str, client_secret: str, media_root: Path) -> None:
    """Start Django pointed at the fake Infisical."""
    bootstrap(
        forced={
            "MEDIA_ROOT": str(media_root),
            "SPARE_POOL_SIZE": "0",
            "SECRET_STORE_BACKEND": "infisical",
            "INFISICAL_URL": fake_url,
            "INFISICAL_CLIENT_ID": "pmdm-platform-identity",
            "INFISICAL_CLIENT_SECRET": client_secret,
        }
    )


def timed(runs: int, prepare: Callable[[], None], work: Callable[[], None]) -> list[float]:
    samples = []
    for _ in range(runs):
        prepare()
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run(args: argparse.Namespace) -> int:
    from tests.fakes.infisical import FakeInfisical

    fake = FakeInfisical().start()
    media_root = Path(tempfile.mkdtemp(prefix="pmdm-bench-secrets-"))
    try:
        setup_django(fake.url, fake.platform_client_secret, media_root)
        from django.core.management import call_command
        from django.db import connection, transaction

        print(
            f"database: {connection.settings_dict['NAME']} "
            f"on {connection.settings_dict['HOST'] or 'local socket'}"
        )
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        results: dict[str, list[float]] = {}
        calls: dict[str, int] = {}
        try:
            with transaction.atomic():
                measure(fake, args, results, calls)
                raise _Rollback
        except _Rollback:
            pass
    finally:
        fake.stop()
        import shutil

        shutil.rmtree(media_root, ignore_errors=True)
    return report(args, results, calls)


def measure(fake, args, results: dict[str, list[float]], calls: dict[str, int]) -> None:
    from django_tenants.utils import schema_context

    from control_plane.organizations.services.provisioning import (
        organization_create,
        organization_provision,
    )
    from tenants.secretstore.cache import tenant_secret_cache
    from tenants.secretstore.services.secrets import secret_put
    from tenants.secretstore.store import secret_store

    slug = f"secretsbench-{secrets.token_hex(3)}"
    organization = organization_create(name="Secrets benchmark", slug=slug, enqueue=False)
    organization = organization_provision(organization.pk)
    assert organization.secret_backend == "infisical", organization.secret_backend  # noqa: S105
    names = [f"central-server/{n}/password" for n in range(args.secrets)]
    expected = {name: secrets.token_urlsafe(24) for name in names}
    with schema_context(organization.schema_name):
        for name in names:  # set-up at full speed
            secret_put(name, expected[name], actor=None)

        fake.latency = args.latency_ms / 1000

        def read(fresh: bool) -> Callable[[], None]:
            def request_path() -> None:
                store = secret_store()  # one per request, as views and jobs do
                for name in names:
                    if store.get(name, fresh=fresh).reveal() != expected[name]:
                        raise AssertionError(f"{name} read back wrong")

            return request_path

        def cold() -> None:
            tenant_secret_cache.invalidate_schema(organization.schema_name)

        def warm() -> None:
            pass

        for label, prepare, work in (
            ("per value", warm, read(fresh=True)),
            ("batched, cold", cold, read(fresh=False)),
            ("batched, warm", warm, read(fresh=False)),
        ):
            before = len(fake.requests)
            results[label] = timed(args.runs, prepare, work)
            calls[label] = (len(fake.requests) - before) // args.runs


def report(args: argparse.Namespace, results: dict[str, list[float]], calls: dict[str, int]) -> int:
    print(
        f"reading {args.secrets} secrets in one request, fake Infisical latency "
        f"{args.latency_ms:g} ms, median of {args.runs} runs"
    )
    medians = {label: statistics.median(samples) for label, samples in results.items()}
    for label, median in medians.items():
        print(f"  {label:<15} {median:9.1f} ms   {calls[label]:4d} HTTP calls per request")
    ratio = medians["per value"] / medians["batched, cold"]
    met = ratio >= TARGET_RATIO
    print(
        f"ratio per value / batched (cold): {ratio:.1f}x  "
        f"(target >= {TARGET_RATIO:g}x: {'met' if met else 'NOT met'})"
    )
    return 0 if met else 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secrets", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(parse_args(None)))
