"""Schemathesis against the running application (in-process WSGI, organization A's host).

Every operation of the tenant schema gets a bounded number of generated
requests (valid and invalid ones) sent with an owner's token; every answer
must be a non-5xx that matches the schema: documented status, content type,
headers and body. Requests run in this test's transaction, like any test.
"""

from __future__ import annotations

import copy
import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.tenant.schema_views import tenant_schema
from tests.api.helpers import issue_token, tenant

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Bounded for CI; raise locally to dig deeper: API_FUZZ_EXAMPLES=100 API_FUZZ_COVERAGE=1.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "6"))


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: requests must not close the test's transaction's connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def owner_token(org_a, member_of, no_dns):
    from tenants.publishing.models import AppUser, CentralServer, Project, TemplateVariable

    owner = member_of(org_a, "owner")
    with tenant(org_a):
        # A few rows, so that some generated ids and filters find something.
        server = CentralServer.objects.create(name="Fuzz", base_url="https://central.invalid")
        project = Project.objects.create(name="Fuzz", server=server, central_project_id=1)
        AppUser.objects.create(project=project, name="fuzzer")
        TemplateVariable.objects.create(name="district")
    return issue_token(org_a, owner, "owner")


# Built at collection: generating the schema needs Django's settings, not the database.
schema = schemathesis.openapi.from_dict(copy.deepcopy(tenant_schema()))
schema.app = WSGIHandler()
# Examples and fuzzing (valid and invalid data), not the exhaustive coverage phase: CI time.
schema.config.phases.coverage.enabled = os.environ.get("API_FUZZ_COVERAGE") == "1"


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, org_a, owner_token, keep_test_connection):
    case.call_and_validate(
        base_url=f"http://{org_a.primary_domain}",
        headers={"Authorization": f"Bearer {owner_token}"},
        checks=CHECKS,
    )
