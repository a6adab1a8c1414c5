"""Publishing stays inside its organization: tokens, data and files."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from tenants.publishing.models import PublishRun
from tenants.publishing.services.clients import central_client_for
from tenants.publishing.services.servers import central_server_save
from tenants.publishing.tasks import execute_publish_run
from tests.publishing.fixtures import CENTRAL_EMAIL, CENTRAL_PASSWORD
from tests.publishing.publishing_helpers import app_users, publish, template_for, with_district


@pytest.fixture
def org_b_tx(committed_org_b, committed_org_a):
    connection.set_tenant(committed_org_a)
    return committed_org_b


def test_two_organizations_on_one_central_never_share_a_token(central, tenant_tx, org_b_tx):
    central.add_account("other@example.org", "other-password-456")
    server_a = central_server_save(
        actor=None,
        name="A",
        base_url=central.base_url,
        username=CENTRAL_EMAIL,
        password=CENTRAL_PASSWORD,
    )
    client_a = central_client_for(server_a)
    client_a.list_projects()
    connection.set_tenant(org_b_tx)
    server_b = central_server_save(
        actor=None,
        name="B",
        base_url=central.base_url,
        username="other@example.org",
        password="other-password-456",
    )
    mark = len(central.requests)
    client_b = central_client_for(server_b)
    client_b.list_projects()
    client_b.create_project("B's project")
    connection.set_tenant(tenant_tx)
    client_a.list_projects()

    calls = central.requests[mark:]
    b_calls = [r for r in calls if r.path != "/v1/sessions"][:2]
    assert [r.account for r in b_calls] == ["other@example.org", "other@example.org"]
    assert calls[-1].account == CENTRAL_EMAIL
    assert "other@example.org" not in repr(client_a) and CENTRAL_PASSWORD not in repr(client_a)


def test_a_job_for_one_organization_cannot_run_another_organizations_run(
    tx_project, central, org_b_tx
):
    with_district(tx_project)
    users = app_users(tx_project, ["alice"])
    template = template_for(tx_project, users)
    run = publish(template)
    files_a = [v.workbook_file for v in run.version.variants.all()]
    assert all(name.startswith("tenants/org_acme/") for name in files_a)

    # The same run id named with B's schema finds nothing in B and changes nothing in A.
    requests_before = len(central.requests)
    with pytest.raises(PublishRun.DoesNotExist):
        execute_publish_run(schema_name=org_b_tx.schema_name, run_id=run.pk)
    assert len(central.requests) == requests_before
    assert not default_storage.exists("tenants/org_globex/templates")
