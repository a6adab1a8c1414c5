"""The organization stream: notices for live lists, filtered by role, never across tenants."""

from __future__ import annotations

import pytest

from realtime import services
from tests.realtime.conftest import LAYERS, host_of, sync_db

committed = pytest.mark.django_db(transaction=True)


def notify(schema: str, notice_type: str, data: dict) -> None:
    """What a publishing service does: a notice, sent once its transaction commits."""
    from django.db import transaction
    from django_tenants.utils import schema_context

    from tenants.publishing.events import organization_notice

    with schema_context(schema), transaction.atomic():
        organization_notice(notice_type, data)


async def follow_organization(socket) -> dict:
    await socket.send_json_to({"v": 1, "type": "subscribe", "stream": "organization"})
    return await socket.receive_json_from()


@pytest.fixture
def restricted_notice():
    """A notice type only admins may see (as device events will be)."""
    services.notice_type_register("device.changed", "admin")
    yield "device.changed"
    services._NOTICE_MIN_ROLE.pop("device.changed", None)


@committed
@pytest.mark.parametrize("layer_kind", LAYERS)
def test_notices_reach_members_by_role_and_stay_in_their_organization(
    ws, org_a, org_b, api_token, member_of, restricted_notice, layer_kind
):
    admin = member_of(org_a, "admin")
    viewer_token, _ = api_token(org_a, role="viewer", creator=admin)
    admin_token, _ = api_token(org_a, role="admin", creator=admin)
    other_token, _ = api_token(org_b, role="admin")

    async def scenario(sockets):
        viewer = await sockets.open(host_of(org_a), token=viewer_token)
        boss = await sockets.open(host_of(org_a), token=admin_token)
        other = await sockets.open(host_of(org_b), token=other_token)
        acks = [await follow_organization(s) for s in (viewer, boss, other)]
        await sync_db(notify)(org_a.schema_name, "run.started", {"run": 7, "template": 3})
        await sync_db(notify)(org_a.schema_name, restricted_notice, {"device": 1})
        await sync_db(notify)(org_a.schema_name, "surprise.new_type", {"x": 1})
        await sync_db(notify)(org_a.schema_name, "app_user.changed", {"id": 2, "secret": "s3"})
        got_viewer = [await viewer.receive_json_from(timeout=5) for _ in range(2)]
        got_boss = [await boss.receive_json_from(timeout=5) for _ in range(4)]
        quiet = await viewer.receive_nothing(0.2) and await other.receive_nothing(0.2)
        return acks, got_viewer, got_boss, quiet

    acks, got_viewer, got_boss, quiet = ws(scenario)

    assert all(ack == {"v": 1, "type": "subscribed", "stream": "organization"} for ack in acks)
    assert got_viewer == [
        {"v": 1, "type": "org.event", "event": "run.started", "data": {"run": 7, "template": 3}},
        {
            "v": 1,
            "type": "org.event",
            "event": "app_user.changed",
            "data": {"id": 2, "secret": "[redacted]"},
        },
    ]
    assert [f["event"] for f in got_boss] == [
        "run.started",
        "device.changed",
        "surprise.new_type",  # unregistered types reach admins and owners only
        "app_user.changed",
    ]
    assert quiet


@committed
def test_rolled_back_changes_are_never_announced(ws, org_a, api_token):
    from django.db import transaction
    from django_tenants.utils import schema_context

    from tenants.publishing.events import organization_notice

    raw, _ = api_token(org_a)

    def rolled_back() -> None:
        with schema_context(org_a.schema_name):
            try:
                with transaction.atomic():
                    organization_notice("run.queued", {"run": 1})
                    raise RuntimeError("the action failed")
            except RuntimeError:
                pass

    async def scenario(sockets):
        socket = await sockets.open(host_of(org_a), token=raw)
        await follow_organization(socket)
        await sync_db(rolled_back)()
        return await socket.receive_nothing(timeout=0.3)

    assert ws(scenario)


def test_role_policy():
    assert services.may_see_notice("viewer", "run.finished")
    assert not services.may_see_notice("editor", "never.registered")
    assert services.may_see_notice("admin", "never.registered")
    # A sender may ask for more than the registry, never for less.
    assert not services.may_see_notice("viewer", "run.finished", "owner")
    assert not services.may_see_notice("editor", "never.registered", "viewer")
