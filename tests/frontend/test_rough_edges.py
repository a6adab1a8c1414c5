"""Workspace rough edges a first-time user met: sentences instead of audit codes, length
limits that are shown and kept, a spreadsheet checked on save, truthful labels, refusals
said up front, and an organization's real address shown while signing up."""

from __future__ import annotations

import io
import re

from django.db import connection

from control_plane.accounts.models import Membership
from tenants.audit.services import audit_record
from tenants.publishing.models import VALUE_MAX_LENGTH, AppUserVariableValue, FormTemplate
from tests.api.helpers import api_client, issue_token
from tests.frontend.conftest import in_tenant
from tests.publishing.publishing_helpers import simple_form
from tests.xlsforms import YES_NO, make_xlsform


def _broken_form() -> bytes:
    """Fine for the variables, but row 4 of the survey uses a list that does not exist."""
    return make_xlsform(
        [
            {"type": "text", "name": "respondent", "label": "Name"},
            {"type": "calculate", "name": "district", "calculation": "''"},
            {"type": "select_one missing_list", "name": "bad", "label": "Broken"},
        ],
        settings={"form_title": "x", "form_id": "x"},
        choices=YES_NO,
    )


def _file(data: bytes, name: str = "household.xlsx") -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


# --- the audit trail and the dashboard --------------------------------------------------


def test_audit_trail_and_dashboard_show_sentences_with_the_code_as_a_tooltip(
    workspace, org_a, member_of, client_on
):
    ada = member_of(org_a, "owner", email="ada@acme.example.org")
    ada.full_name = "Ada Field"
    ada.save()
    in_tenant(org_a)
    audit_record(
        "publishing.template.publish_requested", actor=ada, target=workspace.template, data={}
    )
    connection.set_schema_to_public()
    client = client_on(org_a, ada)

    audit = client.get("/audit/").content.decode()
    dashboard = client.get("/").content.decode()

    for page in (audit, dashboard):
        assert "Ada Field asked to publish Household visit" in page
        assert 'title="' in page and "publishing.template.publish_requested" in page
        # The code is an attribute (tooltip, data), never the text people read.
        assert ">publishing.template.publish_requested<" not in page
    assert "just now" in dashboard and "0 minutes ago" not in dashboard
    assert 'title="Event code: publishing.template.publish_requested"' in audit


def test_the_audit_filter_offers_kinds_of_events(workspace, org_a, as_role):
    client = as_role("owner")
    page = client.get("/audit/?code=publishing.template.").content.decode()

    assert '<select id="code" name="code">' in page
    assert '<option value="publishing.template." selected>Form templates and publishing' in page
    assert "Ada" not in page  # only template events, none by Ada here


def test_the_api_keeps_the_code_and_adds_the_sentence(org_a, member_of):
    owner = member_of(org_a, "owner", email="olga@acme.example.org")
    in_tenant(org_a)
    audit_record("publishing.variable.deleted", actor=owner, target_label="district")
    connection.set_schema_to_public()
    client = api_client(org_a, token=issue_token(org_a, owner, "owner"))

    event = client.get("/api/v1/audit-events/?code=publishing.variable.").json()["results"][0]

    assert event["code"] == "publishing.variable.deleted"
    assert event["summary"] == "olga@acme.example.org deleted the template variable district"
    assert event["target_label"] == "district"  # a deleted object keeps its name


# --- length limits ---------------------------------------------------------------------------


def test_values_longer_than_the_limit_are_refused_everywhere_and_the_limit_is_shown(
    workspace, org_a, as_role, member_of
):
    client = as_role("editor")
    app_user = workspace.app_users[0]
    var = f"var_{workspace.variable.pk}"

    page = client.get(f"/app-users/{app_user.pk}/").content.decode()
    assert f'maxlength="{VALUE_MAX_LENGTH}"' in page
    assert f"Up to {VALUE_MAX_LENGTH} characters." in page

    too_long = "x" * 100_000
    response = client.post(f"/app-users/{app_user.pk}/", {var: too_long})
    assert response.status_code == 200
    assert f"at most {VALUE_MAX_LENGTH} characters" in response.content.decode()

    token = issue_token(org_a, member_of(org_a, "owner"), "owner")
    api = api_client(org_a, token=token)
    refused = api.patch(
        f"/api/v1/app-users/{app_user.pk}/", {"variables": {"district": too_long}}, format="json"
    )
    described = api.post(
        "/api/v1/variables/", {"name": "site", "description": "d" * 100_000}, format="json"
    )
    assert refused.status_code == 400 and described.status_code == 400
    in_tenant(org_a)
    assert not AppUserVariableValue.objects.filter(value__startswith="xxx").exists()


def test_the_service_refuses_a_value_over_the_limit(workspace, org_a):
    import pytest
    from django.core.exceptions import ValidationError

    from tenants.publishing.services.variables import project_value_set

    in_tenant(org_a)
    with pytest.raises(ValidationError, match="limited to"):
        project_value_set(
            workspace.project, workspace.variable, "y" * (VALUE_MAX_LENGTH + 1), actor=None
        )


def test_every_free_text_field_of_the_workspace_has_a_limit(workspace, as_role):
    client = as_role("owner")
    pages = [
        "/variables/",
        "/tokens/",
        "/members/",
        "/servers/new/",
        "/projects/new/",
        "/templates/new/",
        f"/app-users/{workspace.app_users[0].pk}/",
        f"/projects/{workspace.project.pk}/edit/",
        f"/variables/{workspace.variable.pk}/edit/",
    ]
    for path in pages:
        html = client.get(path).content.decode()
        for tag in re.findall(r"<input[^>]*>|<textarea[^>]*>", html):
            kind = re.search(r'type="([^"]+)"', tag)
            if kind and kind.group(1) in ("hidden", "checkbox", "radio", "file", "password"):
                continue
            if kind is None and tag.startswith("<input"):
                continue
            if 'name="q"' in tag:  # the search box (cut to 100 characters by the listing)
                continue
            assert "maxlength=" in tag, (path, tag)


# --- the spreadsheet is checked on save ---------------------------------------------------


def test_a_broken_spreadsheet_is_refused_on_save_with_sheet_row_and_reason(
    workspace, org_a, as_role
):
    client = as_role("editor")

    response = client.post(
        "/templates/new/",
        {
            "title_base": "Broken survey",
            "form_id_base": "broken_survey",
            "source_kind": "upload",
            "source": _file(_broken_form()),
            "app_users": [a.pk for a in workspace.app_users],
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Errors in the spreadsheet" in html and "missing_list" in html
    rows = re.findall(r'<tr data-issue-row="(\d*)">(.*?)</tr>', html, re.S)
    assert any(row == "4" and "survey" in cells for row, cells in rows), rows
    assert 'id="id_source-error"' in html
    in_tenant(org_a)
    assert not FormTemplate.objects.filter(form_id_base="broken_survey").exists()


def test_one_app_users_value_that_cannot_be_carried_is_named_on_save(workspace, org_a, as_role):
    from tenants.publishing.services.variables import app_user_value_set

    ana, ben, _ = workspace.app_users
    in_tenant(org_a)
    app_user_value_set(ana, workspace.variable, "North\u2019s side", actor=None)
    connection.set_schema_to_public()
    client = as_role("editor")
    pk = workspace.template.pk

    refused = client.post(
        f"/templates/{pk}/edit/",
        {"title_base": "Household visit", "source_kind": "upload", "app_users": [ana.pk, ben.pk]},
    )
    accepted = client.post(
        f"/templates/{pk}/edit/",
        {"title_base": "Household visit", "source_kind": "upload", "app_users": [ben.pk]},
    )

    html = refused.content.decode()
    assert refused.status_code == 200
    assert re.search(r'data-label="App user"[^>]*>ana<', html)
    assert "typographic quote" in html and not re.search(r'data-label="App user"[^>]*>ben<', html)
    assert accepted.status_code == 302


def test_a_good_spreadsheet_still_saves(workspace, org_a, as_role):
    client = as_role("editor")
    response = client.post(
        "/templates/new/",
        {
            "title_base": "Water point",
            "form_id_base": "water_point",
            "source_kind": "upload",
            "source": _file(simple_form()),
            "app_users": [a.pk for a in workspace.app_users],
        },
    )
    assert response.status_code == 302


def test_a_file_that_is_not_a_workbook_is_named_as_such_in_the_workspace_and_the_api(
    workspace, org_a, as_role, member_of
):
    client = as_role("editor")
    csv_named_xlsx = _file(b"name,district\nana,North\n", "household.xlsx")
    response = client.post(
        "/templates/new/",
        {
            "title_base": "Visit",
            "form_id_base": "visit",
            "source_kind": "upload",
            "source": csv_named_xlsx,
        },
    )
    assert "This file is not an Excel workbook (.xlsx)." in response.content.decode()
    assert "zip" not in response.content.decode().lower()

    api = api_client(org_a, token=issue_token(org_a, member_of(org_a, "owner"), "owner"))
    upload = api.put(
        f"/api/v1/templates/{workspace.template.pk}/source/",
        {"file": _file(b"%PDF-1.4 not a workbook", "form.xlsx")},
        format="multipart",
    )
    assert upload.status_code == 400
    assert "This file is not an Excel workbook (.xlsx)." in str(upload.json())


# --- truthful labels and refusals said up front ------------------------------------------------


def test_the_server_password_is_required_when_adding_and_says_when_it_is_needed(workspace, as_role):
    client = as_role("admin")

    add = client.get("/servers/new/").content.decode()
    refused = client.post(
        "/servers/new/",
        {"name": "Other", "base_url": "https://central.example.org", "username": "a@b.org"},
    )
    edit = client.get(f"/servers/{workspace.server.pk}/edit/").content.decode()

    password_label = re.search(r'<label for="id_password">(.*?)</label>', add).group(1)
    assert "optional" not in password_label
    assert "Enter the Central account&#x27;s password." in refused.content.decode()
    edit_label = re.search(r'<label for="id_password">(.*?)</label>', edit).group(1)
    assert "optional" not in edit_label
    assert "Required when adding a server or changing its URL" in edit


def test_the_last_owner_is_not_offered_remove_and_sees_why(org_a, member_of, client_on):
    owner = member_of(org_a, "owner", email="only.owner@acme.example.org")
    editor = member_of(org_a, "editor", email="ed@acme.example.org")
    page = client_on(org_a, owner).get("/members/").content.decode()

    mine = Membership.objects.get(user=owner, organization=org_a)
    theirs = Membership.objects.get(user=editor, organization=org_a)
    assert f'action="/members/{mine.pk}/remove/"' not in page
    assert f'action="/members/{theirs.pk}/remove/"' in page
    assert "The last owner cannot leave or be removed" in page
    assert f'action="/members/{mine.pk}/role/"' not in page


def test_an_admin_is_not_offered_to_remove_an_owner(org_a, member_of, client_on):
    owner = member_of(org_a, "owner")
    member_of(org_a, "owner")
    admin = member_of(org_a, "admin")
    page = client_on(org_a, admin).get("/members/").content.decode()

    mine = Membership.objects.get(user=owner, organization=org_a)
    assert f'action="/members/{mine.pk}/remove/"' not in page
    assert "Only an owner can remove an owner." in page


def test_refusals_are_error_messages(org_a, member_of, client_on):
    owner = member_of(org_a, "owner")
    client = client_on(org_a, owner)
    mine = Membership.objects.get(user=owner, organization=org_a)

    page = client.post(f"/members/{mine.pk}/remove/", {"confirm": "yes"}, follow=True)

    assert 'class="message message-error" role="alert"' in page.content.decode()


# --- signup shows the real address --------------------------------------------------------------


def test_signup_shows_the_address_the_workspace_will_have(client, settings):
    page = client.get("/signup/", HTTP_HOST=settings.BASE_DOMAIN).content.decode()

    assert "&lt;address&gt;" not in page
    assert 'data-slug-from="id_organization_name"' in page
    template = re.search(r'data-template="([^"]+)"', page).group(1)
    assert template == f"http://{{slug}}.{settings.BASE_DOMAIN}:{settings.PUBLIC_PORT}/"
    assert f"http://your-address.{settings.BASE_DOMAIN}:{settings.PUBLIC_PORT}/" in page

    again = client.post(
        "/signup/",
        {"email": "x", "password": "", "organization_name": "Field Team", "slug": "field-team"},
        HTTP_HOST=settings.BASE_DOMAIN,
    ).content.decode()
    assert f"http://field-team.{settings.BASE_DOMAIN}:{settings.PUBLIC_PORT}/" in again
