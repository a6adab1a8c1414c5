"""Finding 7: deeply nested JSON is a 400 ``parse_error``, never a 500, on every host.

``[`` × 100 000 used to overflow the parser's recursion (an unhandled
``RecursionError``, 500) without logging in, through the public signup
endpoint of the control plane. The depth is now counted before parsing
(``control_plane.safejson``) for API bodies on both hosts, cursors and
WebSocket frames.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from control_plane import safejson
from realtime import protocol
from tests.api.helpers import api_client, error_of, issue_token

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(autouse=True)
def _fresh_throttles():
    caches[settings.API_THROTTLE_CACHE].clear()
    yield
    caches[settings.API_THROTTLE_CACHE].clear()


def nested(depth: int) -> str:
    return '{"name": ' + "[" * depth + '"x"' + "]" * depth + "}"


def assert_parse_error(response) -> None:
    assert response.status_code == 400, response.content[:300]
    error = error_of(response)
    assert error["code"] == "parse_error"
    assert "Traceback" not in response.content.decode()


@pytest.mark.parametrize("body", [DEEP, nested(65), "{" * 5000], ids=["brackets", "65", "braces"])
def test_anonymous_deep_json_on_the_control_plane_is_a_parse_error(db, body):
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    response = client.post("/api/v1/signup/", body, content_type="application/json")
    assert_parse_error(response)


def test_deep_json_on_an_organization_host_is_a_parse_error(org_a, member_of):
    token = issue_token(org_a, member_of(org_a, "admin"), "admin")
    client = api_client(org_a, token=token)
    for body in (DEEP, nested(65)):
        response = client.generic("POST", "/api/v1/variables/", body, "application/json")
        assert_parse_error(response)


def test_nesting_up_to_the_limit_is_parsed(org_a, member_of):
    """The limit refuses depth, not JSON: 64 levels reach the serializer (a field error)."""
    token = issue_token(org_a, member_of(org_a, "admin"), "admin")
    client = api_client(org_a, token=token)
    response = client.generic("POST", "/api/v1/variables/", nested(63), "application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] != "parse_error"


def test_a_deep_cursor_is_an_invalid_cursor(org_a, member_of):
    token = issue_token(org_a, member_of(org_a, "viewer"), "viewer")
    cursor = base64.urlsafe_b64encode(("[" * 2000).encode()).decode()
    response = api_client(org_a, token=token).get("/api/v1/variables/", {"cursor": cursor})
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_cursor"


def test_deep_socket_frames_are_malformed_not_parsed():
    frame = json.dumps({"v": 1, "type": "ping"})[:-1] + ', "ref": ' + "[" * 100 + "]" * 100 + "}"
    assert len(frame) < 4096
    with pytest.raises(protocol.ProtocolError) as excinfo:
        protocol.parse(frame, None, max_bytes=4096)
    assert excinfo.value.code == protocol.ErrorCode.MALFORMED


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"a": "[" * 500 + "{" * 500, "b": ['\\"[[[']})
    assert safejson.loads(text, limit=3)["a"].startswith("[[[")
    with pytest.raises(safejson.JSONError):
        safejson.loads("[[[[1]]]]", limit=3)
