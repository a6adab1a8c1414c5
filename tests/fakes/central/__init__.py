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
def fake_central() -> Iterator[FakeCentral]:
    """A running fake Central with no accounts; stopped after the test."""
    fake = FakeCentral().start()
    base_url = fake.base_url
    try:
        yield fake
    finally:
        fake.stop()
        _forget_sessions(base_url)


def _forget_sessions(base_url: str) -> None:
    """Sessions a test's code cached for this fake die with it: a later fake on the same
    port must not be sent them (it would answer 401.2 and add a login to the counts)."""
    from tenants.publishing.central.sessions import session_registry

    session_registry().forget(base_url)
