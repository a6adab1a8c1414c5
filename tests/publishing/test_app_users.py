"""App users: names, Central creation, Collect settings and QR codes."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from control_plane.errors import Conflict
from tenants.publishing.collect_settings import decode_settings, encode_settings
from tenants.publishing.models import AppUser
from tenants.publishing.services.app_users import (
    app_user_create,
    app_user_ensure_central,
    app_user_qr_refresh,
    app_user_settings,
)
from tenants.publishing.services.clients import central_client_for
from tenants.publishing.services.projects import project_create
from tenants.publishing.services.variables import (
    app_user_value_set,
    project_value_set,
    variable_create,
)


@pytest.mark.parametrize("name", ["", "has space", "dash-name", "é", "a" * 61, "x.y"])
def test_names_that_would_break_form_ids_are_refused(project, name):
    with pytest.raises(ValidationError):
        app_user_create(actor=None, project=project, name=name)


def test_names_are_unique_per_project_whatever_the_case(project):
    app_user_create(actor=None, project=project, name="Alice")
    with pytest.raises(Conflict):
        app_user_create(actor=None, project=project, name="alice")


def test_creation_queues_the_central_sync(project):
    from django.db import connection

    app_user = app_user_create(actor=None, project=project, name="alice")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'publishing.sync_app_user'"
        )
        args = [
            json.loads(row[0]) if isinstance(row[0], str) else row[0] for row in cursor.fetchall()
        ]
    assert {"schema_name": "org_acme", "app_user_id": app_user.pk} in args


def test_ensure_central_creates_once_and_the_qr_code_carries_the_settings(project, central):
    app_user = AppUser.objects.create(project=project, name="alice")
    client = central_client_for(project.server)
    first = app_user_ensure_central(app_user, client)
    second = app_user_ensure_central(app_user, client)
    assert first == second
    assert len(central.app_users(project.central_project_id)) == 1

    assert app_user_qr_refresh(app_user) is True
    assert app_user_qr_refresh(app_user) is False  # nothing changed, nothing rewritten
    assert default_storage.exists(app_user.qr_code)
    assert app_user.qr_code.startswith("tenants/org_acme/app-users/")
    with default_storage.open(app_user.qr_code, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"

    settings = app_user_settings(app_user)
    token = first[1]
    assert settings["general"]["server_url"] == (
        f"{project.server.base_url}/v1/key/{token}/projects/{project.central_project_id}"
    )
    assert decode_settings(encode_settings(settings)) == settings


def test_qr_code_changes_when_an_input_changes(project, central):
    app_user = AppUser.objects.create(project=project, name="alice")
    app_user_ensure_central(app_user, central_client_for(project.server))
    app_user_qr_refresh(app_user)
    old = app_user.qr_code
    admin = variable_create(actor=None, name="admin_pw")
    project_value_set(project, admin, "s3cret-admin", actor=None)
    assert app_user_qr_refresh(app_user) is True
    assert app_user.qr_code != old and not default_storage.exists(old)
    assert app_user_settings(app_user)["admin"]["admin_pw"] == "s3cret-admin"


def test_admin_passwords_never_leak_between_projects_or_app_users(project, central):
    other = project_create(actor=None, server=project.server, name="Second project")
    admin = variable_create(actor=None, name="admin_pw")
    project_value_set(project, admin, "first-project-pw", actor=None)
    alice = AppUser.objects.create(project=project, name="alice")
    bob = AppUser.objects.create(project=other, name="bob")
    carol = AppUser.objects.create(project=project, name="carol")
    app_user_value_set(carol, admin, "carol-only-pw", actor=None)
    client = central_client_for(project.server)
    for app_user in (alice, bob, carol):
        app_user_ensure_central(app_user, client)
    assert app_user_settings(alice)["admin"]["admin_pw"] == "first-project-pw"
    assert "admin_pw" not in app_user_settings(bob)["admin"]
    assert app_user_settings(carol)["admin"]["admin_pw"] == "carol-only-pw"
    # Building settings twice must not share state between calls.
    assert app_user_settings(alice)["admin"]["admin_pw"] == "first-project-pw"
