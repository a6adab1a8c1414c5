"""Opening a socket: tenant by host, origin, and the authentication matrix."""

from __future__ import annotations

import json
import time

import pytest
from django.core import signing

from realtime.protocol import CloseCode
from realtime.tickets import ticket_issue
from tests.realtime.conftest import host_of, origin_of

pytestmark = pytest.mark.django_db


def hello_or_close(ws, host: str, **credentials) -> dict | int:
    """The first frame (``hello``) of a socket opened with ``credentials``, or its close code."""

    async def scenario(sockets):
        communicator = await sockets.open(host, expect_hello=False, **credentials)
        message = await communicator.receive_output(timeout=5)
        if message["type"] == "websocket.close":
            return message["code"]
        return json.loads(message["text"])

    return ws(scenario)


def test_session_cookie_authenticates_a_member(ws, org_a, member_of, session_cookie):
    user = member_of(org_a, "editor")

    hello = hello_or_close(ws, host_of(org_a), cookie=session_cookie(user), origin=origin_of(org_a))

    assert hello == {
        "v": 1,
        "type": "hello",
        "organization": "acme",
        "user": user.pk,
        "role": "editor",
        "auth": "session",
        "limits": {"max_bytes": 4096, "max_subscriptions": 50, "messages_per_second": 20.0},
    }


def test_api_token_in_the_authorization_header(ws, org_a, api_token):
    raw, token = api_token(org_a, role="viewer")

    hello = hello_or_close(ws, host_of(org_a), token=raw)

    assert (hello["auth"], hello["role"], hello["user"]) == ("token", "viewer", token.created_by_id)


def test_ticket_from_the_http_endpoint(ws, org_a, member_of, client_on):
    user = member_of(org_a, "viewer")
    response = client_on(org_a, user).post("/realtime/ticket/")
    assert response.status_code == 200

    hello = hello_or_close(
        ws, host_of(org_a), ticket=response.json()["ticket"], origin=origin_of(org_a)
    )

    assert (hello["auth"], hello["user"], hello["role"]) == ("ticket", user.pk, "viewer")


def test_no_credentials_is_unauthenticated(ws, org_a):
    assert hello_or_close(ws, host_of(org_a), origin=origin_of(org_a)) == CloseCode.UNAUTHENTICATED


def test_expired_ticket_is_unauthenticated(ws, org_a, member_of, monkeypatch):
    user = member_of(org_a, "editor")
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 3600)
    ticket = ticket_issue(schema=org_a.schema_name, user_id=user.pk)
    monkeypatch.setattr(signing.time, "time", real_time)

    assert hello_or_close(ws, host_of(org_a), ticket=ticket) == CloseCode.UNAUTHENTICATED


def test_forged_ticket_is_unauthenticated(ws, org_a, member_of):
    ticket = ticket_issue(schema=org_a.schema_name, user_id=member_of(org_a).pk)
    forged = ticket[:-1] + ("A" if ticket[-1] != "A" else "B")

    assert hello_or_close(ws, host_of(org_a), ticket=forged) == CloseCode.UNAUTHENTICATED


def test_expired_session_is_unauthenticated(ws, org_a, member_of, session_cookie):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    cookie = session_cookie(member_of(org_a, "editor"))
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))

    assert hello_or_close(ws, host_of(org_a), cookie=cookie) == CloseCode.UNAUTHENTICATED


def test_logged_out_session_is_unauthenticated(ws, org_a, member_of, session_cookie):
    from django.contrib.sessions.models import Session

    cookie = session_cookie(member_of(org_a, "editor"))
    Session.objects.all().delete()

    assert hello_or_close(ws, host_of(org_a), cookie=cookie) == CloseCode.UNAUTHENTICATED


@pytest.mark.parametrize("problem", ["expired", "revoked", "garbage", "other_org", "creator_left"])
def test_unusable_api_token_is_unauthenticated(ws, org_a, org_b, api_token, problem):
    from django.utils import timezone

    from control_plane.accounts.models import ApiToken, Membership

    raw, token = api_token(org_b if problem == "other_org" else org_a)
    tokens = ApiToken.objects.filter(pk=token.pk)
    if problem == "expired":
        tokens.update(expires_at=timezone.now())
    elif problem == "revoked":
        tokens.update(revoked_at=timezone.now())
    elif problem == "garbage":
        raw = raw[:-4] + "xxxx"
    elif problem == "creator_left":
        Membership.objects.filter(user_id=token.created_by_id).delete()

    assert hello_or_close(ws, host_of(org_a), token=raw) == CloseCode.UNAUTHENTICATED


def test_a_bad_token_does_not_fall_back_to_the_session(ws, org_a, member_of, session_cookie):
    cookie = session_cookie(member_of(org_a, "editor"))

    code = hello_or_close(ws, host_of(org_a), cookie=cookie, token="pmdm_nope_nope")

    assert code == CloseCode.UNAUTHENTICATED


def test_member_of_a_connecting_on_b_host_is_refused(
    ws, org_a, org_b, member_of, session_cookie, client_on
):
    user = member_of(org_a, "owner")
    cookie = session_cookie(user)
    ticket_for_a = client_on(org_a, user).post("/realtime/ticket/").json()["ticket"]

    assert (
        hello_or_close(ws, host_of(org_b), cookie=cookie, origin=origin_of(org_b))
        == CloseCode.NOT_MEMBER
    )
    # A ticket names its organization: A's ticket is no credential on B's host.
    assert hello_or_close(ws, host_of(org_b), ticket=ticket_for_a) == CloseCode.UNAUTHENTICATED


def test_a_page_of_another_organization_is_origin_rejected(
    ws, org_a, org_b, member_of, session_cookie
):
    """B's page is the same site as A's, so the cookie goes along: the origin must stop it."""
    cookie = session_cookie(member_of(org_a, "editor"))

    for origin in (origin_of(org_b), "https://evil.example.com", "null"):
        code = hello_or_close(ws, host_of(org_a), cookie=cookie, origin=origin)
        assert code == CloseCode.ORIGIN_REJECTED, origin


@pytest.mark.parametrize(
    "host", ["nowhere.example.com", "publishmdm.localhost", "ghost.publishmdm.localhost"]
)
def test_unknown_hosts_and_the_control_plane_have_no_sockets(ws, org_a, api_token, host):
    raw, _ = api_token(org_a)

    assert hello_or_close(ws, host, token=raw) == CloseCode.UNKNOWN_HOST


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("suspended", CloseCode.SUSPENDED),
        ("archived", CloseCode.UNKNOWN_HOST),
        ("provisioning", CloseCode.NOT_READY),
    ],
)
def test_organization_status_is_routed_like_http(ws, org_a, api_token, status, code):
    from control_plane.organizations.models import Organization

    raw, _ = api_token(org_a)
    Organization.objects.filter(pk=org_a.pk).update(status=status)

    assert hello_or_close(ws, host_of(org_a), token=raw) == code


def test_unknown_path_is_a_bad_request(ws, org_a, api_token):
    raw, _ = api_token(org_a)

    assert hello_or_close(ws, host_of(org_a), token=raw, path="/ws/nope/") == CloseCode.BAD_REQUEST


def test_host_with_port_and_case_resolves_like_http(ws, org_a, api_token):
    raw, _ = api_token(org_a)

    hello = hello_or_close(ws, host_of(org_a).upper() + ":8000", token=raw)

    assert hello["organization"] == "acme"
