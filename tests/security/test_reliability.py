"""Reliability across processes: two ``serve`` instances, two workers, one database and layer.

As a production deployment runs: two ``manage.py serve`` processes on
different ports, each with its job worker, sharing PostgreSQL (and Redis
when ``REDIS_URL`` is set). A person logs in through instance 1; the same
session works on instance 2, whose socket follows a publish started through
instance 1. The worker running the publish is killed in the middle; the
other worker notices the silent heartbeat, takes the job over and finishes
the run, and the fake Central holds exactly one form, version, assignment
and app user per app user: nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import threading
import time
import urllib.request
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from websockets.asyncio.client import connect

from tests.publishing.publishing_helpers import app_users, template_for, with_district
from tests.security.processes import (
    ROOT,
    Server,
    free_port,
    process_env,
    start_server,
    wait_healthy,
)

BASE = settings.BASE_DOMAIN
APP_USERS = ["ana", "ben", "cat", "dan"]
FINAL = {"succeeded", "partially_failed", "failed"}


def _children(pid: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children |= {int(child) for child in text}
    return children


def _worker_ids() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM procrastinate_workers ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def _wait(condition, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Http:
    """A tiny browser: cookies by name, no redirects followed."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, port: int, method: str, path: str, host: str, body=None, headers=None):
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"http://127.0.0.1:{port}{path}",
            method=method,
            data=body,
            headers={"Host": host, **({"Cookie": cookie} if cookie else {}), **(headers or {})},
        )
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request, timeout=60)
        except urllib.error.HTTPError as exc:
            response = exc
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.read()


@pytest.fixture
def deployment(tenant_tx, central, tmp_path):
    """Two serve instances (each with its worker) on the test database; yields both."""
    env = process_env(
        CENTRAL_ALLOWED_INTERNAL_HOSTS=",".join(settings.CENTRAL_ALLOWED_INTERNAL_HOSTS),
        CENTRAL_ALLOW_HTTP="1",
        REALTIME_CHANNEL_PREFIX=f"pmdm_rel{uuid.uuid4().hex[:10]}",
        REDIS_URL=os.environ.get("REDIS_URL", ""),
        PUBLISH_POOL_SIZE="1",
        WORKER_HEARTBEAT_SECONDS="0.5",
        WORKER_STALLED_SECONDS="3",
        WORKER_STALLED_CHECK_SECONDS="1",
        SPARE_POOL_SIZE="0",
    )
    existing = set(_worker_ids())
    servers: list[Server] = []
    workers: list[tuple[int, int]] = []  # (procrastinate worker id, pid)
    try:
        for index in range(2):
            port = free_port()
            argv = [str(ROOT / "manage.py"), "serve", "--host", "127.0.0.1", "--port", str(port)]
            # One DATA_DIR: the second instance's collectstatic finds the files current.
            instance_env = {**env, "DATA_DIR": str(tmp_path / "data")}
            server = start_server([*argv, "--no-migrate"], instance_env, tmp_path, port)
            servers.append(server)
            known = existing | {w for w, _ in workers}
            worker_id = _wait(
                lambda known=known: next((w for w in _worker_ids() if w not in known), None),
                f"worker {index + 1} to register",
            )
            pid = _wait(lambda server=server: _children(server.pid), "the worker process").pop()
            workers.append((worker_id, pid))
        for server in servers:
            wait_healthy(server, BASE)
        yield servers, workers
    finally:
        for server in servers:
            try:  # the instance and its worker at once; nothing to shut down gracefully
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.stop()
        for server in servers:
            print(server.log())  # shown when the test fails
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM procrastinate_workers WHERE NOT (id = ANY(%s))", [list(existing)]
            )


def _login(browser: Http, port: int) -> None:
    status, _ = browser.request(port, "GET", "/login/", BASE)
    assert status == 200
    form = urlencode(
        {
            "username": "walker@example.org",
            "password": "a long enough password 7",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        }
    ).encode()
    status, body = browser.request(
        port,
        "POST",
        "/login/",
        BASE,
        form,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 302, body[:500]
    assert settings.SESSION_COOKIE_NAME in browser.cookies


@pytest.fixture
def person(tenant_tx):
    """A committed editor of organization A with a real password (fast hashing)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    from control_plane.accounts.models import Membership, User

    class Quick(PBKDF2PasswordHasher):
        iterations = 1000

    user = User.objects.create(
        email="walker@example.org",
        password=make_password("a long enough password 7", hasher=Quick()),
    )
    Membership.objects.create(user=user, organization=tenant_tx, role="editor")
    yield user
    user.delete()


def test_two_instances_and_two_workers_survive_a_killed_worker(
    deployment, person, tx_project, central
):
    (server_1, server_2), workers = deployment
    org_host = f"acme.{BASE}"
    with_district(tx_project)
    users = app_users(tx_project, APP_USERS)
    template = template_for(tx_project, users)
    central.latency = 0.15  # each Central call takes a moment: the run can be stopped midway

    # serve runs the guarded server: an announced oversized body is refused at once.
    with socket.create_connection(("127.0.0.1", server_2.port)) as raw:
        raw.sendall(
            f"POST /login/ HTTP/1.1\r\nHost: {BASE}\r\nContent-Length: 500000000\r\n\r\n".encode()
        )
        raw.settimeout(30)
        assert raw.recv(64).startswith(b"HTTP/1.1 413 ")

    browser = Http()
    _login(browser, server_1.port)  # through instance 1 ...
    status, _ = browser.request(server_2.port, "GET", "/", org_host)  # ... works on instance 2
    assert status == 200
    csrf = {"X-CSRFToken": browser.cookies["csrftoken"]}
    status, body = browser.request(
        server_2.port,
        "POST",
        "/realtime/ticket/",
        org_host,
        b"",
        {**csrf, "Origin": f"http://{org_host}"},
    )
    assert status == 200, body[:300]
    ticket = json.loads(body)["ticket"]

    async def follow() -> tuple[list[dict], dict]:
        url = f"ws://{org_host}:{server_2.port}/ws/?ticket={ticket}"
        async with connect(
            url,
            host="127.0.0.1",
            port=server_2.port,
            origin=f"http://{org_host}",
            subprotocols=["pmdm.v1"],
        ) as socket:
            assert json.loads(await socket.recv())["type"] == "hello"
            status, body = await asyncio.to_thread(
                browser.request,
                server_1.port,
                "POST",
                "/api/v1/publish-runs/",
                org_host,
                json.dumps({"template": template.pk}).encode(),
                {**csrf, "Content-Type": "application/json"},
            )
            assert status in (201, 202), body[:500]
            run_id = json.loads(body)["id"]
            killer = threading.Thread(
                target=_kill_the_worker_running, args=(tx_project, run_id, workers)
            )
            killer.start()
            await socket.send(
                json.dumps({"v": 1, "type": "subscribe", "stream": "run", "run": run_id})
            )
            events = []
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 120))
                if frame.get("type") != "run.event":
                    continue
                events.append(frame["event"])
                if frame["event"]["step"] == "run" and frame["event"]["state"] in FINAL:
                    break
            await asyncio.to_thread(killer.join, 60)
            return events, {"run": run_id, "killed": killer.killed}  # type: ignore[attr-defined]

    events, outcome = asyncio.run(follow())

    killed_pid = outcome["killed"]
    assert killed_pid in {pid for _, pid in workers}
    assert events[-1]["state"] == "succeeded", events[-1]
    # Started twice: by the worker that was killed, then by the other one.
    assert sum(1 for e in events if e["step"] == "run" and e["state"] == "started") >= 2
    published = {e["app_user"] for e in events if e["state"] == "published"}
    assert published == set(APP_USERS)

    from tenants.publishing.models import PublishRun

    run = PublishRun.objects.get(pk=outcome["run"])
    assert run.status == "succeeded"
    project = tx_project.central_project_id
    for name in APP_USERS:
        assert central.published_versions(project, f"household_{name}") == [run.version.version]
        assert len(central.assignments(project, f"household_{name}")) == 1
    assert sorted(u["displayName"] for u in central.app_users(project)) == APP_USERS
    creates = [r for r in central.requests if r.method == "POST" and re.search(r"/forms$", r.path)]
    assert len(creates) == len(APP_USERS)


def _kill_the_worker_running(project, run_id: int, workers: list[tuple[int, int]]) -> None:
    """Once one app user is published, SIGKILL whichever worker holds the run's job."""
    from django.db import connection

    from control_plane.organizations.models import Organization
    from tenants.publishing.models import ItemStatus, PublishRun, PublishRunItem

    thread = threading.current_thread()
    thread.killed = None  # type: ignore[attr-defined]
    connection.set_tenant(Organization.objects.get(slug="acme"))
    try:
        _wait(
            lambda: PublishRunItem.objects.filter(
                run_id=run_id, status=ItemStatus.PUBLISHED
            ).exists(),
            "a first published app user",
        )
        job_id = PublishRun.objects.values_list("job_id", flat=True).get(pk=run_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT worker_id FROM procrastinate_jobs WHERE id = %s", [job_id])
            worker_id = cursor.fetchone()[0]
        pid = dict(workers)[worker_id]
        os.kill(pid, signal.SIGKILL)
        thread.killed = pid  # type: ignore[attr-defined]
    finally:
        connection.close()
