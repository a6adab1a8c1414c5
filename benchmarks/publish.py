#!/usr/bin/env python
"""Publishing benchmark (issue 4), against the fake ODK Central with 50 ms per request.

    uv run python benchmarks/publish.py [--users 100] [--e2e-users 50] [--latency 0.05]

(a) one template with a 200-row form, ``--users`` app users: wall time of the whole
    run with the Central pool at 1 and at the default (PUBLISH_POOL_SIZE), and the ratio;
(b) ``--e2e-users`` app users end to end (read source, render, validate, store,
    publish, assign) on a first publish and on a republish: wall seconds;
(c) median milliseconds to render and validate one variant.

It uses DATABASE_URL (or the embedded PostgreSQL), provisions a throw-away
organization, and drops it at the end. Targets on the 2-core reference machine:
(a) ≥ 8×, (b) ≤ 9 s each, (c) < 150 ms.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from _bootstrap import setup_django as bootstrap  # noqa: E402

VARIABLES = ("district", "team", "supervisor", "national_id", "token")


def setup_django() -> None:
    bootstrap()
    from django.core.management import call_command

    call_command("migrate_tenants", verbosity=0)


def make_organization(slug: str):
    from control_plane.organizations.models import Organization
    from control_plane.organizations.services.provisioning import (
        organization_create,
        organization_provision,
    )

    drop_organization(slug)
    organization = organization_create(name="Publish benchmark", slug=slug, enqueue=False)
    return organization_provision(organization.pk) if organization else Organization


def drop_organization(slug: str) -> None:
    from django.db import connection

    from control_plane.organizations.models import Organization
    from control_plane.organizations.services import schemas

    connection.set_schema_to_public()
    for organization in Organization.objects.filter(slug=slug):
        schemas.schema_drop(organization.schema_name)
        organization.domains.all().delete()
        organization.provisioning_steps.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM organizations_platformauditevent WHERE organization_id = %s",
                [organization.pk],
            )
        organization.delete()


def scenario(server, name: str, users: int, source: bytes):
    """A project with ``users`` app users and one template assigned to all of them."""
    from tenants.publishing.models import AppUser, TemplateVariable
    from tenants.publishing.services.projects import project_create
    from tenants.publishing.services.templates import template_create
    from tenants.publishing.services.variables import project_value_set, variable_create

    project = project_create(actor=None, server=server, name=name)
    for variable_name in VARIABLES:
        variable = TemplateVariable.objects.filter(name=variable_name).first() or variable_create(
            actor=None,
            name=variable_name,
            transform="sha256" if variable_name == "national_id" else "",
        )
        project_value_set(project, variable, f"{variable_name} of {name}", actor=None)
    app_users = AppUser.objects.bulk_create(
        [AppUser(project=project, name=f"{name}_user{i:03d}") for i in range(users)]
    )
    return template_create(
        actor=None,
        project=project,
        title_base=name,
        form_id_base=name,
        source_kind="upload",
        source=source,
        app_user_ids=[a.pk for a in app_users],
    )


def timed_publish(template, fake, latency: float, pool_size: int | None) -> tuple[float, object]:
    from tenants.publishing.services.publish import publish_start
    from tenants.publishing.services.publish_job import publish_run_execute

    fake.latency = latency
    started = time.perf_counter()
    run = publish_run_execute(publish_start(template=template, actor=None).pk, pool_size=pool_size)
    elapsed = time.perf_counter() - started
    fake.latency = 0
    if run.status != "succeeded":
        raise SystemExit(f"run {run.pk} ended {run.status}: {run.error}")
    return elapsed, run


def render_median(source_bytes: bytes, samples: int) -> tuple[float, float]:
    """Median ms per variant as a publish pays it (shared conversion, with the .xlsx),
    and for a variant converted on its own by pyxform (the fallback path)."""
    from tenants.publishing.rendering import VariantSpec, load_source, render_all

    source = load_source(source_bytes)
    specs = [
        VariantSpec(
            app_user=f"user{i:03d}",
            title_base="Survey",
            form_id_base="survey",
            version="2026-01-01-v1",
            variables={v: f"{v}-{i}" for v in VARIABLES},
        )
        for i in range(samples)
    ]
    shared, alone = [], []
    for _ in range(3):
        started = time.perf_counter()
        variants, issues = render_all(source, specs)
        for variant in variants:
            variant.xlsx()
        assert not issues
        shared.append((time.perf_counter() - started) * 1000 / len(specs))
    for spec in specs[:10]:
        started = time.perf_counter()
        variants, _ = render_all(source, [spec], shared=False)
        variants[0].xlsx()
        alone.append((time.perf_counter() - started) * 1000)
    return statistics.median(shared), statistics.median(alone)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--e2e-users", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--render-samples", type=int, default=30)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.db import connection

    from tenants.publishing.services.servers import central_server_save
    from tests.fakes.central import FakeCentral
    from tests.xlsforms import two_hundred_row_form

    slug = "bench-publish"
    organization = make_organization(slug)
    fake = FakeCentral().start()
    try:
        password = secrets.token_urlsafe(16)  # a throw-away account on the fake
        fake.add_account("bench@example.org", password)
        settings.CENTRAL_ALLOWED_INTERNAL_HOSTS = [fake.base_url.split("://", 1)[1]]
        settings.CENTRAL_ALLOW_HTTP = True
        connection.set_tenant(organization)
        server = central_server_save(
            actor=None,
            name="Bench",
            base_url=fake.base_url,
            username="bench@example.org",
            password=password,
        )
        source = two_hundred_row_form(VARIABLES)
        default_pool = settings.PUBLISH_POOL_SIZE

        sequential, _ = timed_publish(
            scenario(server, "seq", args.users, source), fake, args.latency, 1
        )
        pooled, _ = timed_publish(
            scenario(server, "pool", args.users, source), fake, args.latency, default_pool
        )
        e2e_template = scenario(server, "e2e", args.e2e_users, source)
        first, _ = timed_publish(e2e_template, fake, args.latency, None)
        again, run = timed_publish(e2e_template, fake, args.latency, None)
        republished_version = run.version.version
        median_ms, alone_ms = render_median(source, args.render_samples)
    finally:
        fake.stop()
        drop_organization(slug)

    ratio = sequential / pooled
    print(
        f"Publish benchmark: fake Central at {args.latency * 1000:.0f} ms per request, 200-row form"
    )
    print(f"(a) {args.users} app users, pool 1:  {sequential:7.2f} s")
    print(
        f"    {args.users} app users, pool {default_pool}:  {pooled:7.2f} s   "
        f"ratio {ratio:.1f}x  (target >= 8x: {'met' if ratio >= 8 else 'MISSED'})"
    )
    for label, seconds in (("first publish", first), ("republish", again)):
        print(
            f"(b) {args.e2e_users} app users, {label:13s} {seconds:7.2f} s  "
            f"(target <= 9 s: {'met' if seconds <= 9 else 'MISSED'})"
        )
    print(f"    republish version {republished_version}")
    print(
        f"(c) render + validate one variant: median {median_ms:.1f} ms  "
        f"(target < 150 ms: {'met' if median_ms < 150 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
