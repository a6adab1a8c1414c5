"""What a newcomer does in the browser: sign up, set up, publish live, download; an invalid
template stopped before Central; an invited viewer who cannot publish."""

from __future__ import annotations

import re
import zipfile

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.browser.conftest import check_accessibility, screenshot
from tests.xlsforms import YES_NO, make_xlsform

PASSWORD = "a-very-good-pass-42"  # noqa: S105 - a test account's password
CENTRAL_EMAIL, CENTRAL_PASSWORD = "publisher@example.org", "central-password-123"


def _form_file(tmp_path, name="household.xlsx", broken=False):
    rows = [
        {"type": "text", "name": "respondent", "label": "Name"},
        {"type": "calculate", "name": "district", "calculation": "''"},
        {"type": "note", "name": "n1", "label": "District: ${district}"},
    ]
    if broken:
        rows.append({"type": "select_one missing_list", "name": "bad", "label": "Broken"})
    path = tmp_path / name
    path.write_bytes(
        make_xlsform(rows, settings={"form_title": "x", "form_id": "x"}, choices=YES_NO)
    )
    return path


def _nav(page, label: str) -> None:
    """Follow a link of the sidebar."""
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=label).click()


def _submit(page, label: str) -> None:
    """Press a form's button in the page's main area (the sidebar has buttons too)."""
    page.locator("#main").get_by_role("button", name=label, exact=True).click()


@pytest.fixture
def spare(transactional_db):
    """A ready schema for the signup to claim (provisioning then takes a moment)."""
    from control_plane.organizations.services.spare_pool import spare_pool_fill

    spare_pool_fill(1)


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True)
def test_sign_up_and_publish_to_three_app_users_live(
    stack, new_page, watch, tmp_path, spare, tenant_schema_cleanup
):
    central = stack.central
    central.add_account(CENTRAL_EMAIL, CENTRAL_PASSWORD)
    page = new_page()

    # Landing → sign up → the organization is set up → its dashboard.
    page.goto(stack.base + "/")
    screenshot(page, "01-landing")
    check_accessibility(page, "landing")
    page.get_by_role("link", name="Create your organization").first.click()
    page.get_by_label("Your name").fill("Ada Field")
    page.get_by_label("Email").fill("ada@fieldteam.example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization name").fill("Field Team")
    page.get_by_label("Address").fill("field-team")
    check_accessibility(page, "signup")
    screenshot(page, "02-signup")
    _submit(page, "Create organization")
    page.wait_for_url(stack.org("field-team"), timeout=60_000)
    page.get_by_role("heading", name="Get started").wait_for()
    screenshot(page, "03-dashboard-new")
    check_accessibility(page, "dashboard")

    # Central server: a wrong password is refused next to the field, then it works.
    _nav(page, "Central servers")
    page.locator("#main").get_by_role("link", name="Add your Central server").click()
    page.get_by_label("Name").fill("Main Central")
    page.get_by_label("Address").fill(central.base_url)
    page.get_by_label("Account email").fill(CENTRAL_EMAIL)
    page.get_by_label("Password").fill("wrong-password")
    _submit(page, "Add and check the login")
    page.locator("#id_password-error").wait_for()
    check_accessibility(page, "server form with errors")
    screenshot(page, "04-server-error")
    page.get_by_label("Password").fill(CENTRAL_PASSWORD)
    _submit(page, "Add and check the login")

    # Project (created in Central), then a variable.
    page.get_by_label("Name", exact=True).fill("Household survey")
    _submit(page, "Create in Central")
    page.get_by_role("heading", name="App users", exact=True).wait_for()
    _nav(page, "Template variables")
    page.get_by_label("Name").fill("district")
    _submit(page, "Add variable")
    page.get_by_text("Variable district added.").wait_for()

    # Three app users, each with its own district.
    _nav(page, "App users")
    page.locator("#main").get_by_role("link", name="Add an app user").click()
    for name, district in [("ana", "North"), ("ben", "South"), ("chloe", "East")]:
        page.get_by_label("Name").fill(name)
        page.locator("input[id^=id_var_]").fill(district)
        _submit(page, "Add and add another")
        page.get_by_text(f"App user {name} added.").wait_for()
    page.goto(stack.org("field-team", "/app-users/"))
    for name in ("ana", "ben", "chloe"):
        page.locator(f'tr[data-app-user="{name}"]').wait_for()
    # The QR code appears by itself once the worker created the app user in Central.
    page.get_by_role("link", name="ana", exact=True).click()
    page.locator("img.qr-large").wait_for(timeout=30_000)
    screenshot(page, "06-app-user")
    check_accessibility(page, "app user")
    page.goto(stack.org("field-team", "/app-users/"))
    screenshot(page, "05-app-users")
    check_accessibility(page, "app users")

    # Upload a template for the three of them.
    _nav(page, "Form templates")
    page.locator("#main").get_by_role("link", name="Add a form template").click()
    page.get_by_label("Title").fill("Household visit")
    assert page.get_by_label("Form id").input_value() == "household_visit"  # suggested
    page.get_by_label("XLSForm (.xlsx)").set_input_files(str(_form_file(tmp_path)))
    page.get_by_role("button", name="Select all").click()
    check_accessibility(page, "template form")
    screenshot(page, "07-template-form")
    _submit(page, "Add template")
    page.get_by_text("Template “Household visit” added.").wait_for()
    detail_url = page.url

    # Publish and watch each row turn published without reloading the page.
    page.locator("#main").get_by_role("link", name="Publish", exact=True).click()
    check_accessibility(page, "publish")
    _submit(page, "Start publishing")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    page.evaluate("() => { window.__samePage = true; }")
    for name in ("ana", "ben", "chloe"):
        page.locator(f'tr[data-app-user="{name}"][data-status="published"]').wait_for(
            timeout=30_000
        )
    page.locator('#run-live[data-status="succeeded"]').wait_for()
    assert page.evaluate("() => window.__samePage === true"), "the page reloaded"
    assert page.locator("html").get_attribute("data-live-transport") == "socket"
    screenshot(page, "08-run-published")
    check_accessibility(page, "run")
    run_url = page.url
    pid = central.projects[0]["id"]
    for name in ("ana", "ben", "chloe"):
        assert central.published_versions(pid, f"household_visit_{name}")

    # Download what was sent for ana: her district is in it.
    page.goto(detail_url)
    page.get_by_text("Rendered forms (3)").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="household_visit_ana as .xlsx").click()
    workbook = download_info.value.path()
    with zipfile.ZipFile(workbook) as archive:
        assert any("North" in archive.read(n).decode("utf-8", "ignore") for n in archive.namelist())
    with page.expect_download() as download_info:
        page.get_by_role("link", name="household_visit_ana as XForm XML").click()
    assert "North" in download_info.value.path().read_text()
    screenshot(page, "09-template-detail")
    check_accessibility(page, "template detail")

    # The other main pages, now that there is something on them.
    for path, name in [
        ("/", "dashboard"),
        ("/templates/", "templates"),
        ("/runs/", "publish-history"),
        ("/servers/", "servers"),
        ("/projects/", "projects"),
        ("/variables/", "variables"),
    ]:
        page.goto(stack.org("field-team", path))
        screenshot(page, f"20-{name}")
        check_accessibility(page, name)

    # The same pages on a phone, in the dark theme.
    phone = new_page(
        viewport={"width": 390, "height": 844},
        color_scheme="dark",
        storage_state=page.context.storage_state(),
    )
    phone.goto(run_url)
    screenshot(phone, "10-run-phone-dark")
    check_accessibility(phone, "run, phone, dark")
    phone.goto(stack.org("field-team", "/"))
    phone.get_by_role("button", name="Menu").click()
    phone.get_by_role("link", name="App users").first.wait_for(state="visible")
    screenshot(phone, "11-menu-phone-dark")
    phone.keyboard.press("Escape")
    phone.goto(stack.org("field-team", "/app-users/"))
    screenshot(phone, "12-app-users-phone-dark")
    check_accessibility(phone, "app users, phone, dark")
    assert watch.problems == []


# --- on organization A, set up in this process ------------------------------------------------


@pytest.fixture
def owner(committed_org_a, django_db_blocker, settings, stack):
    """Acme with a server, a project and two app users (made here), and its owner's login."""
    from control_plane.accounts.models import Invitation, Membership, User
    from tenants.publishing.models import AppUser
    from tenants.publishing.services.projects import project_create
    from tenants.publishing.services.servers import central_server_save

    settings.CENTRAL_ALLOWED_INTERNAL_HOSTS = [stack.central.base_url.split("://", 1)[1]]
    settings.CENTRAL_ALLOW_HTTP = True
    stack.central.add_account(CENTRAL_EMAIL, CENTRAL_PASSWORD)
    last_user = User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    # Hashed the way the server checks it (the tests' own hasher is a fast one).
    user = User.objects.create_user(email="olga@acme.example.org")
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    connection.set_schema_to_public()
    Membership.objects.create(user=user, organization=committed_org_a, role="owner")
    connection.set_tenant(committed_org_a)
    server = central_server_save(
        actor=None,
        name="Acme Central",
        base_url=stack.central.base_url,
        username=CENTRAL_EMAIL,
        password=CENTRAL_PASSWORD,
    )
    project = project_create(actor=None, server=server, name="Acme study")
    for name in ("dora", "emil"):
        AppUser.objects.create(project=project, name=name)
    connection.set_schema_to_public()
    yield user
    connection.set_schema_to_public()
    Invitation.objects.filter(organization=committed_org_a).delete()
    User.objects.filter(pk__gt=last_user).delete()
    connection.set_tenant(committed_org_a)


def _log_in(page, stack, email, password=PASSWORD, slug="acme"):
    page.goto(stack.org(slug, "/login/"))
    check_accessibility(page, "login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    _submit(page, "Log in")
    page.get_by_role("heading", name="Dashboard", exact=True).wait_for()


def _add_template(page, stack, tmp_path, *, title, broken=False):
    page.goto(stack.org("acme", "/templates/new/"))
    page.get_by_label("Title").fill(title)
    page.get_by_label("XLSForm (.xlsx)").set_input_files(
        str(_form_file(tmp_path, f"{title}.xlsx", broken=broken))
    )
    page.get_by_role("button", name="Select all").click()
    _submit(page, "Add template")
    page.get_by_text(f"Template “{title}” added.").wait_for()


def _add_template_unchecked(organization, *, title, source) -> None:
    """A template saved by the service directly, as the API does (no check on save)."""
    from tenants.publishing.models import AppUser, Project
    from tenants.publishing.services.templates import template_create

    connection.set_tenant(organization)
    project = Project.objects.get(name="Acme study")
    template_create(
        actor=None,
        project=project,
        title_base=title,
        form_id_base=title.lower().replace(" ", "_"),
        source_kind="upload",
        source=source.read_bytes(),
        app_user_ids=list(AppUser.objects.filter(project=project).values_list("pk", flat=True)),
    )
    connection.set_schema_to_public()


def test_an_invalid_template_shows_the_row_and_error_before_anything_reaches_central(
    stack, owner, new_page, watch, tmp_path, committed_org_a
):
    page = new_page()
    _log_in(page, stack, owner.email)
    # The workspace checks an upload on save and refuses this one; a template can still break
    # after it was saved (an API upload, a Google Sheet edited later): add it the API's way.
    _add_template_unchecked(
        committed_org_a, title="Broken survey", source=_form_file(tmp_path, broken=True)
    )
    page.goto(stack.org("acme", "/templates/"))
    page.get_by_role("link", name="Broken survey").click()
    before = len(stack.central.requests)

    page.locator("#main").get_by_role("link", name="Publish", exact=True).click()
    _submit(page, "Start publishing")

    page.locator('#run-live[data-status="failed"]').wait_for(timeout=30_000)
    issues = page.get_by_role("region", name="Errors in the form")
    issues.get_by_text("missing_list").first.wait_for()
    assert issues.locator("tr[data-issue-row]").count() >= 1
    assert page.locator('tr[data-app-user="dora"][data-status="failed"]').count() == 1
    page.get_by_text("The form has errors, so nothing was sent to Central.").first.wait_for()
    screenshot(page, "13-run-invalid-template")
    check_accessibility(page, "run with errors")
    form_calls = [r for r in stack.central.requests[before:] if "/forms" in r.path]
    assert form_calls == []
    run_url = page.url

    # Fix the spreadsheet and retry, this time with the realtime socket out of reach:
    # the page falls back to polling and still shows every row turn published.
    page.get_by_role("link", name="Back to the template").click()
    page.locator("#main").get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("XLSForm (.xlsx)").set_input_files(str(_form_file(tmp_path, "fixed.xlsx")))
    _submit(page, "Save template")
    page.get_by_text("Template “Broken survey” saved.").wait_for()
    page.context.route("**/realtime/ticket/", lambda route: route.abort())
    watch.expect("Failed to load resource: net::ERR_FAILED")
    page.goto(run_url)
    _submit(page, "Retry failed app users")
    page.locator('html[data-live-transport="poll"]').wait_for(state="attached")
    for name in ("dora", "emil"):
        page.locator(f'tr[data-app-user="{name}"][data-status="published"]').wait_for(
            timeout=30_000
        )
    page.locator('#run-live[data-status="succeeded"]').wait_for()
    assert watch.problems == []


def test_a_viewer_invited_by_the_owner_cannot_publish(stack, owner, new_page, watch, tmp_path):
    page = new_page()
    _log_in(page, stack, owner.email)
    _add_template(page, stack, tmp_path, title="Visit")
    template_url = page.url
    page.goto(stack.org("acme", "/members/"))
    page.get_by_label("Email", exact=True).fill("vera@acme.example.org")
    page.get_by_label("Role", exact=True).select_option("viewer")
    _submit(page, "Send invitation")
    page.get_by_text("Invitation sent to vera@acme.example.org.").wait_for()
    screenshot(page, "14-members")
    check_accessibility(page, "members")
    link = re.search(r"http://\S+/invitations/\S+/", stack.mails()).group(0)

    viewer = new_page()
    viewer.goto(link)
    viewer.get_by_label("Your name").fill("Vera Viewer")
    viewer.get_by_label("Password").fill(PASSWORD)
    viewer.get_by_role("button", name="Create account and join").click()
    viewer.get_by_role("heading", name="Dashboard", exact=True).wait_for()
    viewer.goto(template_url)
    viewer.get_by_role("heading", name="Visit", exact=True).wait_for()
    assert viewer.locator("#main").get_by_role("link", name="Publish", exact=True).count() == 0
    watch.expect("the server responded with a status of 403")
    response = viewer.goto(template_url + "publish/")
    assert response.status == 403
    viewer.get_by_role("heading", name="Your role does not allow this").wait_for()
    screenshot(viewer, "15-viewer-forbidden")
    check_accessibility(viewer, "forbidden page")
    # Not even a crafted request gets through.
    token = viewer.locator('meta[name="csrf-token"]').get_attribute("content")
    status = viewer.evaluate(
        """async ([url, token]) => (await fetch(url, {
            method: 'POST', body: 'scope=all',
            headers: {'X-CSRFToken': token, 'Content-Type': 'application/x-www-form-urlencoded'},
        })).status""",
        [template_url + "publish/", token],
    )
    assert status == 403
    assert watch.problems == []
