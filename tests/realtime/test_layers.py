"""Group names, the embedded PostgreSQL layer, sending from sync code, and the health check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from realtime.groups import org_group, run_group, schema_of
from realtime.services import SeenEvents
from tests.realtime.conftest import ALL_LAYERS

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


@pytest.mark.django_db(transaction=True)
def test_large_messages_travel_through_the_overflow_table(ws, settings):
    """NOTIFY payloads stop at 8000 bytes; a bigger message goes by reference."""
    from channels.layers import get_channel_layer

    from realtime.layers import group_send_from_sync
    from realtime.models import OverflowMessage
    from tests.realtime.conftest import sync_db

    big = {"type": "test.big", "text": "é" * 9000}

    async def scenario(sockets):
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(org_group("org_acme"), channel)
        await sync_db(group_send_from_sync)(org_group("org_acme"), big)
        await sync_db(group_send_from_sync)(org_group("org_acme"), {"type": "test.small"})
        return [await layer.receive(channel), await layer.receive(channel)]

    assert ws(scenario) == [big, {"type": "test.small"}]
    assert OverflowMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("layer_kind", ALL_LAYERS)
def test_realtime_health_round_trips_through_the_layer(ws, layer_kind):
    from channels.testing import HttpCommunicator

    from control_plane.asgi import application

    async def scenario(sockets):
        communicator = HttpCommunicator(
            application, "GET", "/healthz/realtime", headers=[(b"host", b"anything.example.com")]
        )
        return await communicator.get_response(timeout=5)

    response = ws(scenario)

    assert response["status"] == 200
    body = __import__("json").loads(response["body"])
    assert body["status"] == "ok"
    assert body["checks"]["channel_layer"]["ok"] is True
    backends = {
        "postgres": "PostgresChannelLayer",
        "redis": "RedisPubSubChannelLayer",
        "redis-core": "RedisChannelLayer",
    }
    assert body["checks"]["channel_layer"]["backend"] == backends[layer_kind]


@pytest.mark.django_db
def test_realtime_health_reports_a_broken_layer(ws, settings):
    from channels.testing import HttpCommunicator

    from control_plane.asgi import application

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": "redis://127.0.0.1:1/0", "socket_timeout": 2}]
            },  # nothing listens on port 1
        }
    }

    async def scenario(sockets):
        communicator = HttpCommunicator(application, "GET", "/healthz/realtime")
        return await communicator.get_response(timeout=10)

    response = ws(scenario)

    assert response["status"] == 503
    assert b'"ok": false' in response["body"]


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
            "PYTHONPATH": f"{ROOT}/platform:{ROOT}",
        }
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip().splitlines()[-1] == backend, (redis_url, flavour)
