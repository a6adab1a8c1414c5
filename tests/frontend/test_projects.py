"""Projects: create in Central, import with a picker filled from the server, edit, switch."""

from __future__ import annotations

from django.db import connection

from tenants.publishing.models import AppUser, Project, ProjectVariableValue
from tenants.publishing.services.variables import variable_create


def test_creating_a_project_creates_it_in_central_and_makes_it_current(
    central_server, org_a, as_role, central
):
    connection.set_schema_to_public()
    client = as_role("editor")

    response = client.post(
        "/projects/new/",
        {"server": central_server.pk, "name": "Malaria 2026", "app_language": "fr"},
    )

    assert response.status_code == 302 and response["Location"] == "/app-users/"
    assert [p["name"] for p in central.projects] == ["Malaria 2026"]
    assert "Malaria 2026" in client.get("/app-users/").content.decode()


def test_project_form_errors_are_shown_next_to_fields(central_server, org_a, as_role, central):
    connection.set_schema_to_public()

    response = as_role("editor").post(
        "/projects/new/", {"server": central_server.pk, "name": "X", "app_language": "not a code"}
    )

    assert 'id="id_app_language-error">Use a language code' in response.content.decode()
    assert central.projects == []


def test_import_picker_lists_the_servers_projects_and_imports_one(
    central_server, org_a, as_role, central
):
    central.add_account("other@example.org", "other-password-123")
    remote = central.state  # projects made through the client below
    from tenants.publishing.services.clients import central_client_for

    connection.set_tenant(org_a)
    client_central = central_client_for(central_server)
    made = client_central.create_project("Existing study")
    client_central.create_app_user(made["id"], "dina")
    connection.set_schema_to_public()
    client = as_role("editor")

    picker = client.get(
        f"/projects/import/choices/?server={central_server.pk}", HTTP_HX_REQUEST="true"
    )
    assert picker.status_code == 200
    assert "Existing study" in picker.content.decode()
    assert "<html" not in picker.content.decode()  # a partial for htmx

    response = client.post(
        "/projects/import/",
        {"server": central_server.pk, "central_project_id": made["id"], "app_language": "en"},
    )

    assert response.status_code == 302
    connection.set_tenant(org_a)
    project = Project.objects.get(central_project_id=made["id"])
    assert list(AppUser.objects.filter(project=project).values_list("name", flat=True)) == ["dina"]
    assert remote is central.state


def test_import_without_a_choice_says_so_next_to_the_picker(
    central_server, org_a, as_role, central
):
    connection.set_schema_to_public()

    response = as_role("editor").post(
        "/projects/import/", {"server": central_server.pk, "app_language": "en"}
    )

    assert 'id="central-error">Choose the project to import.' in response.content.decode()


def test_import_picker_explains_a_central_failure(central_server, org_a, as_role, central):
    connection.set_schema_to_public()
    central.fail("GET", r"/v1/projects", 403, times=None)

    picker = as_role("editor").get(f"/projects/import/choices/?server={central_server.pk}")

    html = picker.content.decode()
    assert "The Central account lacks the rights for this project." in html
    assert "Show Central's error" in html and "Injected failure (403)" in html


def test_editing_a_project_sets_language_and_values(workspace, org_a, as_role):
    connection.set_tenant(org_a)
    pin = variable_create(actor=None, name="pin", transform="sha256")
    connection.set_schema_to_public()
    client = as_role("editor")
    fields = {
        "name": "Household survey",
        "app_language": "pt-BR",
        f"var_{workspace.variable.pk}": "South",
        f"var_{pin.pk}": "1234",
    }

    response = client.post(f"/projects/{workspace.project.pk}/edit/", fields)

    assert response.status_code == 302
    connection.set_tenant(org_a)
    project = Project.objects.get(pk=workspace.project.pk)
    assert project.app_language == "pt-BR"
    values = dict(
        ProjectVariableValue.objects.filter(project=project).values_list("variable__name", "value")
    )
    assert values["district"] == "South"
    assert values["pin"] != "1234" and len(values["pin"]) == 64  # only the digest is kept
    connection.set_schema_to_public()
    page = client.get(f"/projects/{workspace.project.pk}/edit/").content.decode()
    assert "1234" not in page and "A value is set" in page


def test_switching_project_is_remembered_per_person(workspace, org_a, as_role):
    connection.set_tenant(org_a)
    other = Project.objects.create(
        name="Other study", server=workspace.server, central_project_id=99
    )
    connection.set_schema_to_public()
    client = as_role("viewer")

    response = client.post("/projects/switch/", {"project": other.pk, "next": "/app-users/"})

    assert response["Location"] == "/app-users/"
    page = client.get("/app-users/").content.decode()
    assert "No app users in Other study yet" in page
    assert client.post("/projects/switch/", {"project": 99999}).status_code == 404
