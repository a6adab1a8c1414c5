#!/usr/bin/env python
"""Benchmark: publish events from a worker process to many sockets of many organizations.

500 WebSocket clients (``--sockets``) over 50 organizations (``--orgs``) connect
to a real daphne server running ``control_plane.asgi:application``,
authenticate with an API token and subscribe to a publish run of their
organization (5 runs per organization, so each run has 2 followers). A
separate worker process then emits 10 000 events (``--events``) with
``tenants.publishing.events.emit`` - stored, then sent by the realtime sinks
through the channel layer - at a steady ``--rate`` per second over 8 threads,
round-robin over every run. Each event carries its organization and the
wall-clock time at which ``emit`` was called.

Printed: delivered events per second (socket deliveries from the first emit
to the last receipt), p50/p99/max latency from ``emit`` to receipt by the
client (so it includes the database insert), p99 per quarter of the run with
the load average (this machine is shared; a noisy neighbour shows up as one
bad quarter), and the check that every socket received exactly its own run's
events, in order: none missing, none twice, zero from another organization.
Target on the 2-core reference machine with Redis: p99 under 100 ms. Exit
status 0 when the checks and the target pass.

Use a database of its own. The organizations (``rtb-00`` ...) are
provisioned on the first run (a few seconds each) and reused; the runs,
events and tokens of a run are removed at its end::

    psql -h 127.0.0.1 -U postgres -c 'create database pmdm_realtime_bench'
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmdm_realtime_bench \\
    REDIS_URL=redis://127.0.0.1:6379/7 uv run python -m benchmarks.realtime

Without ``REDIS_URL`` it measures the embedded mode (PostgreSQL LISTEN/NOTIFY).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path

from benchmarks._bootstrap import percentile
from benchmarks._bootstrap import setup_django as bootstrap

ROOT = Path(__file__).resolve().parents[1]

SLUG_PREFIX = "rtb-"
TARGET_P99_MS = 100.0


def setup_django() -> None:
    bootstrap()


# --- setup (driver process) -----------------------------------------------------------------


def prepare(orgs: int, runs_per_org: int) -> tuple[list[dict], list]:
    """Organizations (made once, reused), a token each, fresh runs; returns (targets, cleanups)."""
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from control_plane.accounts.models import Membership, User
    from control_plane.accounts.services.api_tokens import api_token_create
    from control_plane.organizations.models import Organization, OrganizationStatus
    from control_plane.organizations.services import provisioning
    from tenants.publishing.models import CentralServer, FormTemplate, Project, PublishRun

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    owner, _ = User.objects.get_or_create(email="bench-owner@rtb.example.com")
    targets, cleanups, tag = [], [], uuid.uuid4().hex[:8]
    for index in range(orgs):
        slug = f"{SLUG_PREFIX}{index:02d}"
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            print(f"  provisioning {slug} (first run only)", flush=True)
            organization = provisioning.organization_create(
                name=f"Bench {slug}", slug=slug, enqueue=False
            )
        if organization.status != OrganizationStatus.ACTIVE:
            organization = provisioning.organization_provision(organization.pk)
        Membership.objects.get_or_create(
            user=owner, organization=organization, defaults={"role": "owner"}
        )
        issued = api_token_create(
            organization=organization, actor=owner, name=f"bench {tag}", role="viewer"
        )
        cleanups.append(("token", issued.token.pk))
        host = organization.primary_domain
        with schema_context(organization.schema_name):
            server = CentralServer.objects.create(
                name=f"bench {tag}", base_url=f"https://bench-{tag}.example.org"
            )
            cleanups.append((organization.schema_name, server.pk))
            project = Project.objects.create(name="bench", server=server, central_project_id=1)
            for r in range(runs_per_org):
                template = FormTemplate.objects.create(
                    project=project, title_base=f"b{r}", form_id_base=f"b{r}", source_kind="upload"
                )
                run = PublishRun.objects.create(template=template, status="running")
                targets.append(
                    {"schema": organization.schema_name, "run": run.pk, "host": host,
                     "token": issued.secret}
                )  # fmt: skip
    return targets, cleanups


def cleanup(cleanups: list) -> None:
    from django_tenants.utils import schema_context

    from control_plane.accounts.models import ApiToken
    from tenants.publishing.models import CentralServer, Project

    for where, pk in cleanups:
        if where == "token":
            ApiToken.objects.filter(pk=pk).delete()
            continue
        with schema_context(where):
            Project.objects.filter(server_id=pk).delete()  # runs and events cascade
            CentralServer.objects.filter(pk=pk).delete()


def start_servers(count: int, env: dict) -> tuple[list[subprocess.Popen], list[int]]:
    ports = []
    for _ in range(count):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p"]
    app = "control_plane.asgi:application"
    servers = [
        subprocess.Popen([*command, str(p), app], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        for p in ports
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
        server.send_signal(signal.SIGINT)
    for server in servers:
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


# --- client process -------------------------------------------------------------------------


async def client_main(spec: dict) -> dict:
    """Open every socket and subscribe, say READY, record frames until stdin closes + drain."""
    from websockets.asyncio.client import connect

    received: dict[int, list[int]] = defaultdict(list)
    timeline: list[tuple[float, float]] = []  # (emitted at, received at)
    problems = {"crossed": 0, "wrong_run": 0, "duplicates": 0}
    ready: list[int] = []
    ramp = asyncio.Semaphore(20)  # connecting is set-up, not measured

    async def one(index: int, target: dict) -> None:
        async with ramp:
            ws = await connect(
                f"ws://{target['host']}:{target['port']}/ws/", host="127.0.0.1",
                port=target["port"], open_timeout=60, max_queue=None,
                additional_headers={"Authorization": f"Bearer {target['token']}"},
            )  # fmt: skip
            await ws.recv()  # hello
            subscribe = {"v": 1, "type": "subscribe", "stream": "run", "run": target["run"]}
            await ws.send(json.dumps(subscribe))
            while json.loads(await ws.recv())["type"] != "replayed":
                pass
        ready.append(index)
        async for raw in ws:
            now = time.time()
            frame = json.loads(raw)
            event = frame["event"]
            problems["crossed"] += event["data"]["org"] != target["schema"]
            problems["wrong_run"] += event["run"] != target["run"]
            problems["duplicates"] += event["id"] in received[index]
            received[index].append(event["id"])
            timeline.append((event["data"]["t"], now))

    tasks = [asyncio.create_task(one(i, t)) for i, t in enumerate(spec["sockets"])]
    while len(ready) < len(tasks):
        await asyncio.sleep(0.05)
        failed = [task for task in tasks if task.done() and task.exception()]
        if failed:
            raise failed[0].exception()
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    deadline = time.monotonic() + 30
    while len(timeline) < spec["expected"] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {**problems, "timeline": timeline, "received": received}


# --- worker process -------------------------------------------------------------------------


def worker_main(spec: dict) -> dict:
    """Emit like a job worker: ``emit`` per event, paced to the rate, over a thread pool."""
    setup_django()
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django_tenants.utils import schema_context

    from realtime.groups import health_group
    from realtime.layers import group_send_from_sync
    from tenants.publishing.events import emit
    from tenants.publishing.models import PublishRun

    targets, events, rate = spec["runs"], spec["events"], spec["rate"]
    runs = {}
    for target in targets:
        with schema_context(target["schema"]):
            runs[target["run"], target["schema"]] = PublishRun.objects.get(pk=target["run"])

    def warm_up(barrier: threading.Barrier) -> None:
        """Open this thread's database connection, and the layer's, before the clock starts."""
        connection.ensure_connection()
        group_send_from_sync(health_group(uuid.uuid4().hex), {"type": "bench.warm"})
        barrier.wait()

    def emit_one(index: int) -> tuple[str, int]:
        target = targets[index % len(targets)]
        delay = started + index / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        run = runs[target["run"], target["schema"]]
        with schema_context(target["schema"]):
            data = {"t": time.time(), "org": target["schema"]}
            return f"{target['schema']}:{target['run']}", emit(
                run, step="form", state="started", message=f"e{index}", data=data
            ).pk

    emitted: dict[str, list[int]] = defaultdict(list)
    with ThreadPoolExecutor(max_workers=spec["threads"]) as pool:
        barrier = threading.Barrier(spec["threads"])
        list(pool.map(warm_up, [barrier] * spec["threads"]))
        started = time.time()
        for key, event_id in pool.map(emit_one, range(events)):
            emitted[key].append(event_id)
    return {"started": started, "finished": time.time(), "emitted": emitted}


# --- driver ---------------------------------------------------------------------------------


def run_benchmark(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()[0]
    setup_django()
    from django.conf import settings

    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    started = time.perf_counter()
    targets, cleanups = prepare(args.orgs, args.runs_per_org)
    print(f"{len(targets)} runs in {args.orgs} organizations ready in "
          f"{time.perf_counter() - started:.1f} s; layer {layer}; {os.cpu_count()} CPUs")  # fmt: skip
    env = {
        **os.environ,
        "SECRET_KEY": settings.SECRET_KEY,
        "REALTIME_CHANNEL_PREFIX": f"rtb{uuid.uuid4().hex[:8]}",
        "LOG_LEVEL": "WARNING",
        # Keep database connections between socket calls, as a production deploy would.
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
    }
    specs = Path(tempfile.mkdtemp(prefix="rtb-"))
    servers, ports = start_servers(args.servers, env)
    try:
        sockets = [
            {**targets[i % len(targets)], "port": ports[i % len(ports)]}
            for i in range(args.sockets)
        ]
        followers = defaultdict(int)
        for target in sockets:
            followers[target["run"], target["schema"]] += 1
        expected = sum(
            followers[targets[i % len(targets)]["run"], targets[i % len(targets)]["schema"]]
            for i in range(args.events)
        )
        (specs / "client.json").write_text(json.dumps({"sockets": sockets, "expected": expected}))
        (specs / "worker.json").write_text(json.dumps(
            {"runs": targets, "events": args.events, "rate": args.rate, "threads": args.threads}
        ))  # fmt: skip
        me = [sys.executable, "-m", "benchmarks.realtime"]  # as a module: nothing shadows ours
        client = subprocess.Popen(
            [*me, "--role", "client", "--spec", str(specs / "client.json")],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        opening = time.perf_counter()
        if client.stdout.readline().strip() != "READY":
            raise RuntimeError("the client could not connect its sockets")
        print(f"{args.sockets} sockets connected and subscribed in "
              f"{time.perf_counter() - opening:.1f} s", flush=True)  # fmt: skip
        worker = subprocess.run(
            [*me, "--role", "worker", "--spec", str(specs / "worker.json")],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        emitted = json.loads(worker.stdout.strip().splitlines()[-1])
        out, _ = client.communicate(input="", timeout=120)
        received = json.loads(out.strip().splitlines()[-1])
    finally:
        stop_servers(servers)
        cleanup(cleanups)
        shutil.rmtree(specs, ignore_errors=True)
    return report(args, sockets, emitted, received, expected, load_before)


def report(args, sockets, emitted, received, expected, load_before) -> int:
    timeline = sorted(received["timeline"])
    latencies = [(at - emitted_at) * 1000 for emitted_at, at in timeline]
    missing = out_of_order = 0
    for index, target in enumerate(sockets):
        want = emitted["emitted"].get(f"{target['schema']}:{target['run']}", [])
        got = received["received"].get(str(index), [])
        missing += len(set(want) - set(got))
        out_of_order += got != sorted(got)
    elapsed = max(at for _, at in timeline) - emitted["started"] if timeline else float("nan")
    p99 = percentile(latencies, 99)
    quarter = max(1, len(latencies) // 4)
    quarters = " / ".join(
        f"{percentile(latencies[i : i + quarter], 99):.0f}" for i in range(0, quarter * 4, quarter)
    )
    checks = {k: received[k] for k in ("crossed", "wrong_run", "duplicates")}
    checks.update(missing=missing, out_of_order_sockets=out_of_order)
    checks_ok = not any(checks.values()) and len(latencies) == expected
    emit_rate = args.events / (emitted["finished"] - emitted["started"])
    print(f"""
events emitted         {args.events} at {emit_rate:.0f}/s (asked {args.rate:.0f}/s)
deliveries             {len(latencies)} of {expected} ({expected / args.events:.1f} sockets per event)
delivered per second   {len(latencies) / elapsed:.0f}
latency emit→receipt   p50 {percentile(latencies, 50):.1f} ms   p99 {p99:.1f} ms   \
max {max(latencies, default=float("nan")):.1f} ms   \
({"meets" if p99 < TARGET_P99_MS else "MISSES"} p99 < {TARGET_P99_MS:.0f} ms)
p99 by quarter         {quarters} ms (load average {load_before:.1f} before, \
{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs)
isolation and order    {", ".join(f"{k} {v}" for k, v in checks.items())} \
({"ok" if checks_ok else "FAILED"})""")
    return 0 if checks_ok and p99 < TARGET_P99_MS else 1


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--runs-per-org", type=int, default=5)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200, help="events emitted per second")
    parser.add_argument("--threads", type=int, default=8, help="emitting threads in the worker")
    parser.add_argument("--servers", type=int, default=1, help="daphne processes")
    parser.add_argument("--role", choices=["driver", "client", "worker"], default="driver")
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.role == "driver":
        return run_benchmark(args)
    spec = json.loads(Path(args.spec).read_text())
    if args.role == "client":
        result = asyncio.run(client_main(spec))
    else:
        result = worker_main(spec)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
