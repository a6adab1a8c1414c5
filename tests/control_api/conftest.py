"""Fixtures of the control-plane API tests: plans, platform tokens, a JSON client."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client


@pytest.fixture(autouse=True)
def plans(db):
    """The default plans (transactional tests elsewhere flush the seeded rows)."""
    from control_plane.billing.services import plans_seed

    return plans_seed()


@pytest.fixture(autouse=True)
def _fresh_throttles():
    from django.core.cache import caches

    caches[settings.API_THROTTLE_CACHE].clear()
    yield
    caches[settings.API_THROTTLE_CACHE].clear()


@dataclass
class Api:
    """A client on the control-plane host speaking JSON, with an optional token."""

    token: str | None

    def _client(self) -> Client:
        headers = {"HTTP_HOST": settings.BASE_DOMAIN}
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return Client(**headers)

    def get(self, path: str, query: dict | None = None, **extra: Any):
        return self._client().get(path, query, **extra)

    def post(self, path: str, body: Any = None, **extra: Any):
        return self._client().post(
            path, json.dumps(body or {}), content_type="application/json", **extra
        )

    def patch(self, path: str, body: Any = None, **extra: Any):
        return self._client().patch(
            path, json.dumps(body or {}), content_type="application/json", **extra
        )

    def delete(self, path: str, **extra: Any):
        return self._client().delete(path, **extra)


@pytest.fixture
def make_token(db):
    """``make_token(*scopes, name=...)`` → the raw token (shown once)."""
    from control_plane.accounts.services.platform_tokens import platform_token_create

    def make(*scopes: str, name: str = "terraform") -> str:
        scopes = scopes or ("organizations:write",)
        return platform_token_create(name=name, scopes=list(scopes)).secret

    return make


@pytest.fixture
def api(make_token) -> Api:
    """A client with a read+write platform token."""
    return Api(make_token("organizations:write"))


@pytest.fixture
def anonymous() -> Api:
    return Api(None)
