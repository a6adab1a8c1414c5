"""Shared pytest fixtures for the whole suite (loaded with ``-p tests.plugin``).

One migrated pair of organizations (``acme`` and ``globex``) is provisioned
once per test database and reused by every test; tests roll back their own
changes. Only the provisioning tests create fresh organizations.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
os.environ.setdefault("SPARE_POOL_SIZE", "0")
os.environ.setdefault("MIGRATION_PARALLELISM", "2")
os.environ.setdefault("EMAIL_URL", "memorymail://")
# Our own channel prefix, so a test run never talks to a dev server on the same Redis.
os.environ.setdefault("REALTIME_CHANNEL_PREFIX", f"pmdm_test_{os.getpid()}")
# Files written by tests (storage prefixes, purges) go to a private folder per
# process, never to the developer's .data/media.
_MEDIA_ROOT = tempfile.mkdtemp(prefix="pmdm-test-media-")
os.environ["MEDIA_ROOT"] = _MEDIA_ROOT
atexit.register(shutil.rmtree, _MEDIA_ROOT, ignore_errors=True)
# Static files come from the apps (WhiteNoise's finders); an empty STATIC_ROOT that
# exists keeps WhiteNoise from warning, per request, that collectstatic never ran.
_STATIC_ROOT = tempfile.mkdtemp(prefix="pmdm-test-static-")
os.environ["STATIC_ROOT"] = _STATIC_ROOT
atexit.register(shutil.rmtree, _STATIC_ROOT, ignore_errors=True)

if not os.environ.get("DATABASE_URL"):
    # No server given: run on the embedded PostgreSQL like the product does.
    from control_plane.embedded_db import ensure_database

    ensure_database()


# --- processes started by tests -------------------------------------------------------


def child_process_env(**overrides: str) -> dict[str, str]:
    """The environment of a process a test starts (a worker, daphne, a command).

    Built from this process's settings object, so the child uses the same
    (test) database - over TCP or the embedded server's Unix socket alike -
    the same keys, files and channel prefix. ``overrides`` win.
    """
    from django.conf import settings
    from django.db import connection

    from control_plane.dburl import database_url

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "control_plane.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "SECRET_KEY": settings.SECRET_KEY,
        "SECRETS_MASTER_KEYS": ",".join(settings.SECRETS_MASTER_KEYS),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "STATIC_ROOT": str(settings.STATIC_ROOT),
        "BASE_DOMAIN": settings.BASE_DOMAIN,
        "REDIS_URL": settings.REDIS_URL,
        "REALTIME_CHANNEL_PREFIX": settings.REALTIME_CHANNEL_PREFIX,
        "CENTRAL_ALLOWED_INTERNAL_HOSTS": ",".join(settings.CENTRAL_ALLOWED_INTERNAL_HOSTS),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(overrides)
    return env


# --- Redis ---------------------------------------------------------------------------

REDIS_MISSING = (
    "Redis is not available: REDIS_URL is unset and redis-server is not on PATH "
    "(apt-get install redis-server); only the tests of the Redis channel layers are skipped."
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    """``REDIS_URL`` when it is set (CI), else a private ``redis-server`` on a free port.

    The server lives as long as the test session (each xdist worker has its own),
    keeps nothing on disk, and listens on loopback only. Tests that need Redis are
    skipped, with the reason above, only when there is no Redis binary at all.
    """
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(REDIS_MISSING)
    import subprocess
    import time

    import redis

    port = _free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not start: {process.stderr.read().decode()[-2000:]}"
                    ) from None
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# --- S3 ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server():
    """A fake S3 (moto's server, as strict as S3 about signatures) for the session."""
    from tests.fakes.s3 import FakeS3

    server = FakeS3().start()
    yield server
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings):
    """Switch the default storage to S3 - our own configuration - on a fresh bucket.

    Yields the bucket's name; ``s3_server.keys(bucket, prefix)`` shows what is in it.
    """
    from control_plane.s3 import s3_storage as storage_options

    bucket = f"pmdm-test-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": storage_options(
            bucket=bucket,
            endpoint_url=s3_server.endpoint_url,
            region=s3_server.region,
            access_key=s3_server.access_key,
            secret_key=s3_server.secret_key,
            url_expiry=120,
        ),
    }
    yield bucket
    s3_server.clock_offset = 0.0


# --- no outbound network ----------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_LOCAL_PREFIXES = ("127.", "::1", "localhost")


def _guard(address) -> None:
    if isinstance(address, tuple):
        host = str(address[0])
        if not host.startswith(_LOCAL_PREFIXES):
            raise OSError(f"Tests may not reach the network ({host}); use a fake in tests/fakes/.")


def _connect(self, address):
    _guard(address)
    return _real_connect(self, address)


def _connect_ex(self, address):
    _guard(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _block_outbound_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _connect_ex)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with empty rate-limit counters (all test clients share 127.0.0.1)."""
    yield
    from django.conf import settings
    from django.core.cache import caches

    caches[settings.API_THROTTLE_CACHE].clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher takes about half a second per password on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- database and tenants ---------------------------------------------------------


def ensure_organization(slug: str, name: str | None = None):
    """Get a provisioned organization, creating it if a flush removed it.

    After a transactional test flushes the public tables, the schema is still
    there, so re-provisioning finds it current and takes milliseconds.
    """
    from django.db import connection

    from control_plane.organizations.models import Organization, OrganizationStatus
    from control_plane.organizations.services.provisioning import (
        organization_create,
        organization_provision,
    )

    previous = getattr(connection, "tenant", None)
    connection.set_schema_to_public()
    try:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            organization = organization_create(name=name or slug.title(), slug=slug, enqueue=False)
        if organization.status != OrganizationStatus.ACTIVE:
            organization = organization_provision(organization.pk)
    finally:
        # Leave the connection on whatever tenant the calling fixture had set.
        if previous is not None and previous.schema_name != connection.schema_name:
            connection.set_tenant(previous)
    return organization


@pytest.fixture(scope="session")
def _session_organizations(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_organization("acme", "Acme Health")
        ensure_organization("globex", "Globex Research")


@pytest.fixture(autouse=True)
def _reset_schema():
    yield
    from django.db import connection

    connection.set_schema_to_public()


@pytest.fixture
def org_a(_session_organizations, db):
    return ensure_organization("acme", "Acme Health")


@pytest.fixture
def org_b(_session_organizations, db):
    return ensure_organization("globex", "Globex Research")


@pytest.fixture(scope="session")
def _session_spare(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from control_plane.organizations.models import SpareSchema
        from control_plane.organizations.services.spare_pool import spare_pool_fill

        # Transactional tests flush the SpareSchema table but not the schemas:
        # with --reuse-db, drop those orphans rather than pile them up.
        known = set(SpareSchema.objects.values_list("name", flat=True))
        orphans = {s for s in _committed_tenant_schemas() if s.startswith("spare_")} - known
        _drop_schemas_committed(sorted(orphans))
        spare_pool_fill(1)


@pytest.fixture
def spare_schema(_session_spare, db):
    """The name of a ready spare schema (migrating one takes about a second).

    It is committed once per session; a test that claims it does so in its own
    transaction, which the rollback undoes, so the next test finds it again.
    """
    from control_plane.organizations.models import SpareSchema, SpareSchemaStatus
    from control_plane.organizations.services import schemas
    from control_plane.organizations.services.spare_pool import spare_pool_fill

    spare = SpareSchema.objects.filter(status=SpareSchemaStatus.READY).first()
    if spare is not None and schemas.exists(spare.name):
        return spare.name
    SpareSchema.objects.all().delete()
    return spare_pool_fill(1)[0]


@pytest.fixture
def make_user(db):
    from tests.factories import UserFactory

    return UserFactory


@pytest.fixture
def member_of(db):
    """``member_of(org, role, email=None)`` → a new user holding ``role`` in ``org``."""
    from control_plane.accounts.models import Membership
    from tests.factories import UserFactory

    def make(organization, role="editor", email=None):
        user = UserFactory(**({"email": email} if email else {}))
        Membership.objects.create(user=user, organization=organization, role=role)
        return user

    return make


SESSION_SCHEMAS = frozenset({"org_acme", "org_globex"})


def _drop_schemas_committed(names) -> None:
    """Drop schemas on a connection of its own, so it works whatever state the test left."""
    from psycopg import sql

    from control_plane.organizations.services.locks import _connect

    conn = _connect()
    try:
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
    finally:
        conn.close()


def _committed_tenant_schemas() -> set[str]:
    from control_plane.organizations.services.locks import _connect

    conn = _connect()
    try:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace "
            "WHERE starts_with(nspname, 'org_') OR starts_with(nspname, 'spare_')"
        ).fetchall()
    finally:
        conn.close()
    return {row[0] for row in rows}


@pytest.fixture
def tenant_schema_cleanup(django_db_blocker):
    """Drop, at teardown, every tenant or spare schema the test committed.

    Tests in a rolled-back transaction leave nothing behind anyway; this is for
    transactional tests (and reruns with ``--reuse-db``). The two session
    organizations are never dropped.
    """
    with django_db_blocker.unblock():
        before = _committed_tenant_schemas()
    yield
    with django_db_blocker.unblock():
        created = _committed_tenant_schemas() - before - SESSION_SCHEMAS
        if created:
            _drop_schemas_committed(sorted(created))


@pytest.fixture
def new_organization(db, tenant_schema_cleanup, spare_schema):
    """``new_organization(slug=None, owner_email="", provision=True)`` → a fresh organization.

    For provisioning and lifecycle tests only; everything else reuses ``org_a``/``org_b``.
    The first one provisioned in a test claims the session's spare schema.
    """
    from control_plane.organizations.services.provisioning import (
        organization_create,
        organization_provision,
    )

    def make(slug=None, *, name=None, owner_email="", provision=True):
        slug = slug or f"t{uuid.uuid4().hex[:10]}"
        organization = organization_create(
            name=name or f"Test {slug}", slug=slug, owner_email=owner_email, enqueue=False
        )
        if provision:
            organization = organization_provision(organization.pk)
        return organization

    return make


@pytest.fixture
def replace_provisioning_step():
    """``with replace_provisioning_step(name, fn):`` runs ``fn`` in place of that step.

    ``fn(organization, original)`` gets the real step too, to crash before or
    after its work. The list entry is restored on leaving the block (and at
    teardown, whatever happened).
    """
    from contextlib import contextmanager

    from control_plane.organizations.services.provisioning import PROVISIONING_STEPS

    saved = list(PROVISIONING_STEPS)

    @contextmanager
    def replace(name, fn):
        index = [step for step, _ in PROVISIONING_STEPS].index(name)
        original = PROVISIONING_STEPS[index]
        PROVISIONING_STEPS[index] = (name, lambda organization: fn(organization, original[1]))
        try:
            yield
        finally:
            PROVISIONING_STEPS[index] = original

    yield replace
    PROVISIONING_STEPS[:] = saved


def host_of(organization) -> str:
    return organization.primary_domain


@pytest.fixture
def client_on():
    """``client_on(org_or_none, user=None)`` → a Django test client for that host."""
    from django.conf import settings
    from django.test import Client

    def make(organization=None, user=None):
        host = organization.primary_domain if organization is not None else settings.BASE_DOMAIN
        client = Client(HTTP_HOST=host)
        if user is not None:
            client.force_login(user)
        return client

    return make


def truncate_schema_tables(schema_name: str) -> None:
    """Empty every table of a tenant schema (not its migration history)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s "
            "AND tablename <> 'django_migrations'",
            [schema_name],
        )
        tables = [row[0] for row in cursor.fetchall()]
        if tables:
            names = ", ".join(f'"{schema_name}"."{table}"' for table in tables)
            cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def _committed_tenant(slug: str, name: str, django_db_blocker):
    """An organization whose data is committed (seen by other threads and processes).

    Cheaper than pytest-django's transactional tests, which flush every
    public table: we empty only this organization's schema and the job queue.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        organization = ensure_organization(slug, name)
        connection.set_tenant(organization)
        try:
            yield organization
        finally:
            connection.set_schema_to_public()
            truncate_schema_tables(organization.schema_name)
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE procrastinate_jobs RESTART IDENTITY CASCADE")


@pytest.fixture
def committed_org_a(_session_organizations, django_db_blocker):
    yield from _committed_tenant("acme", "Acme Health", django_db_blocker)


@pytest.fixture
def committed_org_b(_session_organizations, django_db_blocker):
    yield from _committed_tenant("globex", "Globex Research", django_db_blocker)


def _patch_database_discovery() -> None:
    """Make pytest-django set up the test database for tests that only use
    ``committed_org_*`` (they manage commits themselves, without its ``db`` fixture)."""
    from pytest_django import fixtures as django_fixtures

    original = django_fixtures._get_databases_for_test

    def databases_for_test(test):
        databases, serialized = original(test)
        if not databases and {"committed_org_a", "committed_org_b"} & set(
            getattr(test, "fixturenames", ())
        ):
            return ("default",), False
        return databases, serialized

    django_fixtures._get_databases_for_test = databases_for_test


_patch_database_discovery()


@pytest.fixture
def committed_user(committed_org_a):
    """A committed user account (for tests on committed data); deleted afterwards."""
    from tests.factories import UserFactory

    user = UserFactory()
    yield user
    user.delete()
