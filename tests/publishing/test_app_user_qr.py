"""An app user's QR code, read back like Collect does, leads to exactly its forms in Central."""

from __future__ import annotations

import importlib
import json
import xml.etree.ElementTree as ET  # noqa: S405 - parsing the fake Central's answers

import pytest
import requests
from django.apps import apps as django_apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from control_plane.storage import tenant_path
from tenants.publishing.collect_settings import (
    collect_settings,
    decode_settings,
    encode_settings,
    qr_png,
    settings_fingerprint,
)
from tenants.publishing.models import AppUser
from tenants.publishing.services.app_users import app_user_settings
from tenants.publishing.tasks import refresh_project_qr_codes, sync_app_user
from tests.publishing.publishing_helpers import (
    app_users,
    publish,
    simple_form,
    template_for,
    with_district,
)
from tests.qr import read_qr

XFORMS = "{http://openrosa.org/xforms/xformsList}"
MIGRATION = "tenants.publishing.migrations.0002_appusers_revocations_qr"


def scanned_settings(app_user: AppUser) -> dict:
    """What Collect gets from scanning the stored QR code PNG."""
    app_user.refresh_from_db()
    with default_storage.open(app_user.qr_code, "rb") as handle:
        return decode_settings(read_qr(handle.read()))


def forms_listed(server_url: str) -> list[str]:
    """Collect's form list request to the server URL it was given."""
    response = requests.get(
        f"{server_url}/formList", headers={"X-OpenRosa-Version": "1.0"}, timeout=5
    )
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)  # noqa: S314 - the fake's answer
    return [x.findtext(f"{XFORMS}formID") for x in root.findall(f"{XFORMS}xform")]


def test_the_qr_code_leads_collect_to_exactly_the_app_users_forms(tx_project, central):
    with_district(tx_project)
    alice, bob = app_users(tx_project, ["alice", "bob"])
    assert publish(template_for(tx_project, [alice, bob])).status == "succeeded"
    visits = template_for(tx_project, [alice], source=simple_form(), form_id_base="visits")
    assert publish(visits).status == "succeeded"
    for user in (alice, bob):  # what the publish run queued for them
        sync_app_user(schema_name="org_acme", app_user_id=user.pk)
    connection.set_tenant(tx_project_tenant())

    alice_url = scanned_settings(alice)["general"]["server_url"]
    bob_url = scanned_settings(bob)["general"]["server_url"]

    pid = tx_project.central_project_id
    assert alice_url.startswith(f"{central.base_url}/v1/key/")
    assert alice_url.endswith(f"/projects/{pid}")
    assert sorted(forms_listed(alice_url)) == ["household_alice", "visits_alice"]
    assert forms_listed(bob_url) == ["household_bob"]


def tx_project_tenant():
    from control_plane.organizations.models import Organization

    return Organization.objects.get(schema_name="org_acme")


def test_the_server_url_has_the_api_version_once():
    for base in ("https://central.example.org", "https://central.example.org/v1/"):
        settings_dict = collect_settings(
            central_base_url=base,
            central_project_id=3,
            app_user_token="tok",
            project_name="P",
            app_user_name="alice",
            app_language="en",
            admin_password=None,
        )
        assert settings_dict["general"]["server_url"] == (
            "https://central.example.org/v1/key/tok/projects/3"
        )


def _queued_refreshes() -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args FROM procrastinate_jobs "
            "WHERE task_name = 'publishing.refresh_project_qr_codes' AND status = 'todo'"
        )
        return [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in cursor.fetchall()]


def test_the_migration_queues_a_refresh_that_rewrites_old_qr_codes(tx_project, central):
    migration = importlib.import_module(MIGRATION)
    with_district(tx_project)
    (alice,) = app_users(tx_project, ["alice"])
    assert publish(template_for(tx_project, [alice])).status == "succeeded"
    app_users(tx_project, ["no_qr_yet"])
    alice.refresh_from_db()
    # A QR code as it was made before the fix, with the URL Central answers 404.
    before = app_user_settings(alice)
    before["general"]["server_url"] = before["general"]["server_url"].replace("/v1/key/", "/key/")
    fingerprint = settings_fingerprint(before)
    old_code = default_storage.save(
        tenant_path(f"app-users/{alice.pk}/qr-{fingerprint[:16]}.png"),
        ContentFile(qr_png(encode_settings(before), alice.name)),
    )
    AppUser.objects.filter(pk=alice.pk).update(qr_code=old_code, qr_inputs_sha256=fingerprint)
    old_url = scanned_settings(alice)["general"]["server_url"]
    assert requests.get(f"{old_url}/formList", timeout=5).status_code == 404
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")

    with connection.schema_editor() as editor:
        migration.queue_qr_refresh(django_apps, editor)
        migration.queue_qr_refresh(django_apps, editor)  # re-run: nothing queued twice

    assert _queued_refreshes() == [{"schema_name": "org_acme", "project_id": tx_project.pk}]
    refresh_project_qr_codes(schema_name="org_acme", project_id=tx_project.pk)
    connection.set_tenant(tx_project_tenant())
    url = scanned_settings(alice)["general"]["server_url"]
    assert "/v1/key/" in url and forms_listed(url) == ["household_alice"]
    assert alice.qr_code != old_code and not default_storage.exists(old_code)


@pytest.mark.parametrize("schema", ["public"])
def test_the_migration_does_nothing_outside_organizations(schema, db):
    migration = importlib.import_module(MIGRATION)
    connection.set_schema_to_public()
    with connection.schema_editor() as editor:
        migration.queue_qr_refresh(django_apps, editor)
    assert _queued_refreshes() == []


def test_migrating_a_schema_that_has_qr_codes_queues_their_refresh(db):
    """The real deploy path: a schema one migration behind, brought current."""
    from django.db.migrations.executor import MigrationExecutor
    from django_tenants.utils import schema_context

    from control_plane.organizations.services import schemas
    from tenants.publishing.models import CentralServer, Project

    schema = "org_qr_behind"
    schemas.schema_create(schema)
    assert schemas.migrate_schemas([schema], processes=1).ok
    with schema_context(schema):
        MigrationExecutor(connection).migrate([("publishing", "0001_initial")])
        server = CentralServer.objects.create(name="S", base_url="https://c.example.org")
        project = Project.objects.create(name="P", server=server, central_project_id=4)
        AppUser.objects.create(project=project, name="alice", central_id=9, qr_code="old.png")
        AppUser.objects.create(project=project, name="bob")
    assert schemas.schemas_pending_migration([schema]) == [schema]

    report = schemas.migrate_schemas([schema], processes=1)

    assert report.migrated == [schema], report.failed
    assert _queued_refreshes() == [{"schema_name": schema, "project_id": project.pk}]
