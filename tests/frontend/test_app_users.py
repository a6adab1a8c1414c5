"""App users: list (search, sort, pages), add with own values, QR code and settings, import, export."""

from __future__ import annotations

import csv
import io

import openpyxl
from django.db import connection

from tenants.publishing import credentials
from tenants.publishing.models import AppUser, AppUserRevocation, AppUserVariableValue
from tenants.publishing.services.app_users import app_user_qr_refresh
from tenants.secretstore.services.secrets import secret_put


def _in_a(org):
    connection.set_tenant(org)


def test_list_searches_sorts_and_pages(workspace, org_a, as_role):
    _in_a(org_a)
    AppUser.objects.bulk_create(
        [AppUser(project=workspace.project, name=f"user_{i:02d}") for i in range(30)]
    )
    connection.set_schema_to_public()
    client = as_role("viewer")

    first = client.get("/app-users/").content.decode()
    second = client.get("/app-users/?page=2").content.decode()
    found = client.get("/app-users/?q=chl").content.decode()
    descending = client.get("/app-users/?sort=-name").content.decode()

    assert "1–25 of 33" in first and 'rel="next"' in first
    assert "26–33 of 33" in second
    assert 'data-app-user="chloe"' in found and 'data-app-user="ana"' not in found
    assert descending.split('data-app-user="', 2)[1].startswith("user_29")
    assert 'aria-sort="descending"' in descending


def test_search_from_htmx_returns_only_the_results(workspace, as_role):
    response = as_role("viewer").get("/app-users/?q=ben", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert "<html" not in html and 'data-app-user="ben"' in html


def test_viewers_see_no_qr_codes(workspace, as_role):
    client = as_role("viewer")

    listing = client.get("/app-users/").content.decode()
    detail = client.get(f"/app-users/{workspace.app_users[0].pk}/").content.decode()

    assert "qr.png" not in listing and "qr.png" not in detail
    assert "editors and above can see them" in detail
    assert client.get(f"/app-users/{workspace.app_users[0].pk}/qr.png").status_code == 403


def test_adding_an_app_user_with_its_own_values(workspace, org_a, as_role):
    client = as_role("editor")

    response = client.post(
        "/app-users/new/", {"name": "dina", f"var_{workspace.variable.pk}": "West"}
    )
    duplicate = client.post("/app-users/new/", {"name": "DINA"})
    invalid = client.post("/app-users/new/", {"name": "has space"})

    assert response.status_code == 302
    assert 'id="id_name-error">An app user named DINA already exists' in duplicate.content.decode()
    assert 'id="id_name-error">Use 1 to 60 letters' in invalid.content.decode()
    _in_a(org_a)
    dina = AppUser.objects.get(name="dina")
    assert AppUserVariableValue.objects.get(app_user=dina).value == "West"
    connection.set_schema_to_public()
    page = client.get(response["Location"]).content.decode()
    assert "Creating dina in Central" in page and 'hx-trigger="every 2s"' in page


def test_qr_code_settings_json_and_regeneration(workspace, org_a, as_role):
    _in_a(org_a)
    ana = workspace.app_users[0]
    secret_put(credentials.app_user_token(ana.pk), "tok-ana-123", actor=None)
    app_user_qr_refresh(ana)
    connection.set_schema_to_public()
    client = as_role("editor")

    page = client.get(f"/app-users/{ana.pk}/").content.decode()
    png = client.get(f"/app-users/{ana.pk}/qr.png")
    panel = client.get(f"/app-users/{ana.pk}/qr/").content.decode()
    regenerated = client.post(f"/app-users/{ana.pk}/qr/regenerate/", follow=True)

    assert "/v1/key/tok-ana-123/projects/7" in page  # the settings JSON, with a copy button
    assert 'data-copy="#settings-json"' in page
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert b"".join(png.streaming_content).startswith(b"\x89PNG")
    assert "every 2s" not in panel  # ready: no more polling
    assert "New QR code for ana." in regenerated.content.decode()


def test_deleting_an_app_user_asks_first(workspace, org_a, as_role):
    client = as_role("editor")
    pk = workspace.app_users[2].pk

    asked = client.post(f"/app-users/{pk}/delete/")
    deleted = client.post(f"/app-users/{pk}/delete/", {"confirm": "yes"})

    assert "Delete the app user chloe?" in asked.content.decode()
    assert "deleted in Central in the background" in asked.content.decode()
    assert deleted.status_code == 302
    _in_a(org_a)
    assert not AppUser.objects.filter(pk=pk).exists()


def test_deleting_an_app_user_in_central_shows_its_revocation(workspace, org_a, as_role):
    _in_a(org_a)
    pk = workspace.app_users[2].pk
    AppUser.objects.filter(pk=pk).update(central_id=77)
    connection.set_schema_to_public()
    client = as_role("editor")

    done = client.post(f"/app-users/{pk}/delete/", {"confirm": "yes"}, follow=True).content
    _in_a(org_a)
    AppUserRevocation.objects.update(status="failed", error="Central said no (403.1).")
    connection.set_schema_to_public()
    failed = client.get("/app-users/").content.decode()

    assert "access in Central is being revoked in the background" in done.decode()
    assert "revoking its access in Central" in done.decode()
    assert "could not be revoked — Central said no (403.1)." in failed
    assert (
        "Deleted app users in Central" not in as_role("viewer").get("/app-users/").content.decode()
    )


def _csv(rows) -> io.BytesIO:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    data = io.BytesIO(buffer.getvalue().encode())
    data.name = "app-users.csv"
    return data


def test_import_shows_each_rows_change_then_applies_it(workspace, org_a, as_role):
    client = as_role("editor")
    upload = _csv([["name", "district"], ["ana", "East"], ["ben", ""], ["dina", "West"]])

    preview = client.post("/app-users/import/", {"file": upload})

    html = preview.content.decode()
    assert 'data-row="2" data-action="update"' in html and "North" not in html.split("data-row")[0]
    assert '<span class="change-old">North</span> → East' not in html  # ana had no own value
    assert 'data-row="3" data-action="unchanged"' in html
    assert 'data-row="4" data-action="create"' in html
    _in_a(org_a)
    assert not AppUser.objects.filter(name="dina").exists()  # nothing written yet
    connection.set_schema_to_public()

    confirmed = client.post("/app-users/import/confirm/", follow=True)

    assert "1 app users added, 1 updated" in confirmed.content.decode()
    _in_a(org_a)
    values = dict(
        AppUserVariableValue.objects.filter(app_user__name__in=["ana", "dina"]).values_list(
            "app_user__name", "value"
        )
    )
    assert values == {"ana": "East", "dina": "West"}


def test_import_with_errors_cannot_be_confirmed(workspace, org_a, as_role):
    client = as_role("editor")
    upload = _csv([["name", "district", "nope"], ["bad name", "x", "y"]])

    preview = client.post("/app-users/import/", {"file": upload}).content.decode()

    assert "Unknown columns (not template variables): nope." in preview
    assert "/app-users/import/confirm/" not in preview
    refused = client.post("/app-users/import/confirm/", follow=True)
    assert "Some rows have errors; nothing was imported." in refused.content.decode()


def test_import_refuses_other_file_types_next_to_the_field(workspace, as_role):
    upload = io.BytesIO(b"hello")
    upload.name = "notes.txt"

    response = as_role("editor").post("/app-users/import/", {"file": upload})

    assert 'id="id_file-error">Upload a .csv or .xlsx file.' in response.content.decode()


def test_export_as_csv_and_xlsx(workspace, org_a, as_role):
    _in_a(org_a)
    AppUserVariableValue.objects.create(
        app_user=workspace.app_users[1], variable=workspace.variable, value="South"
    )
    connection.set_schema_to_public()
    client = as_role("viewer")

    as_csv = client.get("/app-users/export/?format=csv")
    as_xlsx = client.get("/app-users/export/?format=xlsx")

    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows == [["name", "district"], ["ana", ""], ["ben", "South"], ["chloe", ""]]
    assert "attachment" in as_csv["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [c.value for c in sheet[3]] == ["ben", "South"]
    assert client.get("/app-users/export/?format=pdf").status_code == 404
