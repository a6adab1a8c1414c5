#!/usr/bin/env python
"""Benchmark: publish events from a worker process to many sockets of many organizations.

500 WebSocket clients (``--sockets``) spread over 50 organizations
(``--orgs``) connect to real daphne servers running
``control_plane.asgi:application``, authenticate with an API token and
subscribe to a publish run of their organization. A separate worker process
then emits 10 000 events (``--events``) through ``tenants.publishing.events.emit``
- stored, then sent by the realtime sinks through the channel layer - at a
steady rate (``--rate`` per second), round-robin over every run of every
organization. Each event carries its organization and the wall-clock time
of the ``emit`` call.

It prints delivered events per second (socket deliveries over the time from
the first emit to the last receipt), p50/p99/max latency from ``emit`` to
receipt by the client, and checks that every socket received exactly the
events of its own run - none lost, none duplicated, zero from another
organization. Target on the 2-core reference machine with Redis: p99 under
100 ms. Exit status is 0 when the checks and the target pass.

Run it against a database of its own; the organizations (``rtb-00`` ...)
are provisioned on the first run (a few seconds each) and reused after, and
the runs, events and tokens a run creates are removed at the end::

    psql -h 127.0.0.1 -U postgres -c 'create database pmdm_realtime_bench'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmdm_realtime_bench \\
    REDIS_URL=redis://127.0.0.1:6379/7 uv run python benchmarks/realtime.py

Without ``REDIS_URL`` it measures the embedded mode (PostgreSQL LISTEN/NOTIFY).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG_PREFIX = "rtb-"
TARGET_P99_MS = 100.0


def setup_django() -> None:
    """Start Django like ``manage.py`` (quiet logs, no mail), away from sibling benchmarks."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    sys.path.insert(0, str(ROOT / "platform"))
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("EMAIL_URL", "memorymail://")
    if not os.environ.get("DATABASE_URL"):
        from control_plane.embedded_db import ensure_database

        ensure_database()
    import django

    django.setup()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- setup (driver process) -----------------------------------------------------------------


def prepare(orgs: int, runs_per_org: int) -> tuple[list[dict], list]:
    """Organizations (made once, reused), a token each, and fresh runs; returns targets."""
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from control_plane.accounts.models import Membership, User
    from control_plane.accounts.services.api_tokens import api_token_create
    from control_plane.organizations.models import Organization, OrganizationStatus
    from control_plane.organizations.services.provisioning import (
        organization_create,
        organization_provision,
    )
    from tenants.publishing.models import CentralServer, FormTemplate, Project, PublishRun

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    owner, _ = User.objects.get_or_create(email="bench-owner@rtb.example.com")
    targets, cleanups = [], []
    tag = uuid.uuid4().hex[:8]
    for index in range(orgs):
        slug = f"{SLUG_PREFIX}{index:02d}"
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            print(f"  provisioning {slug} (first run only)", flush=True)
            organization = organization_create(name=f"Bench {slug}", slug=slug, enqueue=False)
        if organization.status != OrganizationStatus.ACTIVE:
            organization = organization_provision(organization.pk)
        Membership.objects.get_or_create(
            user=owner, organization=organization, defaults={"role": "owner"}
        )
        issued = api_token_create(
            organization=organization, actor=owner, name=f"bench {tag}", role="viewer"
        )
        cleanups.append(issued.token)
        with schema_context(organization.schema_name):
            server = CentralServer.objects.create(
                name=f"bench {tag}", base_url=f"https://bench-{tag}.example.org"
            )
            project = Project.objects.create(name="bench", server=server, central_project_id=1)
            for r in range(runs_per_org):
                template = FormTemplate.objects.create(
                    project=project,
                    title_base=f"bench {r}",
                    form_id_base=f"b{r}",
                    source_kind="upload",
                )
                run = PublishRun.objects.create(template=template, status="running")
                targets.append(
                    {
                        "schema": organization.schema_name,
                        "run": run.pk,
                        "host": organization.primary_domain,
                        "token": issued.secret,
                    }
                )
        cleanups.append((organization.schema_name, server.pk))
    return targets, cleanups


def cleanup(cleanups: list) -> None:
    from django_tenants.utils import schema_context

    from control_plane.accounts.models import ApiToken
    from tenants.publishing.models import CentralServer, Project

    for item in cleanups:
        if isinstance(item, ApiToken):
            ApiToken.objects.filter(pk=item.pk).delete()
            continue
        schema, server_id = item
        with schema_context(schema):
            Project.objects.filter(server_id=server_id).delete()  # runs and events cascade
            CentralServer.objects.filter(pk=server_id).delete()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_servers(count: int, env: dict) -> tuple[list[subprocess.Popen], list[int]]:
    import urllib.request

    ports = [free_port() for _ in range(count)]
    servers = [
        subprocess.Popen(
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
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for port in ports
    ]
    deadline = time.monotonic() + 90
    try:
        for port in ports:
            while True:
                try:
                    url = f"http://127.0.0.1:{port}/healthz/realtime"
                    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310
                        if answer.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"daphne on {port} did not start") from None
                    time.sleep(0.2)
    except BaseException:
        stop_servers(servers)
        raise
    return servers, ports


def stop_servers(servers: list[subprocess.Popen]) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


# --- client process -----------------------------------------------------------------------


async def client_main(spec: dict) -> dict:
    """Open every socket, subscribe, report ready, then record every frame until done."""
    from websockets.asyncio.client import connect

    sockets: list[dict] = spec["sockets"]
    latencies: list[float] = []
    timeline: list[tuple[float, float]] = []
    crossed = wrong_run = duplicates = 0
    received = defaultdict(list)
    last_receipt = 0.0
    limiter = asyncio.Semaphore(20)  # a ramp, not a thundering herd (setup, not measured)

    async def one(index: int, target: dict) -> None:
        nonlocal crossed, wrong_run, duplicates, last_receipt
        url = f"ws://{target['host']}:{target['port']}/ws/"
        async with limiter:
            ws = await connect(
                url,
                host="127.0.0.1",
                port=target["port"],
                open_timeout=60,
                additional_headers={"Authorization": f"Bearer {target['token']}"},
                max_queue=None,
            )
            await ws.recv()  # hello
            await ws.send(
                json.dumps({"v": 1, "type": "subscribe", "stream": "run", "run": target["run"]})
            )
            while json.loads(await ws.recv())["type"] != "replayed":
                pass
        ready.append(index)
        try:
            async for raw in ws:
                now = time.time()
                frame = json.loads(raw)
                if frame.get("type") != "run.event":
                    continue
                event = frame["event"]
                data = event["data"]
                if data.get("org") != target["schema"]:
                    crossed += 1
                if event["run"] != target["run"]:
                    wrong_run += 1
                if event["id"] in received[index]:
                    duplicates += 1
                received[index].append(event["id"])
                latencies.append((now - data["t"]) * 1000)
                timeline.append((data["t"], now))
                last_receipt = now
        finally:
            await ws.close()

    ready: list[int] = []
    tasks = [asyncio.create_task(one(i, t)) for i, t in enumerate(sockets)]
    while len(ready) < len(sockets):
        await asyncio.sleep(0.05)
        for task in tasks:
            if task.done() and task.exception():
                raise task.exception()
    print("READY", flush=True)
    expected = spec["expected_total"]
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)  # the driver says "emitted all"
    await stdin_closed
    deadline = time.monotonic() + spec["drain_seconds"]
    while len(latencies) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "latencies": latencies,
        "crossed": crossed,
        "wrong_run": wrong_run,
        "duplicates": duplicates,
        "last_receipt": last_receipt,
        "received": {str(k): v for k, v in received.items()},
        "timeline": timeline,
    }


# --- worker process -----------------------------------------------------------------------


def worker_main(spec: dict) -> None:
    """Emit the events like a job worker: ``emit`` per event, paced, over a thread pool."""
    setup_django()
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django_tenants.utils import schema_context

    from realtime.groups import health_group
    from realtime.layers import group_send_from_sync
    from tenants.publishing.events import emit
    from tenants.publishing.models import PublishRun

    targets = spec["runs"]
    events, rate, threads = spec["events"], spec["rate"], spec["threads"]
    runs = {}
    for target in targets:
        with schema_context(target["schema"]):
            runs[(target["schema"], target["run"])] = PublishRun.objects.get(pk=target["run"])
    emitted: dict[str, list[int]] = defaultdict(list)
    started = time.time()

    def emit_one(index: int) -> tuple[str, int]:
        target = targets[index % len(targets)]
        due = started + index / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        run = runs[(target["schema"], target["run"])]
        with schema_context(target["schema"]):  # each pool thread keeps its own connection
            event = emit(
                run,
                step="form",
                state="started",
                message=f"e{index}",
                data={"t": time.time(), "org": target["schema"]},
            )
        return f"{target['schema']}:{target['run']}", event.pk

    def warm_up(barrier: threading.Barrier) -> None:
        """Open this thread's database connection and the layer's before the clock starts."""
        connection.ensure_connection()
        group_send_from_sync(health_group(uuid.uuid4().hex), {"type": "bench.warm"})
        barrier.wait()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        barrier = threading.Barrier(threads)
        list(pool.map(warm_up, [barrier] * threads))
        started = time.time()
        for key, event_id in pool.map(emit_one, range(events)):
            emitted[key].append(event_id)
    print(json.dumps({"started": started, "finished": time.time(), "emitted": emitted}))


# --- driver ---------------------------------------------------------------------------------


def run_benchmark(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings
    from django.db import connection

    layer = "redis" if os.environ.get("REDIS_URL") else "postgres"
    print(
        f"database {connection.settings_dict['NAME']}; channel layer: {layer}; "
        f"{args.servers} daphne server(s); {os.cpu_count()} CPUs",
        flush=True,
    )
    started = time.perf_counter()
    targets, cleanups = prepare(args.orgs, args.runs_per_org)
    print(
        f"setup: {len(targets)} runs in {args.orgs} organizations "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    env = {
        **os.environ,
        "SECRET_KEY": settings.SECRET_KEY,
        "REALTIME_CHANNEL_PREFIX": f"rtb{uuid.uuid4().hex[:8]}",
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
        "LOG_LEVEL": "WARNING",
        # Keep database connections between socket calls, as a production deploy would.
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
    }
    servers, ports = start_servers(args.servers, env)
    spec_dir = Path(tempfile.mkdtemp(prefix="rtb-"))
    try:
        sockets = [
            {**targets[i % len(targets)], "port": ports[i % len(ports)]}
            for i in range(args.sockets)
        ]
        per_target = defaultdict(int)
        for target in sockets:
            per_target[(target["schema"], target["run"])] += 1
        expected_total = sum(
            per_target[(t["schema"], t["run"])]
            for t in (targets[i % len(targets)] for i in range(args.events))
        )
        client_spec = spec_dir / f"rtb-client-{uuid.uuid4().hex}.json"
        client_spec.write_text(
            json.dumps({"sockets": sockets, "expected_total": expected_total, "drain_seconds": 30})
        )
        worker_spec = spec_dir / f"rtb-worker-{uuid.uuid4().hex}.json"
        worker_spec.write_text(
            json.dumps(
                {"runs": targets, "events": args.events, "rate": args.rate, "threads": args.threads}
            )
        )
        me = [sys.executable, str(Path(__file__).resolve())]
        client = subprocess.Popen(
            [*me, "--role", "client", "--spec", str(client_spec)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        opening = time.perf_counter()
        assert client.stdout.readline().strip() == "READY", "the client failed to connect"
        print(
            f"{args.sockets} sockets connected and subscribed in "
            f"{time.perf_counter() - opening:.1f} s",
            flush=True,
        )
        worker = subprocess.run(
            [*me, "--role", "worker", "--spec", str(worker_spec)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        emitted = json.loads(worker.stdout.strip().splitlines()[-1])
        out, _ = client.communicate(input="", timeout=120)
        received = json.loads(out.strip().splitlines()[-1])
    finally:
        stop_servers(servers)
        cleanup(cleanups)
        shutil.rmtree(spec_dir, ignore_errors=True)
    return report(args, sockets, emitted, received, expected_total)


def report(args, sockets, emitted, received, expected_total) -> int:
    latencies = received["latencies"]
    if os.environ.get("RTB_DUMP"):
        Path(os.environ["RTB_DUMP"]).write_text(json.dumps(received["timeline"]))
    missing = 0
    for index, target in enumerate(sockets):
        want = emitted["emitted"].get(f"{target['schema']}:{target['run']}", [])
        got = received["received"].get(str(index), [])
        if got != want:
            missing += len(set(want) - set(got))
    elapsed = max(received["last_receipt"], emitted["finished"]) - emitted["started"]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    ok_latency = p99 < TARGET_P99_MS
    checks_ok = (
        received["crossed"] == 0
        and received["wrong_run"] == 0
        and received["duplicates"] == 0
        and missing == 0
        and len(latencies) == expected_total
    )
    emit_rate = args.events / (emitted["finished"] - emitted["started"])
    print()
    print(f"events emitted        {args.events} at {emit_rate:.0f}/s (target rate {args.rate}/s)")
    print(
        f"deliveries            {len(latencies)} of {expected_total} expected "
        f"({expected_total / args.events:.1f} sockets per event)"
    )
    print(f"delivered per second  {len(latencies) / elapsed:.0f}")
    print(
        f"latency emit→receipt  p50 {p50:.1f} ms   p99 {p99:.1f} ms   "
        f"max {max(latencies, default=float('nan')):.1f} ms   "
        f"({'meets' if ok_latency else 'MISSES'} p99 < {TARGET_P99_MS:.0f} ms)"
    )
    print(
        f"crossed organizations {received['crossed']}   wrong run {received['wrong_run']}   "
        f"duplicates {received['duplicates']}   missing {missing}   "
        f"({'ok' if checks_ok else 'FAILED'})"
    )
    return 0 if checks_ok and ok_latency else 1


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument(
        "--runs-per-org",
        type=int,
        default=5,
        help="runs followed per organization (sockets share them evenly)",
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500, help="events emitted per second")
    parser.add_argument("--threads", type=int, default=8, help="emitting threads in the worker")
    parser.add_argument("--servers", type=int, default=1, help="daphne processes")
    parser.add_argument("--role", choices=["driver", "client", "worker"], default="driver")
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.role == "client":
        spec = json.loads(Path(args.spec).read_text())
        print(json.dumps(asyncio.run(client_main(spec))), flush=True)
        return 0
    if args.role == "worker":
        worker_main(json.loads(Path(args.spec).read_text()))
        return 0
    return run_benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
