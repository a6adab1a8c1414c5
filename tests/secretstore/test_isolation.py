"""Tenant isolation, the first invariant: same names, different values, never crossed."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.secretstore.errors import TenantMismatch
from tenants.secretstore.services.secrets import secret_delete, secret_put
from tenants.secretstore.store import secret_store

NAMES = ["central-server/1/password", "tinymdm/api-key", "webhook/publish/secret"]


def _write_both(org_a, org_b, planted) -> tuple[dict, dict]:
    values_a = {name: planted("a") for name in NAMES}
    values_b = {name: planted("b") for name in NAMES}
    for organization, values in ((org_a, values_a), (org_b, values_b)):
        with schema_context(organization.schema_name):
            for name, value in values.items():
                secret_put(name, value, actor=None)
    return values_a, values_b


def _read(organization) -> dict:
    with schema_context(organization.schema_name):
        store = secret_store()
        return {name: store.get(name).reveal() for name in store.list_names()}


@pytest.mark.parametrize("backend", ["local", "infisical"])
def test_two_organizations_never_see_each_others_secrets(backend, org_a, org_b, planted, request):
    if backend == "infisical":
        on_infisical = request.getfixturevalue("on_infisical")
        org_a, org_b = on_infisical(org_a), on_infisical(org_b)
        assert org_a.infisical_project_id != org_b.infisical_project_id
    values_a, values_b = _write_both(org_a, org_b, planted)

    assert _read(org_a) == values_a
    assert _read(org_b) == values_b
    # Interleaved reads (cache entries of both alive) still answer per tenant.
    with schema_context(org_a.schema_name):
        store_a = secret_store()
        assert store_a.get_many(NAMES) == {n: store_a.get(n) for n in NAMES}
    with schema_context(org_b.schema_name):
        assert secret_store().get("tinymdm/api-key").reveal() == values_b["tinymdm/api-key"]
    with schema_context(org_a.schema_name):
        assert secret_store().get("tinymdm/api-key").reveal() == values_a["tinymdm/api-key"]
        # A store of one organization refuses to serve while another is active.
        store_a = secret_store()
    with schema_context(org_b.schema_name), pytest.raises(TenantMismatch):
        store_a.get("tinymdm/api-key")

    # Deleting in one leaves the other's secret of the same name alone.
    with schema_context(org_b.schema_name):
        assert secret_delete("tinymdm/api-key", actor=None)
    assert _read(org_a) == values_a
    assert "tinymdm/api-key" not in _read(org_b)


def test_infisical_projects_hold_only_their_own_organizations_values(
    org_a, org_b, on_infisical, infisical, planted
):
    org_a, org_b = on_infisical(org_a), on_infisical(org_b)
    values_a, values_b = _write_both(org_a, org_b, planted)
    stored_a = infisical.stored_secrets(org_a.infisical_project_id)
    stored_b = infisical.stored_secrets(org_b.infisical_project_id)
    assert sorted(stored_a.values()) == sorted(values_a.values())
    assert sorted(stored_b.values()) == sorted(values_b.values())
    # Projects are per organization, named from the slug.
    slugs = {project["slug"] for project in infisical.projects()}
    assert slugs == {"pmdm-acme", "pmdm-globex"}
