"""Client input: every malformed frame earns an ``error`` frame, never a crash or a close."""

from __future__ import annotations

import json

import pytest

from realtime import protocol
from realtime.protocol import ErrorCode, ProtocolError, Stream, Subscribe
from tests.realtime.conftest import host_of, subscribe_run


def parse(body) -> protocol.ClientMessage:
    text = body if isinstance(body, str) else json.dumps(body)
    return protocol.parse(text, None, max_bytes=4096)


def test_valid_messages():
    assert parse({"v": 1, "type": "subscribe", "stream": "run", "run": 4, "after": 0}) == Subscribe(
        stream=Stream.RUN, run=4, after=0
    )
    assert parse({"v": 1, "type": "subscribe", "stream": "organization", "ref": "x"}) == Subscribe(
        stream=Stream.ORGANIZATION, ref="x"
    )
    assert parse({"v": 1, "type": "unsubscribe", "stream": "run", "run": 4}).run == 4
    assert parse({"v": 1, "type": "ping", "ref": 12}).ref == 12


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ("{not json", ErrorCode.MALFORMED, None),
        ("[1, 2]", ErrorCode.MALFORMED, None),
        ('"subscribe"', ErrorCode.MALFORMED, None),
        ("[" * 3000 + "]" * 3000, ErrorCode.TOO_LARGE, None),
        ("[" * 2000 + "]" * 2000, ErrorCode.MALFORMED, None),  # too deep to parse
        ({"type": "ping"}, ErrorCode.UNSUPPORTED_VERSION, "v"),
        ({"v": 2, "type": "ping"}, ErrorCode.UNSUPPORTED_VERSION, "v"),
        ({"v": True, "type": "ping"}, ErrorCode.UNSUPPORTED_VERSION, "v"),
        ({"v": 1, "type": "shutdown"}, ErrorCode.UNKNOWN_TYPE, "type"),
        ({"v": 1, "type": ["ping"]}, ErrorCode.UNKNOWN_TYPE, "type"),
        ({"v": 1, "type": "ping", "extra": 1}, ErrorCode.INVALID, "extra"),
        ({"v": 1, "type": "subscribe", "stream": "devices"}, ErrorCode.INVALID, "stream"),
        ({"v": 1, "type": "subscribe", "stream": "run"}, ErrorCode.INVALID, "run"),
        ({"v": 1, "type": "subscribe", "stream": "run", "run": "4"}, ErrorCode.INVALID, "run"),
        ({"v": 1, "type": "subscribe", "stream": "run", "run": 0}, ErrorCode.INVALID, "run"),
        ({"v": 1, "type": "subscribe", "stream": "run", "run": 2**70}, ErrorCode.INVALID, "run"),
        ({"v": 1, "type": "subscribe", "stream": "run", "run": True}, ErrorCode.INVALID, "run"),
        ({"v": 1, "type": "subscribe", "stream": "run", "run": 4.5}, ErrorCode.INVALID, "run"),
        (
            {"v": 1, "type": "subscribe", "stream": "run", "run": 4, "after": -1},
            ErrorCode.INVALID,
            "after",
        ),
        (
            {"v": 1, "type": "subscribe", "stream": "organization", "run": 4},
            ErrorCode.INVALID,
            "run",
        ),
    ],
)
def test_invalid_messages(body, code, field):
    with pytest.raises(ProtocolError) as caught:
        parse(body)

    assert caught.value.code == code
    assert caught.value.field == field


def test_binary_and_oversized_frames():
    with pytest.raises(ProtocolError) as binary:
        protocol.parse(None, b"\x00\x01", max_bytes=4096)
    with pytest.raises(ProtocolError) as multibyte:
        protocol.parse('"' + "é" * 3000 + '"', None, max_bytes=4096)  # 3000 chars, 6000 bytes

    assert binary.value.code == ErrorCode.BINARY_UNSUPPORTED
    assert multibyte.value.code == ErrorCode.TOO_LARGE


def test_odd_refs_are_dropped_not_echoed():
    assert parse({"v": 1, "type": "ping", "ref": "x" * 65}).ref is None
    assert parse({"v": 1, "type": "ping", "ref": {"a": 1}}).ref is None


@pytest.mark.django_db
def test_malformed_input_gets_errors_and_the_socket_and_its_neighbours_carry_on(
    ws, org_a, runs, api_token
):
    run_id = runs.make(org_a)
    raw, _ = api_token(org_a)
    bad_frames = [
        "{oops",
        json.dumps({"v": 1, "type": "subscribe", "stream": "run", "run": "x", "ref": "r"}),
        json.dumps({"v": 9, "type": "ping"}),
        "x" * 5000,
        "\ud800",  # a lone surrogate: not encodable, must not crash the consumer
    ]

    async def scenario(sockets):
        noisy = await sockets.open(host_of(org_a), token=raw)
        neighbour = await sockets.open(host_of(org_a), token=raw)
        errors = []
        for frame in bad_frames:
            await noisy.send_to(text_data=frame)
            errors.append(await noisy.receive_json_from())
        await noisy.send_to(bytes_data=b"\x00")
        errors.append(await noisy.receive_json_from())
        replay = await subscribe_run(noisy, run_id)
        await neighbour.send_json_to({"v": 1, "type": "ping", "ref": "n"})
        return errors, replay, await neighbour.receive_json_from()

    errors, replay, pong = ws(scenario)

    assert [e["code"] for e in errors] == [
        "malformed",
        "invalid",
        "unsupported_version",
        "too_large",
        "malformed",
        "binary_unsupported",
    ]
    assert all(e["type"] == "error" and e["v"] == 1 and e["message"] for e in errors)
    assert errors[1]["ref"] == "r" and errors[1]["field"] == "run"
    assert replay == []
    assert pong["type"] == "pong" and pong["ref"] == "n"


@pytest.mark.django_db
def test_floods_are_rate_limited_and_subscriptions_capped(ws, org_a, runs, api_token, settings):
    settings.REALTIME_MAX_SUBSCRIPTIONS = 2
    run_ids = [runs.make(org_a) for _ in range(3)]
    raw, _ = api_token(org_a)

    async def scenario(sockets):
        socket = await sockets.open(host_of(org_a), token=raw)
        for run_id in run_ids[:2]:
            await subscribe_run(socket, run_id)
        await socket.send_json_to({"v": 1, "type": "subscribe", "stream": "run", "run": run_ids[2]})
        capped = await socket.receive_json_from()
        for _ in range(60):
            await socket.send_json_to({"v": 1, "type": "ping"})
        replies = [await socket.receive_json_from() for _ in range(60)]
        return capped, replies

    capped, replies = ws(scenario)

    assert capped["code"] == "too_many_subscriptions"
    kinds = [reply.get("code", reply["type"]) for reply in replies]
    assert "pong" in kinds and "rate_limited" in kinds


def test_subprotocol_is_accepted_when_offered(ws, org_a, api_token, db):
    raw, _ = api_token(org_a)

    async def scenario(sockets):
        from channels.testing import WebsocketCommunicator

        from control_plane.asgi import application

        communicator = WebsocketCommunicator(
            application,
            "/ws/",
            headers=[
                (b"host", host_of(org_a).encode()),
                (b"authorization", f"Bearer {raw}".encode()),
            ],
            subprotocols=["pmdm.v1"],
        )
        sockets.communicators.append(communicator)
        return await communicator.connect()

    assert ws(scenario) == (True, "pmdm.v1")
