"""Comparing two versions side by side, and rolling back to one, in the workspace."""

from __future__ import annotations

import pytest
from django.db import connection

from tenants.publishing.models import FormTemplateVersion, PublishRun, RunStatus
from tenants.publishing.services.templates import store_source
from tests.xlsforms import make_xlsform

CHANGED = make_xlsform(
    [
        {"type": "text", "name": "respondent", "label": "Full name"},
        {"type": "calculate", "name": "district", "calculation": "''"},
        {"type": "integer", "name": "age", "label": "Age"},
    ],
    settings={"form_title": "x", "form_id": "x"},
)


@pytest.fixture
def second(workspace, org_a):
    """A newer version of the workspace's template, with a changed source."""
    connection.set_tenant(org_a)
    name, sha = store_source(workspace.template.pk, CHANGED)
    version = FormTemplateVersion.objects.create(
        template=workspace.template,
        version="2026-01-02-v1",
        source_file=name,
        source_sha256=sha,
        app_user_names=["ana"],
    )
    connection.set_schema_to_public()
    return version


def test_the_versions_list_links_changes_and_rollback(workspace, second, as_role):
    t, first = workspace.template.pk, workspace.version

    editor_page = as_role("editor").get(f"/templates/{t}/").content.decode()
    viewer_page = as_role("viewer").get(f"/templates/{t}/").content.decode()

    assert f"/templates/{t}/diff/?from={first.pk}&amp;to={second.pk}" in editor_page
    assert f"/templates/{t}/versions/{first.pk}/rollback/" in editor_page
    assert f"/templates/{t}/versions/{second.pk}/rollback/" not in editor_page  # the latest
    assert f"/templates/{t}/diff/?from={first.pk}" in viewer_page
    assert "/rollback/" not in viewer_page


def test_two_versions_side_by_side(workspace, second, as_role):
    t, first = workspace.template.pk, workspace.version
    client = as_role("viewer")

    page = client.get(f"/templates/{t}/diff/?from={first.pk}&to={second.pk}").content.decode()
    default = client.get(f"/templates/{t}/diff/").content.decode()

    assert 'data-diff="survey:respondent"' in page
    row = page.split('data-diff="survey:respondent"')[1].split("</tr>")[0]
    assert row.index(">Name<") < row.index(">Full name<")  # old on the left, new on the right
    assert 'data-diff="survey:age"' in page and 'class="diff-added"' in page
    assert 'data-diff="survey:n1"' in page and 'class="diff-removed"' in page
    assert "1 added · 1 removed · 1 changed" in page
    # Without a choice: the latest version against the one before it.
    assert "1 added · 1 removed · 1 changed" in default
    assert f'<option value="{first.pk}" selected>' in default
    same = client.get(f"/templates/{t}/diff/?from={first.pk}&to={first.pk}").content.decode()
    assert "have the same survey rows, choices and settings" in same
    assert client.get(f"/templates/{t}/diff/?from=999999").status_code == 404


def test_rolling_back_asks_then_starts_a_run(workspace, second, org_a, as_role):
    t, first = workspace.template.pk, workspace.version
    client = as_role("editor")

    asked = client.post(f"/templates/{t}/versions/{first.pk}/rollback/").content.decode()
    response = client.post(f"/templates/{t}/versions/{first.pk}/rollback/", {"confirm": "yes"})

    assert "Roll back to version 2026-01-01-v1?" in asked
    connection.set_tenant(org_a)
    run = PublishRun.objects.get(status=RunStatus.QUEUED)
    assert run.rollback_of_id == first.pk
    assert response["Location"] == f"/runs/{run.pk}/"
    connection.set_schema_to_public()
    run_page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "rollback to version <code>2026-01-01-v1</code>" in run_page
    assert (
        as_role("viewer")
        .post(f"/templates/{t}/versions/{first.pk}/rollback/", {"confirm": "yes"})
        .status_code
        == 403
    )
