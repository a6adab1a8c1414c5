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
    try:
        yield fake
    finally:
        fake.stop()
