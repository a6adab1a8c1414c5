"""Form templates: add with an upload, errors next to fields, edit, versions and downloads."""

from __future__ import annotations

import io

from django.db import connection

from tenants.publishing.models import FormTemplate, FormTemplateAttachment
from tests.publishing.publishing_helpers import simple_form


def _file(data: bytes, name: str = "household.xlsx") -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def _new(workspace, **changes):
    return {
        "title_base": "Water point",
        "form_id_base": "water_point",
        "source_kind": "upload",
        "source": _file(simple_form()),
        "app_users": [a.pk for a in workspace.app_users[:2]],
        **changes,
    }


def test_adding_a_template_with_an_uploaded_xlsform(workspace, org_a, as_role):
    client = as_role("editor")

    response = client.post("/templates/new/", _new(workspace))

    assert response.status_code == 302
    connection.set_tenant(org_a)
    template = FormTemplate.objects.get(form_id_base="water_point")
    assert template.source_file and len(template.source_sha256) == 64
    assert sorted(template.app_users.values_list("name", flat=True)) == ["ana", "ben"]
    connection.set_schema_to_public()
    detail = client.get(response["Location"]).content.decode()
    assert "Water point" in detail and "Not published yet" in detail


def test_template_errors_are_shown_next_to_their_fields(workspace, as_role):
    client = as_role("editor")

    unreadable = client.post("/templates/new/", _new(workspace, source=_file(b"not a workbook")))
    missing = client.post("/templates/new/", _new(workspace, source=""))
    wrong_type = client.post("/templates/new/", _new(workspace, source=_file(b"a,b", "x.csv")))
    bad_id = client.post("/templates/new/", _new(workspace, form_id_base="9 lives"))
    taken = client.post("/templates/new/", _new(workspace, form_id_base="household"))

    assert 'id="id_source-error"' in unreadable.content.decode()
    assert 'id="id_source-error">Choose the .xlsx file of your form.' in missing.content.decode()
    assert 'id="id_source-error">This file is not an Excel workbook (.xlsx).' in (
        wrong_type.content.decode()
    )
    assert 'id="id_form_id_base-error">Start with a letter' in bad_id.content.decode()
    assert 'id="id_form_id_base-error">A template with form id household' in taken.content.decode()


def test_google_sheets_are_offered_only_when_google_is_configured(workspace, as_role, settings):
    client = as_role("editor")
    assert "google_sheet" not in client.get("/templates/new/").content.decode()

    settings.GOOGLE_CLIENT_ID, settings.GOOGLE_CLIENT_SECRET = "id", "secret"
    page = client.get("/templates/new/").content.decode()

    assert 'value="google_sheet"' in page
    assert "connect your Google account" in page


def test_editing_assigns_app_users_and_uploads_a_new_source(workspace, org_a, as_role):
    client = as_role("editor")
    pk = workspace.template.pk

    response = client.post(
        f"/templates/{pk}/edit/",
        {
            "title_base": "Household visit v2",
            "source_kind": "upload",
            "source": _file(simple_form(("district", "site"))),
            "app_users": [workspace.app_users[0].pk],
        },
    )

    assert response.status_code == 302
    connection.set_tenant(org_a)
    template = FormTemplate.objects.get(pk=pk)
    assert template.title_base == "Household visit v2"
    assert template.source_sha256 != workspace.template.source_sha256
    assert list(template.app_users.values_list("name", flat=True)) == ["ana"]


def test_detail_lists_versions_with_downloads(workspace, as_role):
    client = as_role("viewer")
    t, v = workspace.template.pk, workspace.variant.pk

    page = client.get(f"/templates/{t}/").content.decode()
    xml = client.get(f"/templates/{t}/variants/{v}/xml/")
    xlsx = client.get(f"/templates/{t}/variants/{v}/xlsx/")

    assert "2026-01-01-v1" in page and f"/templates/{t}/variants/{v}/xlsx/" in page
    assert "Publish</a>" not in page  # viewers do not publish
    assert b"".join(xml.streaming_content) == b"<h:html>North</h:html>"
    assert xml["Content-Disposition"].startswith(
        'attachment; filename="household_ana-2026-01-01-v1'
    )
    assert xlsx.status_code == 200
    assert client.get(f"/templates/{t + 1}/variants/{v}/xml/").status_code == 404
    assert client.get(f"/templates/{t}/variants/{v}/pdf/").status_code == 404


def test_attachments_upload_and_download(workspace, org_a, as_role):
    client = as_role("editor")
    t = workspace.template.pk

    client.post(
        f"/templates/{t}/attachments/", {"file": _file(b"id,name\n1,North\n", "villages.csv")}
    )

    connection.set_tenant(org_a)
    attachment = FormTemplateAttachment.objects.get()
    connection.set_schema_to_public()
    download = client.get(f"/templates/{t}/attachments/{attachment.pk}/")
    assert attachment.name == "villages.csv"
    assert b"".join(download.streaming_content) == b"id,name\n1,North\n"


def test_deleting_a_template_asks_first_then_archives_it(workspace, org_a, as_role):
    client = as_role("editor")
    pk, v = workspace.template.pk, workspace.variant.pk

    asked = client.post(f"/templates/{pk}/delete/").content.decode()
    client.post(f"/templates/{pk}/delete/", {"confirm": "yes"})

    assert "Delete the template “Household visit”?" in asked and "restore" in asked
    connection.set_tenant(org_a)
    assert not FormTemplate.objects.exists()  # hidden
    assert FormTemplate.all_objects.get(pk=pk).archived_at is not None
    connection.set_schema_to_public()
    assert 'data-template="household"' not in client.get("/templates/").content.decode()
    archived = client.get("/templates/?archived=1").content.decode()
    assert 'data-template="household"' in archived
    # Its page, versions and downloads stay; it can no longer be edited or published.
    page = client.get(f"/templates/{pk}/").content.decode()
    assert "This template is archived" in page and "/restore/" not in page  # editors ask
    assert f'href="/templates/{pk}/publish/"' not in page
    assert client.get(f"/templates/{pk}/variants/{v}/xml/").status_code == 200
    assert client.get(f"/templates/{pk}/edit/").status_code == 404
    assert client.get(f"/templates/{pk}/publish/").status_code == 404


def test_an_admin_restores_an_archived_template(workspace, org_a, as_role):
    pk = workspace.template.pk
    as_role("editor").post(f"/templates/{pk}/delete/", {"confirm": "yes"})
    admin = as_role("admin")

    assert "/restore/" in admin.get(f"/templates/{pk}/").content.decode()
    assert as_role("editor").post(f"/templates/{pk}/restore/").status_code == 403
    response = admin.post(f"/templates/{pk}/restore/")

    assert response["Location"] == f"/templates/{pk}/"
    connection.set_tenant(org_a)
    assert FormTemplate.objects.filter(pk=pk).exists()


def test_lists_search_and_show_the_latest_version(workspace, as_role):
    client = as_role("viewer")

    page = client.get("/templates/").content.decode()
    none = client.get("/templates/?q=zzz").content.decode()

    assert "2026-01-01-v1" in page and 'data-template="household"' in page
    assert "No template matches “zzz”." in none
