"""Publishing from a Google Sheet, and the errors people must understand."""

from __future__ import annotations

from tenants.publishing import credentials
from tenants.publishing.models import RunStatus
from tenants.publishing.services.templates import template_create
from tenants.secretstore.services.secrets import secret_put
from tests.publishing.publishing_helpers import app_users, simple_form, with_district


def _google_template(project, users, url):
    return template_create(
        actor=None,
        project=project,
        title_base="Household",
        form_id_base="household",
        source_kind="google_sheet",
        google_sheet_url=url,
        app_user_ids=[u.pk for u in users],
    )


def test_publish_from_a_google_sheet(tx_project, central, fake_google, committed_user):
    user = committed_user
    with_district(tx_project)
    users = app_users(tx_project, ["alice"])
    url = fake_google.add_file("1AbCdEfGhIjKlMnOp", simple_form(), readable_by="ana@gmail.com")
    secret_put(
        credentials.google_refresh_token(user.pk),
        fake_google.issue_refresh_token("ana@gmail.com"),
        actor=None,
    )
    template = _google_template(tx_project, users, url)

    from tenants.publishing.services.publish import publish_start
    from tenants.publishing.services.publish_job import publish_run_execute

    run = publish_run_execute(publish_start(template=template, actor=user).pk)

    assert run.status == RunStatus.SUCCEEDED
    assert central.published_versions(tx_project.central_project_id, "household_alice")


def test_a_sheet_not_shared_with_the_app_is_explained(
    tx_project, central, fake_google, committed_user
):
    user = committed_user
    users = app_users(tx_project, ["alice"])
    url = fake_google.add_file("1NotSharedWithApp", simple_form(), readable_by="someone@else.org")
    secret_put(
        credentials.google_refresh_token(user.pk),
        fake_google.issue_refresh_token("ana@gmail.com"),
        actor=None,
    )
    template = _google_template(tx_project, users, url)
    before = len(central.requests)

    from tenants.publishing.services.publish import publish_start
    from tenants.publishing.services.publish_job import publish_run_execute

    run = publish_run_execute(publish_start(template=template, actor=user).pk)

    assert run.status == RunStatus.FAILED
    assert run.error_code == "google_not_shared"
    assert "Google Picker" in run.error
    assert len(central.requests) == before


def test_a_revoked_google_authorisation_is_explained(
    tx_project, central, fake_google, committed_user
):
    user = committed_user
    users = app_users(tx_project, ["alice"])
    url = fake_google.add_file("1RevokedTokenFile", simple_form(), readable_by="ana@gmail.com")
    refresh = fake_google.issue_refresh_token("ana@gmail.com")
    secret_put(credentials.google_refresh_token(user.pk), refresh, actor=None)
    fake_google.revoke(refresh)
    template = _google_template(tx_project, users, url)

    from tenants.publishing.services.publish import publish_start
    from tenants.publishing.services.publish_job import publish_run_execute

    run = publish_run_execute(publish_start(template=template, actor=user).pk)

    assert run.error_code == "google_token_revoked"
    assert "Sign in with Google again" in run.error


def test_publishing_without_a_connected_google_account(
    tx_project, central, fake_google, committed_user
):
    user = committed_user
    users = app_users(tx_project, ["alice"])
    template = _google_template(
        tx_project, users, "https://docs.google.com/spreadsheets/d/1Abcdefghijk/edit"
    )
    from tenants.publishing.services.publish import publish_start
    from tenants.publishing.services.publish_job import publish_run_execute

    run = publish_run_execute(publish_start(template=template, actor=user).pk)
    assert run.error_code == "google_not_connected"
    assert run.status == RunStatus.FAILED


def test_a_retry_reads_the_sheet_with_the_retrying_persons_google_account(
    tx_project, central, fake_google, committed_user
):
    """Issue 11, defect 8: never with the requester's account."""
    from tenants.publishing.services.publish import publish_retry, publish_start
    from tenants.publishing.services.publish_job import publish_run_execute
    from tests.factories import UserFactory

    ana, ben = committed_user, UserFactory(email="ben@acme.example")
    try:
        users = app_users(tx_project, ["alice"])
        url = fake_google.add_file("1SharedWithBen", simple_form(), readable_by="ben@gmail.com")
        for person, account in ((ana, "ana@gmail.com"), (ben, "ben@gmail.com")):
            refresh = fake_google.issue_refresh_token(account)
            secret_put(credentials.google_refresh_token(person.pk), refresh, actor=None)
        with_district(tx_project)
        template = _google_template(tx_project, users, url)
        run = publish_run_execute(publish_start(template=template, actor=ana).pk)
        assert run.error_code == "google_not_shared"  # ana's Google account cannot read it

        run = publish_run_execute(publish_retry(run, actor=ben).pk)

        assert run.status == RunStatus.SUCCEEDED, run.error
        assert (run.requested_by_id, run.retried_by_id) == (ana.pk, ben.pk)
        assert run.version.published_by_id == ana.pk  # the run is still ana's
    finally:
        ben.delete()


def test_a_retry_by_someone_without_google_does_not_borrow_the_requesters(
    tx_project, central, fake_google, committed_user
):
    from tenants.publishing.services.publish import publish_retry, publish_start
    from tenants.publishing.services.publish_job import publish_run_execute
    from tests.factories import UserFactory

    ana, ben = committed_user, UserFactory(email="ben@acme.example")
    try:
        users = app_users(tx_project, ["alice"])
        url = fake_google.add_file("1ReadableByAna", simple_form(), readable_by="ana@gmail.com")
        refresh = fake_google.issue_refresh_token("ana@gmail.com")
        secret_put(credentials.google_refresh_token(ana.pk), refresh, actor=None)
        template = _google_template(tx_project, users, url)
        run = publish_start(template=template, actor=ana)
        central.fail("GET", r"/v1/projects/\d+/forms", 403, times=None)  # before any version
        run = publish_run_execute(run.pk)
        assert run.status == RunStatus.FAILED and run.version_id is None
        exports = sum(1 for method, path in fake_google.requests if "/export" in path)

        run = publish_run_execute(publish_retry(run, actor=ben).pk)

        assert run.error_code == "google_not_connected"
        assert sum(1 for method, path in fake_google.requests if "/export" in path) == exports
    finally:
        ben.delete()
