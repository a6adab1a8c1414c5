"""Fixtures for socket tests: channel layers, publish runs, credentials, socket clients.

Sockets run their database work in other threads (and, for the daphne and
worker tests, other processes), so these tests use committed data
(``django_db(transaction=True)``) and remove the tenant rows they create.
Every test gets a channel prefix of its own: Redis keys and PostgreSQL
NOTIFY channels never cross between tests or parallel test runs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator


def pytest_collection_modifyitems(config, items):
    """Every socket test is also one of the embedded checks (``-m embedded``): without
    REDIS_URL the PostgreSQL layer carries them, and the Redis ones get a private Redis."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.embedded)


def sync_db(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run sync (ORM) test set-up from an async test: ``await sync_db(member_of)(org, "editor")``."""
    return database_sync_to_async(function)


LAYERS = ["postgres", "redis"]
ALL_LAYERS = [*LAYERS, "redis-core"]


def layer_config(kind: str, prefix: str, redis_url: str = "") -> dict[str, Any]:
    """The settings' layer of each mode, with a prefix of the test's own."""
    hosts = [{"address": redis_url, "socket_timeout": 15}]
    if kind == "redis":  # production's default with Redis
        return {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": hosts, "prefix": prefix},
        }
    if kind == "redis-core":  # REALTIME_REDIS_LAYER=core
        return {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": hosts, "prefix": prefix, "capacity": 1000},
        }
    return {
        "BACKEND": "realtime.layers.PostgresChannelLayer",
        "CONFIG": {"channel": prefix, "capacity": 1000},
    }


@pytest.fixture(scope="session")
def _session_org_c(_session_organizations, django_db_blocker):
    from tests.plugin import ensure_organization

    with django_db_blocker.unblock():
        ensure_organization("initech", "Initech")


@pytest.fixture
def org_c(_session_org_c, db):
    """A third organization, for tests about many organizations at once."""
    from tests.plugin import ensure_organization

    return ensure_organization("initech", "Initech")


@pytest.fixture
def layer_kind() -> str:
    """Overridden by ``@pytest.mark.parametrize("layer_kind", LAYERS)`` in tests that care."""
    return "postgres"


@pytest.fixture
def channel_prefix() -> str:
    return f"pmdm_t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def use_layer(request, settings, layer_kind: str, channel_prefix: str) -> str:
    """Switch this test to ``layer_kind``; Redis kinds get the session's Redis (see ``redis_url``)."""
    redis_url = ""
    if layer_kind.startswith("redis"):
        redis_url = request.getfixturevalue("redis_url")
        settings.REDIS_URL = redis_url
    settings.REALTIME_CHANNEL_PREFIX = channel_prefix
    settings.CHANNEL_LAYERS = {"default": layer_config(layer_kind, channel_prefix, redis_url)}
    return layer_kind


@pytest.fixture
def ws(use_layer, monkeypatch):
    """``ws(scenario)`` runs ``async def scenario(sockets)`` and returns what it returns.

    The test itself stays sync, so its set-up is plain ORM code, and the
    scenario runs under ``async_to_sync``: the sockets' database calls then
    run on the test's own thread and connection (asgiref's thread-sensitive
    mode, the same single-thread model daphne uses), which lets tests without
    ``transaction=True`` see their uncommitted rows. Sockets left open are
    closed, and the layer's connections released, before returning.
    """
    from django.db import connection

    if connection.in_atomic_block:
        # Channels closes "old" connections around each database call; inside the
        # test's transaction that would close the connection holding it.
        monkeypatch.setattr("channels.db.close_old_connections", lambda: None)

    def run(scenario: Callable[[SocketFactory], Awaitable[Any]], timeout: float = 30) -> Any:
        async def main() -> Any:
            sockets = SocketFactory()
            try:
                return await asyncio.wait_for(scenario(sockets), timeout)
            finally:
                await sockets.close_all()
                await close_layer()

        return async_to_sync(main)()

    return run


async def close_layer() -> None:
    """Release the layer's connections in this event loop (each test has its own loop)."""
    from channels.layers import get_channel_layer

    from realtime.layers import PostgresChannelLayer

    layer = get_channel_layer()
    try:
        if isinstance(layer, PostgresChannelLayer):
            await layer.close()
        else:
            await layer.flush()
    except Exception:  # noqa: BLE001, S110 - a test that broke the layer on purpose
        pass


class SocketFactory:
    def __init__(self) -> None:
        self.communicators: list[WebsocketCommunicator] = []

    async def close_all(self) -> None:
        async def close(communicator: WebsocketCommunicator) -> None:
            try:
                await communicator.disconnect()
            except Exception:  # noqa: BLE001, S110 - already closed by the test or the server
                pass

        await asyncio.gather(*(close(c) for c in self.communicators))

    async def open(
        self,
        host: str,
        *,
        cookie: str | None = None,
        token: str | None = None,
        ticket: str | None = None,
        origin: str | None = None,
        path: str = "/ws/",
        expect_hello: bool = True,
    ) -> WebsocketCommunicator:
        from control_plane.asgi import application

        headers = [(b"host", host.encode())]
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        if cookie is not None:
            headers.append((b"cookie", cookie.encode()))
        if token is not None:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        if ticket is not None:
            path = f"{path}?ticket={ticket}"
        communicator = WebsocketCommunicator(application, path, headers=headers)
        self.communicators.append(communicator)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        if expect_hello:
            hello = await communicator.receive_json_from(timeout=5)
            assert hello["type"] == "hello", hello
        return communicator


async def close_code(communicator: WebsocketCommunicator) -> int:
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message["code"]


async def receive_until(
    communicator: WebsocketCommunicator, predicate: Callable[[dict], bool], *, timeout: float = 5
) -> list[dict]:
    """Every frame up to and including the first one matching ``predicate``."""
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        frames.append(frame)
        if predicate(frame):
            return frames


async def subscribe_run(
    communicator: WebsocketCommunicator, run_id: int, after: int | None = None
) -> list[dict]:
    """Subscribe and return the replayed events (up to the ``replayed`` frame)."""
    message: dict[str, Any] = {"v": 1, "type": "subscribe", "stream": "run", "run": run_id}
    if after is not None:
        message["after"] = after
    await communicator.send_json_to(message)
    frames = await receive_until(communicator, lambda f: f["type"] in ("replayed", "error"))
    assert frames[0]["type"] == "subscribed", frames
    return [frame["event"] for frame in frames if frame["type"] == "run.event"]


# --- tenant data ------------------------------------------------------------------------


@pytest.fixture
def runs(db):
    """``runs.make(org, run_id=None)`` → a publish run id in ``org``; removed at teardown."""
    factory = RunFactory()
    yield factory
    factory.cleanup()


class RunFactory:
    def __init__(self) -> None:
        self.made: list[tuple[str, int]] = []

    def make(self, organization, *, run_id: int | None = None) -> int:
        from django_tenants.utils import schema_context

        from tenants.publishing.models import CentralServer, FormTemplate, Project, PublishRun

        tag = uuid.uuid4().hex[:10]
        with schema_context(organization.schema_name):
            server = CentralServer.objects.create(
                name=f"Central {tag}", base_url=f"https://central-{tag}.example.org"
            )
            project = Project.objects.create(name=f"P {tag}", server=server, central_project_id=1)
            template = FormTemplate.objects.create(
                project=project,
                title_base=f"T {tag}",
                form_id_base=f"t_{tag}",
                source_kind="upload",
            )
            extra = {"pk": run_id} if run_id else {}
            run = PublishRun.objects.create(template=template, **extra)
        self.made.append((organization.schema_name, server.pk))
        return run.pk

    def cleanup(self) -> None:
        from django_tenants.utils import schema_context

        from tenants.publishing.models import CentralServer, Project

        for schema, server_id in self.made:
            with schema_context(schema):
                Project.objects.filter(server_id=server_id).delete()
                CentralServer.objects.filter(pk=server_id).delete()


def emit_events(
    schema: str, run_id: int, count: int, *, app_user: str | None = None, tag: str = ""
) -> list[int]:
    """Emit ``count`` events on a run (as a worker would); returns their ids."""
    from django_tenants.utils import schema_context

    from tenants.publishing.events import emit
    from tenants.publishing.models import PublishRun, PublishRunItem

    with schema_context(schema):
        run = PublishRun.objects.get(pk=run_id)
        item = None
        if app_user:
            item, _ = PublishRunItem.objects.get_or_create(run=run, app_user_name=app_user)
        return [
            emit(run, item=item, step="form", state="started", message=f"{tag}{i}").pk
            for i in range(count)
        ]


# --- credentials --------------------------------------------------------------------------


def host_of(organization) -> str:
    """The organization's host name (provisioning names it ``<slug>.BASE_DOMAIN``)."""
    from django.conf import settings

    return f"{organization.slug}.{settings.BASE_DOMAIN}"


def origin_of(organization) -> str:
    return f"http://{host_of(organization)}:8000"


@pytest.fixture
def session_cookie(db):
    """``session_cookie(user)`` → a ``Cookie`` header value for a logged-in session."""
    from django.conf import settings
    from django.test import Client

    def make(user) -> str:
        client = Client()
        client.force_login(user)
        return (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )

    return make


@pytest.fixture
def api_token(db, member_of):
    """``api_token(org, role="viewer")`` → (raw token, ApiToken) created by an admin of ``org``."""
    from control_plane.accounts.services.api_tokens import api_token_create

    def make(organization, role: str = "viewer", creator=None):
        creator = creator or member_of(organization, "admin")
        issued = api_token_create(
            organization=organization, actor=creator, name="sockets", role=role
        )
        return issued.secret, issued.token

    return make
