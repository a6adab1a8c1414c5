"""The publish run stream: live events, replay after reconnect, and tenant isolation."""

from __future__ import annotations

import asyncio
import random

import pytest
from django.db import connection

from realtime import services
from tests.realtime.conftest import (
    ALL_LAYERS,
    LAYERS,
    emit_events,
    host_of,
    subscribe_run,
    sync_db,
)

committed = pytest.mark.django_db(transaction=True)


def shared_id() -> int:
    """A run id far above the sequences, to create the same id in two organizations."""
    return random.randint(10**8, 10**9)


@committed
@pytest.mark.parametrize("layer_kind", ALL_LAYERS)
def test_live_events_carry_the_event_and_the_final_summary(ws, org_a, runs, api_token, layer_kind):
    from django_tenants.utils import schema_context

    from tenants.publishing.events import emit
    from tenants.publishing.models import PublishRun, PublishRunItem

    run_id = runs.make(org_a)
    raw, _ = api_token(org_a)

    def publish() -> None:
        with schema_context(org_a.schema_name):
            run = PublishRun.objects.get(pk=run_id)
            item = PublishRunItem.objects.create(run=run, app_user_name="enumerator-1")
            emit(run, item=item, step="form", state="started", message="Uploading")
            emit(
                run,
                step="run",
                state="succeeded",
                data={"summary": {"published": 1}, "api_token": "never-sent"},
            )

    async def scenario(sockets):
        socket = await sockets.open(host_of(org_a), token=raw)
        assert await subscribe_run(socket, run_id) == []
        await sync_db(publish)()
        return [await socket.receive_json_from(timeout=5) for _ in range(2)]

    first, last = ws(scenario)

    assert first["type"] == "run.event" and first["run"] == run_id and "final" not in first
    event = first["event"]
    assert (event["app_user"], event["step"], event["state"], event["message"]) == (
        "enumerator-1",
        "form",
        "started",
        "Uploading",
    )
    assert event["at"] and event["id"] > 0
    assert last["final"] is True and last["summary"] == {"published": 1}
    assert last["event"]["data"]["api_token"] == "[redacted]"


@committed
def test_reconnect_with_the_last_event_id_misses_nothing_and_repeats_nothing(
    ws, org_a, runs, api_token, monkeypatch
):
    """Events are stored while the browser is away, and while it replays: each arrives once."""
    run_id = runs.make(org_a)
    raw, _ = api_token(org_a)
    stored = emit_events(org_a.schema_name, run_id, 5, tag="before-")
    original = services.events_after
    calls = []

    def events_after_with_races(run, after, limit=services.REPLAY_PAGE):
        # Stored after the socket joined the group but before the replay reads: both
        # replayed and sent live. Stored after the read: live only.
        if not calls:
            calls.append(emit_events(org_a.schema_name, run_id, 2, tag="during-"))
        page = original(run, after, limit)
        if len(calls) == 1:
            calls.append(emit_events(org_a.schema_name, run_id, 2, tag="after-"))
        return page

    async def scenario(sockets):
        first = await sockets.open(host_of(org_a), token=raw)
        seen = [event["id"] for event in await subscribe_run(first, run_id)]
        stored.extend(await sync_db(emit_events)(org_a.schema_name, run_id, 3, tag="live-"))
        for _ in range(3):
            seen.append((await first.receive_json_from(timeout=5))["event"]["id"])
        await first.disconnect()
        stored.extend(await sync_db(emit_events)(org_a.schema_name, run_id, 4, tag="away-"))

        monkeypatch.setattr(services, "events_after", events_after_with_races)
        second = await sockets.open(host_of(org_a), token=raw)
        again = [event["id"] for event in await subscribe_run(second, run_id, after=seen[-1])]
        stored.extend(calls[0] + calls[1])
        while len(seen) + len(again) < len(stored):
            again.append((await second.receive_json_from(timeout=5))["event"]["id"])
        assert await second.receive_nothing(timeout=0.3)
        return seen, again

    seen, again = ws(scenario)

    assert seen == stored[:8]
    assert seen + again == sorted(stored)
    assert len(set(seen + again)) == len(stored) == 16


@pytest.mark.django_db
def test_subscribing_to_another_organizations_run_is_refused(ws, org_a, org_b, runs, api_token):
    run_of_b = runs.make(org_b, run_id=shared_id())
    raw, _ = api_token(org_a)

    async def scenario(sockets):
        socket = await sockets.open(host_of(org_a), token=raw)
        await socket.send_json_to(
            {"v": 1, "type": "subscribe", "stream": "run", "run": run_of_b, "ref": "r1"}
        )
        refused = await socket.receive_json_from()
        await socket.send_json_to({"v": 1, "type": "ping"})
        return refused, await socket.receive_json_from()

    refused, pong = ws(scenario)

    assert refused == {
        "v": 1,
        "type": "error",
        "code": "not_found",
        "message": "No such run.",
        "field": "run",
        "ref": "r1",
    }
    assert pong["type"] == "pong"  # still open


@committed
def test_same_run_id_in_two_organizations_never_mixes_with_interleaved_sockets(
    ws, org_a, org_b, runs, api_token
):
    """Two organizations' sockets interleave on one database thread; the connection is even
    left on the *other* schema before each call, and still each sees only its own run."""
    run_id = shared_id()
    runs.make(org_a, run_id=run_id)
    runs.make(org_b, run_id=run_id)
    emit_events(org_a.schema_name, run_id, 3, tag="a-")
    emit_events(org_b.schema_name, run_id, 2, tag="b-")
    token_a, _ = api_token(org_a)
    token_b, _ = api_token(org_b)

    def poison(schema: str) -> None:
        connection.set_schema(schema)  # what a careless previous call could leave behind

    async def scenario(sockets):
        a = await sockets.open(host_of(org_a), token=token_a)
        b = await sockets.open(host_of(org_b), token=token_b)
        await sync_db(poison)(org_b.schema_name)
        replay_a = await subscribe_run(a, run_id)
        await sync_db(poison)(org_a.schema_name)
        replay_b = await subscribe_run(b, run_id)
        live_a, live_b = [], []
        for round_ in range(3):
            await sync_db(poison)(org_b.schema_name)
            await sync_db(emit_events)(org_a.schema_name, run_id, 1, tag=f"a-live-{round_}-")
            await sync_db(poison)(org_a.schema_name)
            await sync_db(emit_events)(org_b.schema_name, run_id, 1, tag=f"b-live-{round_}-")
            live_b.append(await b.receive_json_from(timeout=5))
            live_a.append(await a.receive_json_from(timeout=5))
        assert await a.receive_nothing(timeout=0.2) and await b.receive_nothing(timeout=0.2)
        return replay_a, replay_b, live_a, live_b

    replay_a, replay_b, live_a, live_b = ws(scenario)

    assert [e["message"] for e in replay_a] == ["a-0", "a-1", "a-2"]
    assert [e["message"] for e in replay_b] == ["b-0", "b-1"]
    assert [f["event"]["message"] for f in live_a] == [f"a-live-{i}-0" for i in range(3)]
    assert [f["event"]["message"] for f in live_b] == [f"b-live-{i}-0" for i in range(3)]


@committed
@pytest.mark.parametrize("layer_kind", LAYERS)
def test_many_sockets_across_organizations_receive_only_their_own(
    ws, org_a, org_b, org_c, runs, api_token, layer_kind
):
    organizations = [org_a, org_b, org_c]
    run_id = shared_id()
    for organization in organizations:
        runs.make(organization, run_id=run_id)
    tokens = {o.schema_name: api_token(o)[0] for o in organizations}
    per_org, events_each = 8, 15

    async def scenario(sockets):
        opened = []
        for organization in organizations:
            for _ in range(per_org):
                socket = await sockets.open(
                    host_of(organization), token=tokens[organization.schema_name]
                )
                await subscribe_run(socket, run_id)
                opened.append((organization.schema_name, socket))

        async def emitter(schema: str) -> list[int]:
            ids = []
            for i in range(events_each):
                ids += await sync_db(emit_events)(schema, run_id, 1, tag=f"{schema}-")
                if i % 5 == 0:
                    await asyncio.sleep(0)
            return ids

        emitted = await asyncio.gather(*(emitter(o.schema_name) for o in organizations))

        async def drain(schema, socket):
            frames = [await socket.receive_json_from(timeout=10) for _ in range(events_each)]
            assert await socket.receive_nothing(timeout=0.1)
            return schema, frames

        received = await asyncio.gather(*(drain(schema, socket) for schema, socket in opened))
        return dict(zip([o.schema_name for o in organizations], emitted, strict=True)), received

    emitted, received = ws(scenario, timeout=60)

    for schema, frames in received:
        assert all(f["event"]["message"].startswith(f"{schema}-") for f in frames), schema
        assert [f["event"]["id"] for f in frames] == emitted[schema]


@committed
def test_unsubscribe_stops_the_run_stream(ws, org_a, runs, api_token):
    run_id = runs.make(org_a)
    raw, _ = api_token(org_a)

    async def scenario(sockets):
        socket = await sockets.open(host_of(org_a), token=raw)
        await subscribe_run(socket, run_id)
        await socket.send_json_to({"v": 1, "type": "unsubscribe", "stream": "run", "run": run_id})
        ack = await socket.receive_json_from()
        await sync_db(emit_events)(org_a.schema_name, run_id, 2)
        return ack, await socket.receive_nothing(timeout=0.3)

    ack, nothing = ws(scenario)

    assert ack == {"v": 1, "type": "unsubscribed", "stream": "run", "run": run_id}
    assert nothing


@committed
@pytest.mark.parametrize("lose", ["membership", "session", "suspension"])
def test_a_socket_that_loses_access_is_closed_at_its_next_check(
    ws, org_a, runs, member_of, session_cookie, settings, lose
):
    """Checks run beside delivery (never holding an event back): at most one more event."""
    from django.contrib.sessions.models import Session

    from control_plane.accounts.models import Membership
    from control_plane.organizations.models import Organization
    from realtime.protocol import CloseCode

    run_id = runs.make(org_a)
    user = member_of(org_a, "viewer")
    cookie = session_cookie(user)
    settings.REALTIME_REVALIDATE_SECONDS = 0
    revoke = {
        "membership": Membership.objects.filter(user=user).delete,
        "session": Session.objects.all().delete,
        "suspension": lambda: Organization.objects.filter(pk=org_a.pk).update(status="suspended"),
    }[lose]

    async def scenario(sockets):
        socket = await sockets.open(host_of(org_a), cookie=cookie)
        await subscribe_run(socket, run_id)
        await sync_db(emit_events)(org_a.schema_name, run_id, 1)
        delivered = await socket.receive_json_from(timeout=5)
        await sync_db(revoke)()
        outputs = []
        for _ in range(3):
            await sync_db(emit_events)(org_a.schema_name, run_id, 1)
            outputs.append(await socket.receive_output(timeout=5))
            if outputs[-1]["type"] == "websocket.close":
                break
        return delivered, outputs

    delivered, outputs = ws(scenario)

    assert delivered["type"] == "run.event"
    assert len(outputs) <= 2
    expected = {
        "membership": CloseCode.NOT_MEMBER,
        "session": CloseCode.UNAUTHENTICATED,
        "suspension": CloseCode.SUSPENDED,
    }[lose]
    assert outputs[-1] == {"type": "websocket.close", "code": expected}


@pytest.mark.django_db
def test_a_long_replay_is_read_in_pages(ws, org_a, runs, api_token, monkeypatch):
    monkeypatch.setattr(services, "REPLAY_PAGE", 4)
    run_id = runs.make(org_a)
    stored = emit_events(org_a.schema_name, run_id, 10)
    raw, _ = api_token(org_a)

    async def scenario(sockets):
        socket = await sockets.open(host_of(org_a), token=raw)
        return [event["id"] for event in await subscribe_run(socket, run_id, after=stored[1])]

    assert ws(scenario) == stored[2:]


@committed
@pytest.mark.parametrize("layer_kind", LAYERS)
def test_the_group_alone_keeps_two_organizations_runs_with_one_id_apart(
    ws, org_a, org_b, runs, api_token, layer_kind
):
    """Each socket sees only its own organization's events of run ``id``, and no message
    of the other organization ever reaches it: the consumer's schema check (defence in
    depth) must never have to drop one, so a group name without the schema fails here."""
    from structlog.testing import capture_logs

    run_id = shared_id()
    runs.make(org_a, run_id=run_id)
    runs.make(org_b, run_id=run_id)
    token_a, _ = api_token(org_a)
    token_b, _ = api_token(org_b)

    async def scenario(sockets):
        a = await sockets.open(host_of(org_a), token=token_a)
        b = await sockets.open(host_of(org_b), token=token_b)
        await subscribe_run(a, run_id)
        await subscribe_run(b, run_id)
        await sync_db(emit_events)(org_a.schema_name, run_id, 2, tag="a-")
        await sync_db(emit_events)(org_b.schema_name, run_id, 2, tag="b-")
        got_a = [await a.receive_json_from(timeout=5) for _ in range(2)]
        got_b = [await b.receive_json_from(timeout=5) for _ in range(2)]
        assert await a.receive_nothing(timeout=0.3) and await b.receive_nothing(timeout=0.3)
        return got_a, got_b

    with capture_logs() as logs:
        got_a, got_b = ws(scenario)

    assert [f["event"]["message"] for f in got_a] == ["a-0", "a-1"]
    assert [f["event"]["message"] for f in got_b] == ["b-0", "b-1"]
    dropped = [e for e in logs if e.get("event") == "realtime.cross_tenant_message_dropped"]
    assert dropped == []
