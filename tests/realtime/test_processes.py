"""End to end across processes: a real daphne server, a real WebSocket client, a worker process.

The server and the worker are separate processes sharing only the database
and the channel layer, as in production (Redis) and in the embedded default
(PostgreSQL LISTEN/NOTIFY). The browser's path is followed exactly: a ticket
from ``POST /realtime/ticket/`` over HTTP with the session cookie, then a
socket with that ticket and the organization's ``Origin``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.plugin import child_process_env
from tests.realtime.conftest import LAYERS, host_of, origin_of

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def process_env(layer_kind: str, prefix: str) -> dict[str, str]:
    from django.conf import settings

    return child_process_env(
        REALTIME_CHANNEL_PREFIX=prefix,
        REDIS_URL=settings.REDIS_URL if layer_kind == "redis" else "",
        LOG_LEVEL="WARNING",
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(port: int, method: str, path: str, host: str, headers: dict | None = None):
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL on loopback
        f"http://127.0.0.1:{port}{path}",
        method=method,
        headers={"Host": host, **(headers or {})},
        data=b"" if method == "POST" else None,
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.status, json.loads(response.read())


@pytest.fixture
def worker(use_layer, channel_prefix):
    """A worker process, started before the server so that both boot at once."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "realtime" / "worker_emit.py")],
        env=process_env(use_layer, channel_prefix),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    yield process
    process.kill()
    process.wait(timeout=10)


@pytest.fixture
def daphne(use_layer, channel_prefix):
    """A daphne server process serving ``control_plane.asgi:application``; yields its port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "control_plane.asgi:application",
        ],
        cwd=ROOT,
        env=process_env(use_layer, channel_prefix),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http(port, "GET", "/healthz/realtime", "publishmdm.localhost")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"daphne did not start: {process.stderr.read().decode()[-3000:]}"
                )
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
        print(errors.decode()[-5000:])  # shown by pytest when the test fails


@pytest.mark.parametrize("layer_kind", LAYERS)
def test_browser_flow_through_daphne_with_events_from_a_worker_process(
    worker, daphne, layer_kind, org_a, runs, member_of, session_cookie
):
    port = daphne
    run_id = runs.make(org_a)
    user = member_of(org_a, "editor")
    csrf = "c" * 32
    cookie = f"{session_cookie(user)}; csrftoken={csrf}"

    status, body = http(
        port,
        "POST",
        "/realtime/ticket/",
        host_of(org_a),
        {"Cookie": cookie, "X-CSRFToken": csrf, "Origin": origin_of(org_a)},
    )
    assert status == 200
    health = http(port, "GET", "/healthz/realtime", host_of(org_a))[1]
    assert (
        health["checks"]["channel_layer"]["backend"]
        == {
            "postgres": "PostgresChannelLayer",
            "redis": "RedisPubSubChannelLayer",
        }[layer_kind]
    )

    async def browser() -> tuple[list[dict], list[int]]:
        url = f"ws://{host_of(org_a)}:{port}/ws/?ticket={body['ticket']}"
        async with connect(
            url, host="127.0.0.1", port=port, origin=origin_of(org_a), subprotocols=["pmdm.v1"]
        ) as ws:
            hello = json.loads(await ws.recv())
            assert (hello["auth"], hello["user"]) == ("ticket", user.pk)
            await ws.send(json.dumps({"v": 1, "type": "subscribe", "stream": "run", "run": run_id}))
            assert json.loads(await ws.recv())["type"] == "subscribed"
            assert json.loads(await ws.recv())["type"] == "replayed"
            assert worker.stdout.readline().strip() == "ready"
            order = {"schema": org_a.schema_name, "run": run_id, "count": 5}
            worker.stdin.write(json.dumps(order) + "\n")
            worker.stdin.flush()
            frames = [json.loads(await asyncio.wait_for(ws.recv(), 30)) for _ in range(5)]
            output = await asyncio.to_thread(worker.stdout.readline)
            return frames, json.loads(output)

    async def refused(**options) -> int:
        url = f"ws://{host_of(org_a)}:{port}/ws/"
        async with connect(url, host="127.0.0.1", port=port, **options) as ws:
            await ws.wait_closed()
            return ws.close_code

    frames, emitted = asyncio.run(browser())
    assert asyncio.run(refused()) == 4401
    assert (
        asyncio.run(
            refused(origin="http://evil.example.com", additional_headers={"Cookie": cookie})
        )
        == 4406
    )

    assert [f["event"]["id"] for f in frames] == emitted
    assert [f["event"]["message"] for f in frames] == [f"worker-{i}" for i in range(5)]
