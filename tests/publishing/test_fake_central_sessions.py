"""The fake Central's sessions and concurrency behave like a real Central's.

Sessions: ``POST /v1/sessions`` answers token, csrf, expiresAt, createdAt and the
session lives 24 h (Central's ``sessionLifetime``); past that, or with a token
Central never issued, every route answers 401.2; ``DELETE /v1/sessions/...``
ends one. Concurrency: requests beyond ``max_concurrency`` wait their turn.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime

import pytest
import requests

from tests.publishing.fake_central_api import EMAIL, PASSWORD, Api, problem

OTHER, OTHER_PASSWORD = "other@example.org", "another-long-password"


@pytest.fixture
def central(fake_central):
    fake_central.add_account(EMAIL, PASSWORD)
    fake_central.add_account(OTHER, OTHER_PASSWORD)
    return fake_central


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_login_answers_like_central_and_lives_24_hours(central):
    api = Api(central)
    session = api.session
    assert set(session) == {"token", "csrf", "expiresAt", "createdAt"}
    assert re.match(r"^[A-Za-z0-9!$]{64}$", session["token"])
    lifetime = _when(session["expiresAt"]) - _when(session["createdAt"])
    assert lifetime.total_seconds() == 86400
    assert central.logins == 1 and central.live_sessions(EMAIL) == [session["token"]]


def test_session_ttl_is_configurable(central):
    central.session_ttl = 90
    session = Api(central).session
    assert (_when(session["expiresAt"]) - _when(session["createdAt"])).total_seconds() == 90


def test_an_expired_session_answers_401_2_everywhere(central):
    api = Api(central)
    assert api.call("GET", "/v1/projects").status_code == 200
    central.advance_clock(86400)
    for method, path in (("GET", "/v1/projects"), ("GET", "/v1/roles"), ("POST", "/v1/sessions")):
        body = problem(api.call(method, path, json={"email": EMAIL, "password": PASSWORD}))
        assert body == {
            "message": "Could not authenticate with the provided credentials.",
            "code": 401.2,
        }
    assert central.live_sessions() == []


def test_an_unknown_or_malformed_token_answers_401_2(central):
    for token in ("x" * 64, "short", "A" * 63 + "_"):
        answer = requests.get(
            f"{central.base_url}/v1/projects",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert problem(answer)["code"] == 401.2


def test_without_any_token_a_protected_route_is_403_1(central):
    answer = requests.get(f"{central.base_url}/v1/projects", timeout=5)
    assert problem(answer)["code"] == 403.1


def test_failed_logins_are_not_counted(central):
    url = f"{central.base_url}/v1/sessions"
    answer = requests.post(url, json={"email": EMAIL, "password": "wrong-password"}, timeout=5)
    assert problem(answer)["code"] == 401.2
    assert central.logins == 0


def test_delete_current_session_ends_it(central):
    api = Api(central)
    assert api.ok("DELETE", "/v1/sessions/current") == {"success": True}
    assert problem(api.call("GET", "/v1/projects"))["code"] == 401.2
    assert central.logouts == 1 and central.live_sessions() == []
    anonymous = requests.delete(f"{central.base_url}/v1/sessions/current", timeout=5)
    assert problem(anonymous)["code"] == 404.1


def test_delete_session_by_token_ends_only_ones_own(central):
    mine, theirs = Api(central), Api(central, OTHER, OTHER_PASSWORD)
    token = theirs.session["token"]
    assert problem(mine.call("DELETE", f"/v1/sessions/{token}"))["code"] == 403.1
    assert problem(mine.call("DELETE", f"/v1/sessions/{'x' * 64}"))["code"] == 403.1
    assert theirs.call("GET", "/v1/projects").status_code == 200
    assert theirs.ok("DELETE", f"/v1/sessions/{token}") == {"success": True}
    assert problem(theirs.call("GET", "/v1/projects"))["code"] == 401.2
    assert central.logouts == 1
    assert central.live_sessions() == [mine.session["token"]]


def test_an_administrator_may_end_another_accounts_session(central):
    central.add_account("root@example.org", "root-long-password", admin=True)
    root, other = Api(central, "root@example.org", "root-long-password"), Api(central)
    assert root.ok("DELETE", f"/v1/sessions/{other.session['token']}") == {"success": True}
    assert problem(other.call("GET", "/v1/projects"))["code"] == 401.2


def test_excess_requests_wait_for_a_slot_and_all_succeed(central):
    """Central queues requests for its database pool; nothing is refused."""
    token = Api(central).session["token"]
    central.max_concurrency = 2
    central.latency = 0.2
    statuses: list[int] = []

    def call() -> None:
        answer = requests.get(
            f"{central.base_url}/v1/projects",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
    assert central.max_in_flight == 2
    assert central.max_queued >= 1
