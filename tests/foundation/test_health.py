from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("host", ["publishmdm.localhost", "unknown.example.com"])
def test_healthz_checks_the_database(db, client, host):
    response = client.get("/healthz", HTTP_HOST=host)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True


def test_healthz_reports_an_unreachable_redis_as_unavailable(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/healthz", HTTP_HOST="publishmdm.localhost")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


def test_a_sane_request_id_is_echoed(db, client):
    response = client.get(
        "/healthz", HTTP_HOST="publishmdm.localhost", HTTP_X_REQUEST_ID="lb-7f3a.9_x"
    )

    assert response["X-Request-ID"] == "lb-7f3a.9_x"


@pytest.mark.parametrize("sent", [None, "", "has spaces", "x" * 65, "inject\r\nme"])
def test_a_missing_or_odd_request_id_is_replaced(sent, db, client):
    headers = {"HTTP_X_REQUEST_ID": sent} if sent is not None else {}

    response = client.get("/healthz", HTTP_HOST="publishmdm.localhost", **headers)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_request_id_is_returned_on_errors_too(db, client):
    response = client.get(
        "/no/such/page/", HTTP_HOST="publishmdm.localhost", HTTP_X_REQUEST_ID="abc-123"
    )

    assert response.status_code == 404
    assert response["X-Request-ID"] == "abc-123"


def test_a_request_id_with_a_trailing_newline_is_replaced(db, client):
    # ``$`` in a regular expression also matches before a final newline.
    response = client.get("/healthz", HTTP_HOST="publishmdm.localhost", HTTP_X_REQUEST_ID="abc\n")

    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
