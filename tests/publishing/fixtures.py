"""Fixtures for publishing tests: a fake Central account, a server, a project."""

from __future__ import annotations

import pytest
from django.db import connection

CENTRAL_EMAIL = "publisher@example.org"
CENTRAL_PASSWORD = "central-password-123"


@pytest.fixture
def central(fake_central, settings):
    """The fake Central with one account, reachable despite being on 127.0.0.1."""
    fake_central.add_account(CENTRAL_EMAIL, CENTRAL_PASSWORD)
    host = fake_central.base_url.split("://", 1)[1]
    settings.CENTRAL_ALLOWED_INTERNAL_HOSTS = [host]
    settings.CENTRAL_ALLOW_HTTP = True
    return fake_central


@pytest.fixture
def in_org_a(org_a):
    """Run the test inside organization A's schema."""
    connection.set_tenant(org_a)
    yield org_a
    connection.set_schema_to_public()


@pytest.fixture
def central_server(central, in_org_a, make_user):
    from tenants.publishing.services.servers import central_server_save

    return central_server_save(
        actor=None,
        name="Main Central",
        base_url=central.base_url,
        username=CENTRAL_EMAIL,
        password=CENTRAL_PASSWORD,
    )


@pytest.fixture
def project(central_server):
    from tenants.publishing.services.projects import project_create

    return project_create(actor=None, server=central_server, name="Household survey")


@pytest.fixture
def tenant_tx(committed_org_a):
    """Organization A's schema with committed data (for worker threads and processes)."""
    return committed_org_a


@pytest.fixture
def tx_server(central, tenant_tx):
    from tenants.publishing.services.servers import central_server_save

    return central_server_save(
        actor=None,
        name="Main Central",
        base_url=central.base_url,
        username=CENTRAL_EMAIL,
        password=CENTRAL_PASSWORD,
    )


@pytest.fixture
def tx_project(tx_server):
    from tenants.publishing.services.projects import project_create

    return project_create(actor=None, server=tx_server, name="Household survey")
