"""One Central session per organization, server and account, shared by a process's jobs.

Counted on the fake Central: logins (``POST /v1/sessions``), logouts
(``DELETE /v1/sessions/...``) and the sessions still live.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection

from tenants.publishing.central import CentralClient
from tenants.publishing.central.sessions import (
    SessionKey,
    SessionRegistry,
    credentials_fingerprint,
    session_registry,
)
from tenants.publishing.models import AppUser
from tenants.publishing.services.clients import central_client_for, central_sessions_end
from tenants.publishing.services.publish import publish_start
from tenants.publishing.services.servers import central_server_delete, central_server_save
from tenants.publishing.tasks import execute_publish_run, sync_app_user
from tests.publishing.fixtures import CENTRAL_EMAIL, CENTRAL_PASSWORD
from tests.publishing.publishing_helpers import app_users, template_for, with_district

OTHER, OTHER_PASSWORD = "other@example.org", "other-password-456"
ANA, ANA_PASSWORD = "ana@example.org", "ana-secret-password-9"


def _save(
    central, name="Main Central", username=CENTRAL_EMAIL, password=CENTRAL_PASSWORD, server=None
):
    return central_server_save(
        actor=None,
        name=name,
        base_url=central.base_url,
        username=username,
        password=password,
        server=server,
    )


def test_checking_a_servers_credentials_leaves_no_session(central, in_org_a):
    _save(central)
    assert central.logins == 1 and central.logouts == 1
    assert central.live_sessions() == []


def test_publish_runs_and_jobs_of_one_process_log_in_once(tx_project, central):
    with_district(tx_project)
    users = app_users(tx_project, ["alice", "bob"])
    template = template_for(tx_project, users)
    central_sessions_end(central.base_url)  # start from no cached session
    logins, logouts = central.logins, central.logouts

    schema = connection.schema_name
    for _ in range(3):
        run = publish_start(template=template, actor=None)
        execute_publish_run(schema_name=schema, run_id=run.pk)
        connection.set_schema(schema)
    for user in AppUser.objects.all():
        sync_app_user(schema_name=schema, app_user_id=user.pk)
        connection.set_schema(schema)

    assert central.logins - logins == 1
    assert central.logouts == logouts
    assert len(central.live_sessions(CENTRAL_EMAIL)) == 1
    assert sum(1 for r in central.requests if r.method == "POST" and r.path.endswith("/forms")) == 2


def test_closing_a_client_keeps_the_shared_session_for_the_next_job(central, in_org_a):
    server = _save(central)
    with central_client_for(server) as client:
        client.list_projects()
        token = client._http._token
    logins = central.logins
    assert central.live_sessions() == [token]
    central_client_for(server).list_projects()
    assert central.logins == logins


def test_two_organizations_on_one_central_never_share_a_token(central, in_org_a, org_b):
    """Even with the very same Central account, each organization has its own session."""
    server_a = _save(central)
    client_a = central_client_for(server_a)
    client_a.list_projects()
    connection.set_tenant(org_b)
    server_b = _save(central)
    client_b = central_client_for(server_b)
    client_b.list_projects()
    assert central_client_for(server_b)._http._token == client_b._http._token
    connection.set_tenant(in_org_a)

    assert client_a._http._token != client_b._http._token
    assert sorted(central.live_sessions()) == sorted([client_a._http._token, client_b._http._token])
    assert central_client_for(server_a)._http._token == client_a._http._token


def test_new_credentials_log_the_old_session_out(
    central, in_org_a, django_capture_on_commit_callbacks
):
    central.add_account(OTHER, OTHER_PASSWORD)
    server = _save(central)
    old = central_client_for(server)
    old.list_projects()
    token = old._http._token

    with django_capture_on_commit_callbacks(execute=True):
        _save(central, name="Renamed", server=server)  # same credentials: kept
    assert token in central.live_sessions()
    with django_capture_on_commit_callbacks(execute=True):
        _save(central, username=OTHER, password=OTHER_PASSWORD, server=server)

    assert token not in central.live_sessions()
    new = central_client_for(server)
    new.list_projects()
    assert central.requests[-1].account == OTHER
    assert central.live_sessions() == [new._http._token]


def test_deleting_a_server_logs_its_session_out(
    central, in_org_a, django_capture_on_commit_callbacks
):
    server = _save(central)
    central_client_for(server).list_projects()
    assert len(central.live_sessions()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        central_server_delete(server, actor=None)
    assert central.live_sessions() == []


def test_a_session_expired_on_central_is_renewed_once(central, in_org_a):
    server = _save(central)
    central_client_for(server).list_projects()
    logins = central.logins
    central.advance_clock(86400 + 1)  # Central's 24 h are over; our clock does not know

    assert central_client_for(server).list_projects() == []
    assert central.logins == logins + 1
    assert [(r.method, r.path) for r in central.requests[-3:]] == [
        ("GET", "/v1/projects"),  # 401.2
        ("POST", "/v1/sessions"),
        ("GET", "/v1/projects"),
    ]


# --- the registry on its own clock -------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _key(central, schema="org_acme", password=ANA_PASSWORD) -> SessionKey:
    return SessionKey(schema, central.base_url, credentials_fingerprint(ANA, password))


@pytest.fixture
def ana(fake_central):
    fake_central.add_account(ANA, ANA_PASSWORD)
    return fake_central


def _client(central, registry, key, password=ANA_PASSWORD) -> CentralClient:
    return CentralClient(
        central.base_url, ANA, password, session_slot=registry.slot(key), backoff=0.01
    )


def test_a_session_is_renewed_before_it_expires_and_the_old_one_ended(ana):
    clock = Clock()
    registry = SessionRegistry(refresh_seconds=600, clock=clock)
    _client(ana, registry, _key(ana)).list_projects()
    first = ana.live_sessions()
    clock.now += 86400 - 601
    _client(ana, registry, _key(ana)).list_projects()
    assert ana.logins == 1
    clock.now += 2  # now within 10 minutes of Central's expiresAt
    _client(ana, registry, _key(ana)).list_projects()
    assert ana.logins == 2 and ana.logouts == 1
    assert len(ana.live_sessions()) == 1 and ana.live_sessions() != first


def test_an_idle_session_is_ended_when_the_process_next_builds_a_client(ana):
    clock = Clock()
    registry = SessionRegistry(idle_seconds=900, clock=clock)
    _client(ana, registry, _key(ana)).list_projects()
    clock.now += 901
    registry.slot(_key(ana, schema="org_globex"))
    assert ana.live_sessions() == [] and ana.logouts == 1


def test_end_all_logs_every_session_out(ana):
    registry = SessionRegistry()
    _client(ana, registry, _key(ana)).list_projects()
    _client(ana, registry, _key(ana, schema="org_globex")).list_projects()
    assert registry.end_all() == 2
    assert ana.live_sessions() == [] and len(registry) == 0


def test_the_password_is_not_in_the_key_and_the_token_not_in_reprs(ana):
    registry = SessionRegistry()
    key = _key(ana)
    client = _client(ana, registry, key)
    client.list_projects()
    token = client._http._token
    for text in (repr(key), repr(registry.slot(key)), repr(client), repr(client._http)):
        assert ANA_PASSWORD not in text and token not in text


def test_worker_shutdown_logs_its_sessions_out(ana):
    """A worker process that exits (as Procrastinate's does on SIGTERM) ends its sessions."""
    host = ana.base_url.split("://", 1)[1]
    script = textwrap.dedent(
        f"""
        from django.conf import settings
        settings.configure(CENTRAL_ALLOWED_INTERNAL_HOSTS=[{host!r}], CENTRAL_ALLOW_HTTP=True)
        from tenants.publishing.central import CentralClient
        from tenants.publishing.central.sessions import (
            SessionKey, credentials_fingerprint, session_registry,
        )
        key = SessionKey("org_acme", {ana.base_url!r}, credentials_fingerprint({ANA!r}, {ANA_PASSWORD!r}))
        client = CentralClient({ana.base_url!r}, {ANA!r}, {ANA_PASSWORD!r},
                               session_slot=session_registry().slot(key))
        client.list_projects()
        client.close()  # a shared session outlives the client...
        """
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], env=env, cwd=root, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert ana.logins == 1
    assert ana.logouts == 1 and ana.live_sessions() == []  # ...until the process exits


def test_the_process_registry_is_one_per_process():
    assert session_registry() is session_registry()
