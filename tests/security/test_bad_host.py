"""A malformed Host header is refused with 400 — in JSON on API paths, never Django's HTML page."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize("host", ['"Tb$,', "a b", "acme.publishmdm.localhost:notaport"])
def test_api_paths_answer_a_bad_host_in_json(host):
    response = Client().put(
        "/api/v1/app-users/1/", data="{}", content_type="application/json", HTTP_HOST=host
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "bad_host"


@pytest.mark.django_db
def test_pages_answer_a_bad_host_with_plain_text():
    response = Client().get("/login/", HTTP_HOST='"Tb$,')
    assert response.status_code == 400
    assert b"<html" not in response.content.lower()
