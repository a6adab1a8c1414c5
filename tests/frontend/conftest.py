"""Fixtures for the workspace's view tests: a small organization with one of everything.

Rows are made directly (or through services that do not call Central) in
organization A's schema, inside the test's transaction. Tests that need Central
use the fake (``central``) and the publishing fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import connection

from tests.fakes.central import fake_central  # noqa: F401
from tests.publishing.fixtures import (  # noqa: F401
    CENTRAL_EMAIL,
    CENTRAL_PASSWORD,
    central,
    central_server,
    in_org_a,
    tenant_tx,
    tx_project,
    tx_server,
)
from tests.publishing.publishing_helpers import simple_form

ROLES = ["viewer", "editor", "admin", "owner"]


@dataclass
class Workspace:
    server: object
    project: object
    variable: object
    app_users: list
    template: object
    run: object
    version: object
    variant: object


def make_workspace(organization) -> Workspace:
    """Server, project, variable, three app users, a template, a finished run with a version."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from control_plane.storage import tenant_path
    from tenants.publishing import credentials
    from tenants.publishing.models import (
        AppUser,
        CentralServer,
        FormTemplateVersion,
        FormVariant,
        ItemStatus,
        Project,
        PublishEvent,
        PublishRun,
        PublishRunItem,
        RunStatus,
    )
    from tenants.publishing.services.templates import template_create
    from tenants.publishing.services.variables import project_value_set, variable_create
    from tenants.secretstore.services.secrets import secret_put

    connection.set_tenant(organization)
    server = CentralServer.objects.create(
        name="Main Central", base_url="https://central.invalid", username_hint="p***@example.org"
    )
    secret_put(credentials.central_username(server.pk), CENTRAL_EMAIL, actor=None)
    secret_put(credentials.central_password(server.pk), CENTRAL_PASSWORD, actor=None)
    project = Project.objects.create(name="Household survey", server=server, central_project_id=7)
    variable = variable_create(actor=None, name="district")
    project_value_set(project, variable, "North", actor=None)
    app_users = [
        AppUser.objects.create(project=project, name=name, central_id=10 + i)
        for i, name in enumerate(["ana", "ben", "chloe"])
    ]
    template = template_create(
        actor=None,
        project=project,
        title_base="Household visit",
        form_id_base="household",
        source_kind="upload",
        source=simple_form(),
        app_user_ids=[a.pk for a in app_users],
    )
    version = FormTemplateVersion.objects.create(
        template=template,
        version="2026-01-01-v1",
        source_file=template.source_file,
        source_sha256=template.source_sha256,
        published_by_label="someone@example.org",
        app_user_names=["ana"],
    )
    workbook = default_storage.save(
        tenant_path("templates/test/household_ana.xlsx"), ContentFile(b"PK-workbook")
    )
    xform = default_storage.save(
        tenant_path("templates/test/household_ana.xml"), ContentFile(b"<h:html>North</h:html>")
    )
    variant = FormVariant.objects.create(
        version=version,
        app_user=app_users[0],
        app_user_name="ana",
        form_id="household_ana",
        workbook_file=workbook,
        workbook_sha256="0" * 64,
        xform_file=xform,
        xform_sha256="0" * 64,
    )
    run = PublishRun.objects.create(
        template=template,
        status=RunStatus.PARTIALLY_FAILED,
        requested_by_label="someone@example.org",
        version=version,
    )
    ok = PublishRunItem.objects.create(
        run=run, app_user=app_users[0], app_user_name="ana", status=ItemStatus.PUBLISHED
    )
    PublishRunItem.objects.create(
        run=run,
        app_user=app_users[1],
        app_user_name="ben",
        status=ItemStatus.FAILED,
        step="publish",
        error="Could not publish the draft: forbidden",
        central_error={
            "code": 403.1,
            "message": "The authentication you provided does not have rights.",
        },
    )
    PublishEvent.objects.create(
        run=run, item=ok, app_user_name="ana", step="done", state="published"
    )
    return Workspace(server, project, variable, app_users, template, run, version, variant)


@pytest.fixture
def workspace(org_a):
    made = make_workspace(org_a)
    connection.set_schema_to_public()
    return made


@pytest.fixture
def as_role(org_a, member_of, client_on):
    """``as_role("editor")`` → a client logged in on organization A with that role."""

    def make(role):
        return client_on(org_a, member_of(org_a, role))

    return make


def in_tenant(organization):
    """Use the organization's schema in the test body (for checking rows after a request)."""
    connection.set_tenant(organization)
