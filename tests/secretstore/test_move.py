"""Moving secrets between backends: verified, switched last, resumable after interruption."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from control_plane.organizations.models import Organization
from tenants.audit.models import AuditEvent
from tenants.secretstore.models import SecretRecord
from tenants.secretstore.services.secrets import secret_put
from tenants.secretstore.store import secret_store


def _local_rows(organization) -> int:
    with schema_context(organization.schema_name):
        return SecretRecord.objects.count()


def test_move_to_infisical_interrupted_half_way_then_rerun(org_a, infisical, planted):
    values = {f"central-server/{n}/password": planted() for n in range(6)}
    with schema_context(org_a.schema_name):
        for name, value in values.items():
            secret_put(name, value, actor=None)

    # Infisical fails on the fourth create: the move stops, nothing is switched or lost.
    infisical.fail("POST", r"/api/v3/secrets/raw/central-server__3__password$", status=500)
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing lost"):
        call_command(
            "secrets_move", "--to", "infisical", "-o", "acme", stdout=io.StringIO(), stderr=err
        )
    assert "Infisical refused creating secret “central-server/3/password”" in err.getvalue()
    org_a.refresh_from_db()
    assert org_a.secret_backend == "local"
    project = org_a.infisical_project_id
    assert project  # the project exists already, with the first secrets in it
    assert len(infisical.stored_secrets(project)) == 3
    with schema_context(org_a.schema_name):
        assert {n: v.reveal() for n, v in secret_store().get_many(list(values)).items()} == values
    assert _local_rows(org_a) == 6

    out = io.StringIO()
    call_command("secrets_move", "--to", "infisical", "-o", "acme", stdout=out)
    assert "acme: local → infisical, 3 copied, 6 verified, 6 removed from local" in out.getvalue()
    org_a.refresh_from_db()
    assert org_a.secret_backend == "infisical" and org_a.infisical_project_id == project
    assert len(infisical.projects()) == 1
    assert sorted(infisical.stored_secrets(project).values()) == sorted(values.values())
    assert _local_rows(org_a) == 0
    with schema_context(org_a.schema_name):
        store = secret_store()
        assert store.backend.kind == "infisical"
        assert {name: store.get(name).reveal() for name in values} == values
        moved = AuditEvent.objects.get(code="secrets.backend.moved")
    assert moved.data == {"from": "local", "to": "infisical", "count": 6}

    out = io.StringIO()  # a third run has nothing left to do
    call_command("secrets_move", "--to", "infisical", "-o", "acme", stdout=out)
    assert "acme: already on infisical, 0 removed from local" in out.getvalue()


def test_move_back_to_local_and_interrupted_after_the_switch(
    org_a, on_infisical, infisical, planted
):
    org_a = on_infisical(org_a)
    values = {f"tailscale/key-{n}": planted() for n in range(4)}
    values["google/refresh-token"] = planted.binary()
    with schema_context(org_a.schema_name):
        for name, value in values.items():
            secret_put(name, value, actor=None)

    # The clean-up after the switch fails half-way: the switch stands, a re-run finishes it.
    infisical.fail("DELETE", r"/api/v3/secrets/raw/tailscale__key-2$", status=503, times=3)
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing lost"):
        call_command("secrets_move", "--to", "local", "--all", stdout=io.StringIO(), stderr=err)
    assert "deleting secret “tailscale/key-2”" in err.getvalue()
    org_a.refresh_from_db()
    assert org_a.secret_backend == "local"
    with schema_context(org_a.schema_name):
        store = secret_store()
        assert {name: store.get(name).reveal() for name in values} == values
    assert len(infisical.stored_secrets(org_a.infisical_project_id)) == 2  # key-2, key-3

    out = io.StringIO()
    call_command("secrets_move", "--to", "local", "-o", "acme", stdout=out)
    assert "acme: already on local, 2 removed from infisical" in out.getvalue()
    assert infisical.stored_secrets(org_a.infisical_project_id) == {}
    assert Organization.objects.get(pk=org_a.pk).secret_backend == "local"


def test_move_copies_only_what_differs_and_deletes_what_the_source_no_longer_has(
    org_a, infisical, planted
):
    """Leftovers of an earlier attempt are brought in line with the source before switching."""
    from tenants.secretstore.backends import backend_for
    from tenants.secretstore.services.provisioning import infisical_project_ensure
    from tenants.secretstore.values import SecretValue

    keep, change = planted(), planted()
    with schema_context(org_a.schema_name):
        secret_put("a/same", keep, actor=None)
        secret_put("a/changed", change, actor=None)
        infisical_project_ensure(org_a)
        target = backend_for(org_a, "infisical")
        target.put("a/same", SecretValue(keep))
        target.put("a/changed", SecretValue(planted()))
        target.put("a/deleted-since", SecretValue(planted()))
    out = io.StringIO()
    call_command("secrets_move", "--to", "infisical", "-o", "acme", "--keep-source", stdout=out)
    assert "1 copied, 2 verified, 0 removed from local" in out.getvalue()
    assert infisical.stored_secrets(org_a.infisical_project_id) == {
        "a__same": keep,
        "a__changed": change,
    }
    assert _local_rows(org_a) == 2  # --keep-source
