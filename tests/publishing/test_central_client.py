"""The Central client against the fake Central, over real HTTP on 127.0.0.1.

No database: these are plain functions. Retry delays are shrunk (``backoff``) so
the suite stays fast; only the Retry-After test waits a real second.
"""

from __future__ import annotations

import io
import threading
import time

import openpyxl
import pytest
from pyxform.xls2xform import convert
from structlog.testing import capture_logs

from tenants.publishing.central import (
    XLSX_CONTENT_TYPE,
    CentralAuthError,
    CentralClient,
    CentralConflict,
    CentralForbidden,
    CentralNotFound,
    CentralUnavailable,
    CentralValidationError,
)

ANA, ANA_PASSWORD = "ana@acme.example", "ana-very-secret-1"
BOB, BOB_PASSWORD = "bob@globex.example", "bob-very-secret-2"


def xlsform(form_id: str = "household", version: str = "1", *, bad: bool = False) -> bytes:
    """An XLSForm with an image, an external CSV choice list and settings."""
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "media::image"])
    survey.append(["not_a_type" if bad else "text", "head", "Head of household", "logo.png"])
    survey.append(["select_one_from_file villages.csv", "village", "Village", ""])
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version", "form_title"])
    settings.append([form_id, version, "Household survey"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xform(form_id: str = "household", version: str = "1") -> bytes:
    return convert(xlsform=xlsform(form_id, version), file_type=".xlsx").xform.encode()


def client_for(fake, email=ANA, password=ANA_PASSWORD, **options) -> CentralClient:
    options.setdefault("backoff", 0.01)
    options.setdefault("timeout", 5.0)
    return CentralClient(fake.base_url, email, password, **options)


@pytest.fixture
def central(fake_central, settings):
    fake_central.add_account(ANA, ANA_PASSWORD)
    # The fake listens on 127.0.0.1, which the guarded transport refuses unless listed.
    settings.CENTRAL_ALLOWED_INTERNAL_HOSTS = [fake_central.base_url.split("://", 1)[1]]
    fake_central.add_account(BOB, BOB_PASSWORD)
    return fake_central


def calls(fake, method: str, path: str) -> int:
    return sum(1 for r in fake.requests if r.method == method and r.path == path)


# --- sessions and projects ------------------------------------------------------------


def test_probe_login_accepts_good_credentials(central):
    client_for(central).probe_login()
    assert central.requests[-1] == ("POST", "/v1/sessions", ANA)


def test_probe_login_refuses_bad_password(central):
    with pytest.raises(CentralAuthError) as caught:
        client_for(central, password="wrong-password").probe_login()
    assert caught.value.status == 401
    assert caught.value.code == 401.2
    assert ANA in str(caught.value)
    assert calls(central, "POST", "/v1/sessions") == 1  # a probe is not retried


def test_projects_are_created_listed_and_private_to_their_account(central):
    ana, bob = client_for(central), client_for(central, BOB, BOB_PASSWORD)
    project = ana.create_project("Acme field work")
    assert project["name"] == "Acme field work"
    assert [p["id"] for p in ana.list_projects()] == [project["id"]]
    assert ana.get_project(project["id"])["name"] == "Acme field work"
    assert bob.list_projects() == []
    with pytest.raises(CentralForbidden):
        bob.get_project(project["id"])
    with pytest.raises(CentralNotFound, match="get project 999"):
        ana.get_project(999)


def test_base_url_may_end_with_v1(central):
    client = CentralClient(central.base_url + "/v1/", ANA, ANA_PASSWORD)
    assert client.list_projects() == []


def test_app_users_are_created_with_a_token(central):
    client = client_for(central)
    project = client.create_project("P")
    user = client.create_app_user(project["id"], "Tablet 1")
    assert user["displayName"] == "Tablet 1" and user["token"]
    assert [u["id"] for u in client.list_app_users(project["id"])] == [user["id"]]
    assert central.app_users(project["id"])[0]["token"] == user["token"]


# --- forms ---------------------------------------------------------------------------


def test_form_create_draft_attachments_and_publish(central):
    client = client_for(central)
    pid = client.create_project("P")["id"]

    created = client.create_form(pid, xform("household", "1"))
    assert created["xmlFormId"] == "household" and created["publishedAt"] is None
    expected = {a["name"]: a for a in client.list_draft_attachments(pid, "household")}
    assert set(expected) == {"logo.png", "villages.csv"}
    assert expected["logo.png"]["type"] == "image" and not expected["logo.png"]["exists"]

    client.upload_draft_attachment(pid, "household", "logo.png", b"\x89PNG", "image/png")
    client.upload_draft_attachment(pid, "household", "villages.csv", b"name,label\n", "text/csv")
    assert all(a["exists"] for a in client.list_draft_attachments(pid, "household"))
    client.publish_draft(pid, "household", "1")
    assert client.get_form(pid, "household")["publishedAt"] is not None
    assert central.published_versions(pid, "household") == ["1"]

    # A new draft keeps the uploaded files whose names still match.
    client.create_draft(pid, "household", xform("household", "2"))
    assert all(a["exists"] for a in client.list_draft_attachments(pid, "household"))
    client.publish_draft(pid, "household", "2")
    assert central.published_versions(pid, "household") == ["1", "2"]
    (form,) = central.forms(pid)
    assert form.current.attachments["logo.png"].data == b"\x89PNG"
    assert [f["xmlFormId"] for f in client.list_forms(pid)] == ["household"]
    assert client.get_form(pid, "missing") is None


def test_duplicate_form_and_version_are_conflicts_with_centrals_codes(central):
    client = client_for(central)
    pid = client.create_project("P")["id"]
    client.create_form(pid, xform("household", "1"))
    client.publish_draft(pid, "household", "1")

    with pytest.raises(CentralConflict) as duplicate:
        client.create_form(pid, xform("household", "1"))
    assert duplicate.value.code == 409.3
    assert str(duplicate.value).startswith("Central refused to create form 'household'")
    assert "(409.3)" in str(duplicate.value)

    client.create_draft(pid, "household", xform("household", "1"))
    with pytest.raises(CentralConflict) as republished:
        client.publish_draft(pid, "household", "1")
    assert republished.value.code == 409.6
    assert republished.value.body["code"] == 409.6
    assert "publish form 'household' version '1'" in str(republished.value)


def test_draft_rules(central):
    client = client_for(central)
    pid = client.create_project("P")["id"]
    client.create_form(pid, xform("household"))
    with pytest.raises(CentralValidationError) as mismatch:
        client.create_draft(pid, "household", xform("other"))
    assert mismatch.value.code == 400.8
    with pytest.raises(CentralNotFound):
        client.upload_draft_attachment(pid, "household", "surprise.png", b"x", "image/png")
    with pytest.raises(CentralNotFound):
        client.create_draft(pid, "nope", xform("nope"))


def test_xlsx_is_converted_by_the_server_and_bad_xlsforms_are_400_15(central):
    client = client_for(central)
    pid = client.create_project("P")["id"]
    form = client.create_form(pid, xlsform("from_xlsx", "7"), content_type=XLSX_CONTENT_TYPE)
    assert (form["xmlFormId"], form["version"]) == ("from_xlsx", "7")

    with pytest.raises(CentralValidationError) as caught:
        client.create_form(pid, xlsform(bad=True), content_type=XLSX_CONTENT_TYPE)
    assert caught.value.code == 400.15
    assert "not_a_type" in caught.value.body["details"]["error"]
    assert "not_a_type" in str(caught.value)


# --- assignments -----------------------------------------------------------------------


def test_form_assignments_add_list_remove(central):
    client = client_for(central)
    pid = client.create_project("P")["id"]
    client.create_form(pid, xform())
    client.publish_draft(pid, "household", "1")
    user = client.create_app_user(pid, "Tablet")
    role = client.app_user_role_id()
    assert role == next(r["id"] for r in client.list_roles() if r["system"] == "app-user")

    client.assign_form(pid, "household", role, user["id"])
    client.assign_form(pid, "household", role, user["id"])  # already assigned: fine
    assert [a["id"] for a in client.list_form_assignments(pid, "household", role)] == [user["id"]]
    assert central.assignments(pid, "household") == [user["id"]]

    client.unassign_form(pid, "household", role, user["id"])
    assert client.list_form_assignments(pid, "household", role) == []
    with pytest.raises(CentralNotFound):
        client.unassign_form(pid, "household", role, user["id"])


# --- retries, timeouts, re-login ---------------------------------------------------------


def test_get_is_retried_on_503_then_succeeds(central):
    client = client_for(central, retries=3)
    client.probe_login()
    central.fail("GET", "/v1/projects", 503, times=2)
    assert client.list_projects() == []
    assert calls(central, "GET", "/v1/projects") == 3


def test_get_gives_up_after_its_retries(central):
    client = client_for(central, retries=2)
    central.fail("GET", "/v1/projects", 503, times=None)
    with pytest.raises(CentralUnavailable) as caught:
        client.list_projects()
    assert caught.value.status == 503
    assert "list projects" in str(caught.value) and "3 attempts" in str(caught.value)
    assert calls(central, "GET", "/v1/projects") == 3


def test_create_is_never_retried_on_503(central):
    client = client_for(central, retries=3)
    client.probe_login()
    central.fail("POST", "/v1/projects", 503)
    with pytest.raises(CentralUnavailable, match="create project 'P'"):
        client.create_project("P")
    assert calls(central, "POST", "/v1/projects") == 1
    assert central.projects == []


def test_429_waits_for_retry_after(central):
    client = client_for(central, retries=2)
    client.probe_login()
    central.fail("GET", "/v1/projects", 429, headers={"Retry-After": "1"})
    started = time.monotonic()
    assert client.list_projects() == []
    assert time.monotonic() - started >= 1.0
    assert calls(central, "GET", "/v1/projects") == 2


def test_timeout_becomes_unavailable_naming_the_operation(central):
    client = client_for(central, timeout=0.2, retries=1)
    client.probe_login()
    central.latency = 0.6
    with pytest.raises(CentralUnavailable) as caught:
        client.list_forms(1)
    assert caught.value.status is None
    host = central.base_url.split("://", 1)[1]
    assert str(caught.value) == (
        f"{host} did not answer within 0.2 s while listing forms of project 1 (2 attempts)"
    )
    assert caught.value.message == str(caught.value)  # what the run page shows
    assert calls(central, "GET", "/v1/projects/1/forms") == 2


def test_expired_session_is_renewed_once(central):
    client = client_for(central)
    client.probe_login()
    central.expire_sessions(ANA)
    assert client.list_projects() == []
    methods = [(r.method, r.path) for r in central.requests]
    assert methods == [
        ("POST", "/v1/sessions"),
        ("GET", "/v1/projects"),  # 401.2
        ("POST", "/v1/sessions"),
        ("GET", "/v1/projects"),
    ]


def test_a_second_401_is_an_auth_error_not_a_loop(central):
    client = client_for(central)
    central.fail("GET", "/v1/projects", 401, body={"code": 401.2, "message": "No."}, times=5)
    with pytest.raises(CentralAuthError, match=r"list projects \(401.2\)"):
        client.list_projects()
    assert calls(central, "POST", "/v1/sessions") == 2
    assert calls(central, "GET", "/v1/projects") == 2


# --- secrets and tenants ------------------------------------------------------------------


def test_password_and_token_never_appear_in_errors_logs_or_repr(central):
    client = client_for(central, retries=0)
    with capture_logs() as logs:
        pid = client.create_project("P")["id"]
        token = client._http._token
        errors = []
        for call in (
            lambda: client.get_project(999),
            lambda: client.create_form(pid, b"<not xml"),
            lambda: client_for(central, password="wrong-password-1").list_projects(),
        ):
            with pytest.raises(Exception) as caught:  # noqa: PT011 - any CentralError
                call()
            errors.append(caught.value)
        central.fail("GET", "/v1/projects", 500)
        with pytest.raises(CentralUnavailable) as unavailable:
            client.list_projects()
        errors.append(unavailable.value)
        # Central echoes given values in some sign-in errors (400.3); they must not leak.
        central.fail(
            "POST",
            "/v1/sessions",
            400,
            body={"code": 400.3, "message": f"Required parameters missing, got {ANA_PASSWORD}"},
        )
        with pytest.raises(CentralAuthError) as echoed:
            client_for(central).probe_login()
        errors.append(echoed.value)
        assert ANA_PASSWORD not in str(echoed.value.body)
    assert token
    texts = [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [repr(client), str(client), repr(client._http)] + [repr(entry) for entry in logs]
    for text in texts:
        assert ANA_PASSWORD not in text
        assert "wrong-password-1" not in text
        assert token not in text
    assert any(entry["event"] == "central.request" for entry in logs)


def test_two_accounts_on_the_same_url_never_share_a_token(central):
    ana, bob = client_for(central), client_for(central, BOB, BOB_PASSWORD)
    ana.create_project("Acme")
    bob.create_project("Globex")
    ana.list_projects()
    bob.list_projects()
    assert ana._http._token != bob._http._token
    # login, create, login, create, list, list: each request carried its own account.
    assert [r.account for r in central.requests] == [ANA, ANA, BOB, BOB, ANA, BOB]
    assert [p["name"] for p in ana.list_projects()] == ["Acme"]
    assert [p["name"] for p in bob.list_projects()] == ["Globex"]


# --- concurrency -----------------------------------------------------------------------------


def test_concurrency_is_capped_per_client_and_login_happens_once(central):
    client = client_for(central, max_concurrency=2)
    central.latency = 0.05
    errors: list[BaseException] = []

    def work() -> None:
        try:
            client.list_projects()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert calls(central, "GET", "/v1/projects") == 8
    assert calls(central, "POST", "/v1/sessions") == 1
    assert central.max_in_flight == 2


def test_close_signs_out(central):
    with client_for(central) as client:
        client.list_projects()
    assert central.requests[-1] == ("DELETE", "/v1/sessions/current", ANA)
    assert central.state.sessions == {}
    central.reset()
    assert central.requests == [] and central.projects == []
