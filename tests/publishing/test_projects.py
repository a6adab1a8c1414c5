"""Projects: created in Central, imported with app users and inferred templates; access revocation."""

from __future__ import annotations

from datetime import date

import pytest

from control_plane.errors import Conflict
from tenants.publishing.models import AppUser, FormTemplate, FormTemplateVersion, Project
from tenants.publishing.services.access import form_access_revoke
from tenants.publishing.services.clients import central_client_for
from tenants.publishing.services.projects import infer_templates, project_import
from tenants.publishing.services.publish_job import next_version
from tenants.publishing.services.templates import template_set_app_users
from tests.publishing.publishing_helpers import app_users, publish, template_for, with_district


def test_create_makes_the_project_in_central(project, central):
    assert [p["name"] for p in central.projects] == ["Household survey"]
    assert project.central_project_id == central.projects[0]["id"]


def test_infer_templates_prefers_the_longest_app_user_suffix():
    groups = infer_templates(
        ["survey_alice", "survey_north_alice", "other_bob", "lonely"],
        ["alice", "north_alice", "bob"],
    )
    assert groups == {"survey": ["alice", "north_alice"], "other": ["bob"]}


def test_import_brings_app_users_and_templates(central_server, central):
    client = central_client_for(central_server)
    remote = client.create_project("Imported")
    for name in ("alice", "bob"):
        client.create_app_user(remote["id"], name)
    from pyxform.xls2xform import convert

    from tests.xlsforms import make_xlsform

    for name in ("alice", "bob"):
        xml = convert(
            xlsform=make_xlsform(
                [{"type": "text", "name": "q", "label": "Q"}],
                settings={"form_id": f"visits_{name}", "form_title": f"Visits [{name}]"},
            ),
            file_type=".xlsx",
        ).xform.encode()
        client.create_form(remote["id"], xml)

    project = project_import(actor=None, server=central_server, central_project_id=remote["id"])

    assert project.name == "Imported"
    assert sorted(AppUser.objects.filter(project=project).values_list("name", flat=True)) == [
        "alice",
        "bob",
    ]
    template = FormTemplate.objects.get(project=project)
    assert (template.form_id_base, template.title_base) == ("visits", "Visits")
    assert sorted(template.app_users.values_list("name", flat=True)) == ["alice", "bob"]
    with pytest.raises(Conflict):
        project_import(actor=None, server=central_server, central_project_id=remote["id"])


def test_versions_count_only_this_templates_own_forms(project):
    household = FormTemplate.objects.create(
        project=project, title_base="H", form_id_base="household", source_kind="upload"
    )
    longer = FormTemplate.objects.create(
        project=project, title_base="H2", form_id_base="household_extra", source_kind="upload"
    )
    day = date(2026, 11, 25)
    FormTemplateVersion.objects.create(
        template=longer, version="2026-11-25-v7", source_file="x", source_sha256="x"
    )
    assert next_version(household, [], day) == "2026-11-25-v1"
    FormTemplateVersion.objects.create(
        template=household, version="2026-11-25-v1", source_file="x", source_sha256="x"
    )
    assert next_version(household, [], day) == "2026-11-25-v2"
    # Central already holds v4 of one of our exact form ids (published elsewhere).
    assert next_version(household, ["2026-11-25-v4", "2026-11-24-v9", ""], day) == "2026-11-25-v5"


def test_unassigning_revokes_access_in_central(tx_project, central):
    with_district(tx_project)
    users = app_users(tx_project, ["alice", "bob"])
    template = template_for(tx_project, users)
    publish(template)
    pid = tx_project.central_project_id
    bob = AppUser.objects.get(name="bob")
    assert central.assignments(pid, "household_bob") == [bob.central_id]

    template_set_app_users(template, [users[0].pk], actor=None)
    assert form_access_revoke(template_id=template.pk, app_user_id=bob.pk) is True

    assert central.assignments(pid, "household_bob") == []
    assert central.assignments(pid, "household_alice") != []
    assert form_access_revoke(template_id=template.pk, app_user_id=bob.pk) is False
    assert Project.objects.count() == 1
