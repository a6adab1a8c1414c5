"""The publish page and the run page: start, follow (live partial), explain errors, retry."""

from __future__ import annotations

import pytest
from django.db import connection

from control_plane.accounts.models import Membership
from tenants.publishing.models import ItemStatus, PublishRun, RunStatus
from tenants.publishing.services.publish_job import publish_run_execute
from tests.publishing.publishing_helpers import app_users, broken_form, template_for, with_district


def test_viewers_follow_runs_but_cannot_publish(workspace, as_role):
    client = as_role("viewer")
    t = workspace.template.pk

    assert client.get(f"/templates/{t}/publish/").status_code == 403
    assert client.post(f"/templates/{t}/publish/", {"scope": "all"}).status_code == 403
    run_page = client.get(f"/runs/{workspace.run.pk}/").content.decode()
    assert 'data-app-user="ana" data-status="published"' in run_page
    assert "Retry failed app users" not in run_page
    forbidden = client.get(f"/templates/{t}/publish/").content.decode()
    assert "Your role does not allow this" in forbidden and "editor role" in forbidden


def test_starting_a_publish_opens_the_run_which_a_reload_resumes(workspace, org_a, as_role):
    client = as_role("editor")
    t = workspace.template.pk

    response = client.post(f"/templates/{t}/publish/", {"scope": "all"})

    connection.set_tenant(org_a)
    run = PublishRun.objects.filter(status=RunStatus.QUEUED).get()
    assert sorted(run.items.values_list("app_user_name", flat=True)) == ["ana", "ben", "chloe"]
    connection.set_schema_to_public()
    assert response["Location"] == f"/runs/{run.pk}/"
    # Coming back to the publish page finds the run in progress.
    assert client.get(f"/templates/{t}/publish/")["Location"] == f"/runs/{run.pk}/"
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert 'data-active="true"' in page and "run.js" in page
    assert page.count('data-status="pending"') >= 3


def test_publishing_to_some_app_users(workspace, org_a, as_role):
    client = as_role("editor")
    t = workspace.template.pk

    nobody = client.post(f"/templates/{t}/publish/", {"scope": "some"})
    some = client.post(
        f"/templates/{t}/publish/", {"scope": "some", "app_users": [workspace.app_users[1].pk]}
    )

    assert 'id="id_app_users-error">Choose at least one app user.' in nobody.content.decode()
    assert some.status_code == 302
    connection.set_tenant(org_a)
    run = PublishRun.objects.get(status=RunStatus.QUEUED)
    assert list(run.items.values_list("app_user_name", flat=True)) == ["ben"]


def test_the_live_partial_polls_only_while_the_run_is_active(workspace, org_a, as_role):
    client = as_role("viewer")
    finished = client.get(f"/runs/{workspace.run.pk}/live/?poll=1").content.decode()
    connection.set_tenant(org_a)
    PublishRun.objects.filter(pk=workspace.run.pk).update(status=RunStatus.RUNNING)
    connection.set_schema_to_public()

    active = client.get(f"/runs/{workspace.run.pk}/live/?poll=1").content.decode()
    socket_mode = client.get(f"/runs/{workspace.run.pk}/live/").content.decode()

    assert finished.startswith('<section id="run-live"') and "<html" not in finished
    assert "hx-trigger" not in finished
    assert 'hx-trigger="every 2s"' in active and 'data-live="poll"' in active
    assert "hx-trigger" not in socket_mode


def test_failures_are_explained_with_the_raw_error_behind_a_toggle(workspace, as_role):
    page = as_role("editor").get(f"/runs/{workspace.run.pk}/").content.decode()

    assert "The Central account lacks the rights for this project." in page
    assert "Project Manager" in page
    assert '<details class="raw"><summary>Show the error</summary>' in page
    assert "Could not publish the draft: forbidden" in page
    assert "Retry failed app users" in page


def test_retrying_requeues_only_what_failed(workspace, org_a, as_role):
    client = as_role("editor")

    response = client.post(f"/runs/{workspace.run.pk}/retry/", follow=True)

    assert "Retrying the app users that were not published." in response.content.decode()
    connection.set_tenant(org_a)
    run = PublishRun.objects.get(pk=workspace.run.pk)
    assert (run.status, run.attempt) == (RunStatus.QUEUED, 2)
    statuses = dict(run.items.values_list("app_user_name", "status"))
    assert statuses == {"ana": ItemStatus.PUBLISHED, "ben": ItemStatus.PENDING}


def test_publish_history_lists_who_published_what(workspace, as_role):
    client = as_role("viewer")

    page = client.get("/runs/").content.decode()
    filtered = client.get("/runs/?status=succeeded").content.decode()

    assert "someone@example.org" in page and "Household visit" in page and "1/2" in page
    assert "No publish matches" in filtered


@pytest.fixture
def publisher(tenant_tx, committed_user):
    Membership.objects.create(user=committed_user, organization=tenant_tx, role="editor")
    return committed_user


def test_publishing_through_the_pages_end_to_end(tx_project, central, publisher, client_on):
    """The worker's job run in-process on committed data, against the fake Central."""
    with_district(tx_project, "North")
    users = app_users(tx_project, ["ana", "ben", "chloe"])
    template = template_for(tx_project, users)
    organization = connection.tenant
    connection.set_schema_to_public()
    client = client_on(organization, publisher)

    started = client.post(f"/templates/{template.pk}/publish/", {"scope": "all"})
    run_id = int(started["Location"].strip("/").split("/")[-1])
    connection.set_tenant(organization)
    publish_run_execute(run_id)
    connection.set_schema_to_public()

    page = client.get(f"/runs/{run_id}/").content.decode()
    for name in ("ana", "ben", "chloe"):
        assert f'data-app-user="{name}" data-status="published"' in page
    assert 'data-status="succeeded"' in page and 'data-active="false"' in page
    detail = client.get(f"/templates/{template.pk}/").content.decode()
    assert "-v1</code>" in detail


def test_an_invalid_template_shows_rows_and_errors_before_central(
    tx_project, central, publisher, client_on
):
    users = app_users(tx_project, ["ana", "ben"])
    template = template_for(tx_project, users, source=broken_form(), form_id_base="broken")
    organization = connection.tenant
    connection.set_schema_to_public()
    client = client_on(organization, publisher)
    before = len(central.requests)

    started = client.post(f"/templates/{template.pk}/publish/", {"scope": "all"})
    run_id = int(started["Location"].strip("/").split("/")[-1])
    connection.set_tenant(organization)
    publish_run_execute(run_id)
    connection.set_schema_to_public()

    page = client.get(f"/runs/{run_id}/").content.decode()
    assert "Errors in the form" in page and "missing_list" in page
    assert 'data-app-user="ana" data-status="failed"' in page
    assert "The form has errors, so nothing was sent to Central." in page
    assert not [r for r in central.requests[before:] if "/forms" in r.path]
