"""Group names, the embedded PostgreSQL layer, sending from sync code, and the health check."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import pytest_asyncio

from realtime.groups import org_group, run_group, schema_of
from realtime.services import SeenEvents
from tests.realtime.conftest import ALL_LAYERS, close_layer, sync_db

ROOT = Path(__file__).resolve().parents[2]


def test_group_names_carry_the_schema():
    assert run_group("org_acme", 42) == "t.org_acme.run.42"
    assert org_group("org_acme") == "t.org_acme.org"
    assert schema_of(run_group("org_acme", 42)) == "org_acme"
    for bad in ("public", "Org", "org acme", "org.acme", "", None):
        with pytest.raises(ValueError):
            org_group(bad)
    for bad_id in (0, -1, "42", True, 2**63):
        with pytest.raises(ValueError):
            run_group("org_acme", bad_id)


def test_no_code_composes_group_names_by_hand():
    """Only realtime/groups.py may spell ``t.<schema>...``; everything else calls it."""
    hand_made = re.compile(r"""f?["']t\.\{|["']t\.["']\s*\+|\.run\.\{""")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("realtime", "tenants", "platform", "frontend", "api")
        if (ROOT / folder).exists()
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "groups.py" and hand_made.search(path.read_text())
    ]
    assert offenders == []


def test_seen_events_drop_duplicates_but_not_late_lower_ids():
    seen = SeenEvents(after=10, limit=4)

    assert [seen.add(i) for i in (10, 12, 11, 12, 13)] == [False, True, True, False, True]
    assert seen.last == 13
    for i in range(14, 20):
        seen.add(i)
    assert seen.floor > 10 and not seen.add(seen.floor) and seen.add(25)


@pytest_asyncio.fixture
async def layer(use_layer):
    """The configured layer, its connections released in this test's event loop at the end."""
    from channels.layers import get_channel_layer

    yield get_channel_layer()
    await close_layer()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("layer_kind", ALL_LAYERS)
async def test_sync_senders_reach_async_receivers(layer, layer_kind):
    """What a worker sends from sync code arrives, in order, even past NOTIFY's 8000 bytes."""
    from realtime.layers import group_send_from_sync

    channel = await layer.new_channel()
    await layer.group_add(org_group("org_acme"), channel)
    big = {"type": "test.big", "text": "é" * 9000}
    await sync_db(group_send_from_sync)(org_group("org_acme"), big)
    await sync_db(group_send_from_sync)(org_group("org_acme"), {"type": "test.small"})
    await sync_db(group_send_from_sync)(org_group("org_globex"), {"type": "test.other"})

    received = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(2)]

    assert received == [big, {"type": "test.small"}]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.3)


@pytest.mark.django_db(transaction=True)
def test_large_notifications_are_stored_once_and_swept(use_layer):
    from realtime.layers import group_send_from_sync
    from realtime.models import OverflowMessage

    group_send_from_sync(org_group("org_acme"), {"type": "test.big", "text": "x" * 9000})

    assert OverflowMessage.objects.count() == 1


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("layer_kind", ALL_LAYERS)
async def test_realtime_health_round_trips_through_the_layer(layer, layer_kind):
    from channels.testing import HttpCommunicator

    from control_plane.asgi import application

    communicator = HttpCommunicator(
        application, "GET", "/healthz/realtime", headers=[(b"host", b"anything.example.com")]
    )
    response = await communicator.get_response(timeout=5)

    assert response["status"] == 200
    body = json.loads(response["body"])
    assert body["status"] == "ok"
    assert body["checks"]["channel_layer"]["ok"] is True
    backends = {
        "postgres": "PostgresChannelLayer",
        "redis": "RedisPubSubChannelLayer",
        "redis-core": "RedisChannelLayer",
    }
    assert body["checks"]["channel_layer"]["backend"] == backends[layer_kind]


@pytest.mark.asyncio
async def test_realtime_health_reports_a_broken_layer(layer, settings):
    from channels.testing import HttpCommunicator

    from control_plane.asgi import application

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Nothing listens on port 1.
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_timeout": 2}]},
        }
    }

    response = await HttpCommunicator(application, "GET", "/healthz/realtime").get_response(10)

    assert response["status"] == 503
    assert json.loads(response["body"])["checks"]["channel_layer"]["ok"] is False


def test_settings_choose_the_layer_from_the_environment():
    import os
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='control_plane.settings';"
        "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['BACKEND'])"
    )
    cases = {
        ("", ""): "realtime.layers.PostgresChannelLayer",
        ("redis://127.0.0.1:6379/9", ""): "channels_redis.pubsub.RedisPubSubChannelLayer",
        ("redis://127.0.0.1:6379/9", "core"): "channels_redis.core.RedisChannelLayer",
    }
    for (redis_url, flavour), backend in cases.items():
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "REALTIME_REDIS_LAYER": flavour or "pubsub",
        }
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip().splitlines()[-1] == backend, (redis_url, flavour)


def test_a_bad_channel_prefix_stops_start_up_naming_the_allowed_characters():
    """Checked when settings load (every process), not when the first socket connects."""
    import os
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='control_plane.settings';"
        "django.setup(); from django.conf import settings;"
        "print(settings.CHANNEL_LAYERS['default']['CONFIG'])"
    )
    base = {**os.environ, "REDIS_URL": ""}
    for bad in ("pmdm-test-123", "Pmdm", "1pmdm", "p" * 42):
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={**base, "REALTIME_CHANNEL_PREFIX": bad},
            capture_output=True,
            text=True,
        )
        assert result.returncode != 0, bad
        assert "ImproperlyConfigured" in result.stderr, bad
        assert "REALTIME_CHANNEL_PREFIX" in result.stderr, bad
        assert "lowercase letters a-z, digits 0-9 and underscores" in result.stderr, bad
    for good in ("pmdm_test_4242", "p" * 41):
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={**base, "REALTIME_CHANNEL_PREFIX": good},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert f"'channel': '{good}'" in result.stdout


def test_a_replaced_sender_loop_closes_and_releases_its_redis_connections(
    settings, redis_url, channel_prefix
):
    """Sync senders on the list layer use a loop thread; replacing the layer ends it cleanly."""
    from realtime import layers
    from tests.realtime.conftest import layer_config

    settings.CHANNEL_LAYERS = {"default": layer_config("redis-core", channel_prefix, redis_url)}
    layers.group_send_from_sync(org_group("org_acme"), {"type": "test.ping"})
    sender = layers._sender[1]
    assert isinstance(sender, layers._SenderLoop)
    loop_layer = sender.layer._layers[sender.loop]  # channels-redis' per-loop connections
    assert loop_layer._connections

    settings.CHANNEL_LAYERS = {"default": layer_config("postgres", channel_prefix)}

    assert not sender.thread.is_alive()
    assert sender.loop.is_closed()
    assert loop_layer._connections == {}
