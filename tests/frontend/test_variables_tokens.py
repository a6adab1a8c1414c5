"""Template variables (with the sha256 option) and API tokens (shown once)."""

from __future__ import annotations

from django.db import connection

from control_plane.accounts.models import ApiToken
from control_plane.accounts.services.api_tokens import api_token_authenticate
from tenants.publishing.models import TemplateVariable


def test_adding_a_variable_and_its_errors(org_a, as_role):
    client = as_role("editor")

    bad = client.post("/variables/", {"name": "1st-value", "transform": ""})
    good = client.post("/variables/", {"name": "pin", "transform": "sha256", "description": "PIN"})
    again = client.post("/variables/", {"name": "pin", "transform": ""})

    assert 'id="id_name-error">Start with a letter or underscore' in bad.content.decode()
    assert good.status_code == 302
    assert 'id="id_name-error">A variable named pin already exists.' in again.content.decode()
    page = client.get("/variables/").content.decode()
    assert "SHA-256 digest" in page and "About the SHA-256 option" in page
    connection.set_tenant(org_a)
    assert TemplateVariable.objects.get().transform == "sha256"


def test_viewers_read_variables_but_cannot_add(org_a, as_role):
    client = as_role("viewer")

    assert "Add a variable" not in client.get("/variables/").content.decode()
    assert client.post("/variables/", {"name": "site"}).status_code == 403


def test_editing_and_deleting_a_variable(workspace, org_a, as_role):
    client = as_role("editor")
    pk = workspace.variable.pk

    edited = client.post(f"/variables/{pk}/edit/", {"transform": "", "description": "Where"})
    asked = client.post(f"/variables/{pk}/delete/")
    deleted = client.post(f"/variables/{pk}/delete/", {"confirm": "yes"})

    assert edited.status_code == 302
    assert "Delete the variable district?" in asked.content.decode()
    assert deleted.status_code == 302
    connection.set_tenant(org_a)
    assert not TemplateVariable.objects.exists()


def test_a_token_is_shown_once_and_works_until_revoked(org_a, member_of, client_on):
    admin = member_of(org_a, "admin")
    client = client_on(org_a, admin)

    response = client.post(
        "/tokens/", {"name": "Nightly export", "role": "viewer", "expires_in": "30"}
    )

    html = response.content.decode()
    assert "shown only this once" in html
    secret = html.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert api_token_authenticate(secret, org_a) is not None
    later = client.get("/tokens/").content.decode()
    assert secret not in later and "Nightly export" in later
    token = ApiToken.objects.get()
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 200  # asks first
    assert client.post(f"/tokens/{token.pk}/revoke/", {"confirm": "yes"}).status_code == 302
    assert api_token_authenticate(secret, org_a) is None


def test_a_token_above_ones_own_role_is_refused_next_to_the_field(org_a, member_of, client_on):
    client = client_on(org_a, member_of(org_a, "admin"))

    response = client.post("/tokens/", {"name": "Too strong", "role": "owner"})

    assert "cannot be higher than your own" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_tokens_of_another_organization_cannot_be_revoked(org_a, org_b, member_of, client_on):
    client_on(org_a, member_of(org_a, "admin")).post("/tokens/", {"name": "A", "role": "viewer"})
    token = ApiToken.objects.get()

    response = client_on(org_b, member_of(org_b, "owner")).post(
        f"/tokens/{token.pk}/revoke/", {"confirm": "yes"}
    )

    assert response.status_code == 404
    assert ApiToken.objects.get().revoked_at is None
