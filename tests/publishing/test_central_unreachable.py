"""A Central that cannot be reached is named, with what we were doing (defect 9)."""

from __future__ import annotations

import socket

import pytest

from tenants.publishing.central import CentralClient, CentralUnavailable
from tenants.publishing.central.sessions import SessionSlot


@pytest.fixture
def closed_port_url(settings) -> str:
    """A 127.0.0.1 address where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{probe.getsockname()[1]}"
    settings.CENTRAL_ALLOWED_INTERNAL_HOSTS = [host]
    settings.CENTRAL_ALLOW_HTTP = True
    return f"http://{host}"


def test_a_refused_connection_names_the_server_and_the_upload(closed_port_url):
    slot = SessionSlot()
    slot.set("A" * 64, None)  # already signed in: the upload itself meets the closed port
    client = CentralClient(
        closed_port_url, "ana@example.org", "pw-123456", retries=1, backoff=0.01, session_slot=slot
    )
    with pytest.raises(CentralUnavailable) as caught:
        client.upload_draft_attachment(3, "household_ana", "logo.png", b"png", "image/png")
    host = closed_port_url.split("://", 1)[1]
    expected = (
        f"Could not reach {host} while uploading attachment 'logo.png' to form "
        "'household_ana' in project 3: connection refused (2 attempts)"
    )
    assert str(caught.value) == expected
    assert caught.value.message == expected  # what a run's item and the run page show
    assert caught.value.status is None


def test_a_refused_sign_in_names_what_it_was_for(closed_port_url):
    client = CentralClient(closed_port_url, "ana@example.org", "pw-123456", retries=0)
    with pytest.raises(CentralUnavailable) as caught:
        client.create_project("Field work")
    assert str(caught.value) == (
        f"Could not reach {closed_port_url.split('://', 1)[1]} while signing in as "
        "ana@example.org to create project 'Field work': connection refused (1 attempt)"
    )
    assert "pw-123456" not in repr(caught.value)
