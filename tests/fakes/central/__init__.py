"""A fake ODK Central for tests: real HTTP on 127.0.0.1, Central's paths and error codes.

Tests get a fresh, running server from the ``fake_central`` fixture::

    def test_x(fake_central):
        fake_central.add_account("ana@example.org", "a-long-password")
        client = CentralClient(fake_central.base_url, "ana@example.org", "a-long-password")

Load the fixture in a conftest with ``from tests.fakes.central import fake_central``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.central.server import FakeCentral, Recorded

__all__ = ["FakeCentral", "Recorded", "fake_central"]


@pytest.fixture
def fake_central(settings) -> Iterator[FakeCentral]:
    """A running fake Central with no accounts; stopped after the test.

    Its 127.0.0.1 address is allow-listed for the guarded outbound transport (as an
    operator would list an on-premises Central); SSRF tests build their own targets.
    """
    fake = FakeCentral().start()
    host = fake.base_url.split("://", 1)[1]
    settings.CENTRAL_ALLOWED_INTERNAL_HOSTS = [*settings.CENTRAL_ALLOWED_INTERNAL_HOSTS, host]
    settings.CENTRAL_ALLOW_HTTP = True
    try:
        yield fake
    finally:
        fake.stop()
