"""Fixtures of the secret store tests: the fake Infisical, and a leak check on every test."""

from __future__ import annotations

import base64
import logging
import secrets

import pytest

from tests.fakes import infisical as fake_module
from tests.fakes.infisical import PLATFORM_CLIENT_ID

# The fake's fixtures, registered for this package.
infisical_server = fake_module.infisical_server
fake_infisical = fake_module.fake_infisical


@pytest.fixture(autouse=True)
def _fresh_secret_caches():
    """Each test starts without cached secrets or Infisical tokens of an earlier one."""
    from tenants.secretstore.cache import tenant_secret_cache
    from tenants.secretstore.infisical_client import forget_tokens

    tenant_secret_cache.clear()
    forget_tokens()
    yield
    tenant_secret_cache.clear()
    forget_tokens()


class Planted:
    """Secret values a test used; none of them may appear in any log line."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def __call__(self, label: str = "value") -> str:
        value = f"{label}-{secrets.token_urlsafe(18)}"
        self.values.append(value)
        return value

    def binary(self) -> bytes:
        value = secrets.token_bytes(24)
        self.values.append(base64.b64encode(value).decode())
        self.values.append(value.hex())
        return value


@pytest.fixture
def planted() -> Planted:
    return Planted()


@pytest.fixture(autouse=True)
def _no_secret_in_logs(caplog, capfd, planted):
    """Capture every log record (DEBUG and up, urllib3 included) and all output; check them."""
    caplog.set_level(logging.DEBUG)
    yield
    out, err = capfd.readouterr()
    seen = [out, err]
    formatter = logging.Formatter()
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    for record in records:
        seen += [formatter.format(record), str(record.msg), repr(record.args)]
    text = "\n".join(seen)
    leaked = [value for value in planted.values if value in text]
    assert not leaked, "secret values appeared in logs or output"


@pytest.fixture
def infisical(fake_infisical, settings):
    """The fake Infisical, with the platform's settings pointing at it (short timeouts)."""
    settings.INFISICAL_URL = fake_infisical.url
    # The fake listens on 127.0.0.1, which the guarded transport refuses unless listed.
    settings.OUTBOUND_ALLOWED_INTERNAL_HOSTS = [
        *settings.OUTBOUND_ALLOWED_INTERNAL_HOSTS,
        fake_infisical.url.split("://", 1)[1].rstrip("/"),
    ]
    settings.INFISICAL_CLIENT_ID = PLATFORM_CLIENT_ID
    settings.INFISICAL_CLIENT_SECRET = fake_infisical.platform_client_secret
    settings.INFISICAL_TIMEOUT = 2.0
    settings.INFISICAL_READ_RETRIES = 2
    settings.INFISICAL_RETRY_BACKOFF = 0.01
    return fake_infisical


@pytest.fixture
def on_infisical(infisical):
    """``on_infisical(org)`` moves an organization (rolled back after the test) to Infisical."""
    from tenants.secretstore.services.moving import secret_backend_move

    def move(organization):
        secret_backend_move(organization, to="infisical", actor=None)
        organization.refresh_from_db()
        return organization

    return move
