"""The workspace's rough edges, in a real browser at 1280 px: long words and wide tables stay
inside the page, the form id follows the title across an error, the signup shows the real
address, the theme button names what it does, refusals look like refusals."""

from __future__ import annotations

import secrets

import pytest
from django.db import connection

from tests.browser.conftest import check_accessibility, screenshot
from tests.browser.people import committed_member, log_in
from tests.xlsforms import YES_NO, make_xlsform

WIDTH = 1280
# Long words with no space to break at, as long as each field allows.
LONG = "Kwazulunatalhouseholdsurveillancefollowupvisit"


def _word(length: int) -> str:
    return (LONG * (length // len(LONG) + 1))[:length]


def _form(broken: bool = False) -> bytes:
    rows = [
        {"type": "text", "name": "respondent", "label": "Name"},
        {"type": "calculate", "name": "district", "calculation": "''"},
    ]
    if broken:
        rows.append({"type": "select_one missing_list", "name": "bad", "label": "Broken"})
    return make_xlsform(rows, settings={"form_title": "x", "form_id": "x"}, choices=YES_NO)


@pytest.fixture
def owner(committed_org_a, stack):
    from control_plane.accounts.models import ApiToken

    with committed_member(
        committed_org_a, f"{_word(40).lower()}@acme.example.org", "owner", full_name="Olga Owner"
    ) as user:
        yield user
        connection.set_schema_to_public()
        ApiToken.objects.filter(organization=committed_org_a).delete()
        connection.set_tenant(committed_org_a)


@pytest.fixture
def long_words(owner, committed_org_a):
    """One of everything, named with the longest words each field takes."""
    from control_plane.accounts.models import ApiToken
    from control_plane.accounts.services.api_tokens import hash_token
    from tenants.publishing.models import AppUser, CentralServer, Project
    from tenants.publishing.services.templates import template_create
    from tenants.publishing.services.variables import project_value_set, variable_create

    connection.set_tenant(committed_org_a)
    server = CentralServer.objects.create(
        name=_word(100), base_url=f"https://{_word(60).lower()}.example.org", username_hint="o***"
    )
    project = Project.objects.create(name=_word(200), server=server, central_project_id=1)
    variable = variable_create(actor=owner, name=_word(64).lower(), description=_word(300))
    district = variable_create(actor=owner, name="district", description="Where they work")
    project_value_set(project, variable, _word(1000), actor=owner)
    project_value_set(project, district, "North", actor=owner)
    users = [
        AppUser.objects.create(project=project, name=_word(60).lower()[:-1] + str(i))
        for i in range(3)
    ]
    template_create(
        actor=owner,
        project=project,
        title_base=_word(200),
        form_id_base=_word(60).lower(),
        source_kind="upload",
        source=make_xlsform(
            [
                {"type": "calculate", "name": "district", "calculation": "''"},
                {"type": "calculate", "name": variable.name, "calculation": "''"},
            ],
            settings={"form_title": "x", "form_id": "x"},
        ),
        app_user_ids=[u.pk for u in users],
    )
    connection.set_schema_to_public()
    for _ in range(3):
        ApiToken.objects.create(
            organization=committed_org_a,
            name=_word(100),
            role="viewer",
            prefix=secrets.token_hex(4),
            token_hash=hash_token(secrets.token_urlsafe(16)),
            created_by=owner,
        )
    connection.set_tenant(committed_org_a)
    return {"project": project, "app_user": users[0]}


@pytest.fixture
def small_project(owner, committed_org_a):
    """A project with two app users and no variables."""
    from tenants.publishing.models import AppUser, CentralServer, Project

    connection.set_tenant(committed_org_a)
    server = CentralServer.objects.create(name="Main", base_url="https://central.example.org")
    project = Project.objects.create(name="Markets", server=server, central_project_id=1)
    for name in ("ana", "ben"):
        AppUser.objects.create(project=project, name=name)
    return project


def _overflow(page) -> dict:
    """How far the page and each table reach beyond what is visible (0: they fit)."""
    return page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth - window.innerWidth,
            tables: Array.from(document.querySelectorAll('.table-wrap')).map(
                w => w.scrollWidth - w.clientWidth),
        })"""
    )


def _visible_in_its_table(page, locator) -> bool:
    """The element is inside the visible part of its table (not scrolled off to the right)."""
    return locator.evaluate(
        """el => {
            const wrap = el.closest('.table-wrap').getBoundingClientRect();
            const box = el.getBoundingClientRect();
            return box.left >= wrap.left && box.right <= wrap.right + 0.5
                && box.right <= window.innerWidth;
        }"""
    )


def test_long_words_and_wide_tables_stay_inside_the_page_at_1280_px(
    stack, owner, long_words, new_page, watch
):
    page = new_page(viewport={"width": WIDTH, "height": 900})
    log_in(page, stack.org("acme"), owner.email)
    pages = [
        ("/", "dashboard"),
        ("/tokens/", "tokens"),
        ("/variables/", "variables"),
        ("/servers/", "servers"),
        ("/projects/", "projects"),
        ("/templates/", "templates"),
        ("/app-users/", "app-users"),
        (f"/app-users/{long_words['app_user'].pk}/", "app-user"),
        ("/members/", "members"),
        ("/audit/", "audit"),
        ("/templates/new/", "template-form"),
    ]
    for path, name in pages:
        page.goto(stack.org("acme", path))
        screenshot(page, f"50-long-{name}")
        if name in ("tokens", "members", "audit", "dashboard", "app-user"):
            check_accessibility(page, f"{name} with long words")
        measured = _overflow(page)
        assert measured["page"] <= 0, (path, measured)
        if path == "/templates/":
            page.locator("#main a.cell-title").first.click()
            page.locator("#main h1").wait_for()
            screenshot(page, "50-long-template-detail")
            assert _overflow(page)["page"] <= 0, "template detail"

    # The tables people complained about fit their card: nothing to scroll to.
    page.goto(stack.org("acme", "/tokens/"))
    assert _overflow(page)["tables"] == [0]
    revoke = page.get_by_role("button", name="Revoke").first
    assert _visible_in_its_table(page, revoke)
    assert _visible_in_its_table(page, page.locator("td[data-label=Status]").first)
    page.goto(stack.org("acme", "/members/"))
    assert _overflow(page)["tables"][0] == 0
    assert _visible_in_its_table(page, page.get_by_text("The last owner cannot leave"))
    page.goto(stack.org("acme", "/variables/"))
    assert _overflow(page)["tables"] == [0]
    assert _visible_in_its_table(page, page.get_by_role("link", name="Edit").first)
    check_accessibility(page, "variables with long words")
    assert watch.problems == []


def test_the_form_id_follows_the_title_across_an_error_until_edited(
    stack, owner, small_project, new_page, watch, committed_org_a
):
    from tenants.publishing.models import FormTemplate

    page = new_page()
    log_in(page, stack.org("acme"), owner.email)
    page.goto(stack.org("acme", "/templates/new/"))
    title, form_id = page.get_by_label("Title"), page.get_by_label("Form id")

    title.fill("Household visit")
    assert form_id.input_value() == "household_visit"
    page.locator("#main").get_by_role("button", name="Add template").click()  # no file chosen
    page.locator("#id_source-error").wait_for()
    title.fill("Farm visit")
    assert form_id.input_value() == "farm_visit"  # still following after the error

    form_id.fill("farm_v2")
    title.fill("Farm visit in spring")
    assert form_id.input_value() == "farm_v2"  # edited by the person: left alone
    form_id.fill("")
    title.fill("Market survey")
    assert form_id.input_value() == "market_survey"  # emptied: follows again

    # A broken spreadsheet is refused on save with the sheet, row and reason.
    page.get_by_label("XLSForm (.xlsx)").set_input_files(
        files=[
            {
                "name": "market.xlsx",
                "mimeType": "application/octet-stream",
                "buffer": _form(broken=True),
            }
        ]
    )
    page.get_by_role("button", name="Select all").click()
    page.locator("#main").get_by_role("button", name="Add template").click()
    errors = page.get_by_role("region", name="Errors in the spreadsheet")
    errors.get_by_text("missing_list").wait_for()
    assert errors.locator('tr[data-issue-row="4"]').count() == 1
    screenshot(page, "51-template-form-spreadsheet-errors")
    check_accessibility(page, "template form with spreadsheet errors")
    assert form_id.input_value() == "market_survey"
    title.fill("Market survey north")
    assert form_id.input_value() == "market_survey_north"

    page.get_by_label("XLSForm (.xlsx)").set_input_files(
        files=[{"name": "market.xlsx", "mimeType": "application/octet-stream", "buffer": _form()}]
    )
    page.locator("#main").get_by_role("button", name="Add template").click()
    page.get_by_text("Template “Market survey north” added.").wait_for()
    connection.set_tenant(committed_org_a)
    assert FormTemplate.objects.filter(form_id_base="market_survey_north").exists()
    assert watch.problems == []


def test_signup_suggests_the_address_and_shows_it(stack, new_page, watch):
    page = new_page()
    page.goto(stack.base + "/signup/")
    preview = page.locator("[data-address-preview]")
    assert preview.inner_text() == f"http://your-address.publishmdm.localhost:{stack.port}/"

    page.get_by_label("Organization name").fill("Santé Nord")
    assert page.get_by_label("Address").input_value() == "sante-nord"
    assert preview.inner_text() == f"http://sante-nord.publishmdm.localhost:{stack.port}/"
    page.get_by_label("Address").fill("health-north")
    page.get_by_label("Organization name").fill("Santé Nord et Sud")
    assert page.get_by_label("Address").input_value() == "health-north"
    assert preview.inner_text() == f"http://health-north.publishmdm.localhost:{stack.port}/"
    screenshot(page, "52-signup-address")
    check_accessibility(page, "signup with address")
    assert watch.problems == []


def test_theme_button_refusals_and_the_empty_servers_page_look_right(stack, owner, new_page, watch):
    page = new_page(color_scheme="dark")
    log_in(page, stack.org("acme"), owner.email)
    toggle = page.locator("aside [data-theme-toggle]")
    assert toggle.inner_text().strip() == "Light theme"  # dark now: it offers the light one
    toggle.click()
    assert page.locator("html").get_attribute("data-theme") == "light"
    assert toggle.inner_text().strip() == "Dark theme"

    # "Add your Central server": the + is the button's own colour, not grey.
    page.goto(stack.org("acme", "/servers/"))
    button = page.locator(".empty .btn-primary")
    colours = button.evaluate(
        """b => [getComputedStyle(b).color, getComputedStyle(b.querySelector('svg')).color]"""
    )
    assert colours[0] == colours[1], colours
    screenshot(page, "53-servers-empty")

    # The only owner is not offered Remove, and is told why.
    page.goto(stack.org("acme", "/members/"))
    remove = page.get_by_role("button", name=f"Remove {owner.email}")
    assert remove.is_disabled()
    page.get_by_text("The last owner cannot leave or be removed").wait_for()
    screenshot(page, "54-members-last-owner")

    # A refusal is red (an error), not the blue of information.
    page.goto(stack.org("acme", "/"))
    page.get_by_role("button", name="Leave this organization").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Leave").click()
    alert = page.locator(".message-error")
    alert.get_by_text("The last owner cannot leave").wait_for()
    colours = alert.evaluate(
        """m => [getComputedStyle(m).backgroundColor,
                 getComputedStyle(document.documentElement).getPropertyValue('--danger-soft')]"""
    )
    assert _rgb(colours[0]) == _rgb(colours[1].strip()), colours
    screenshot(page, "55-refusal-is-an-error")
    assert watch.problems == []


def _rgb(colour: str) -> tuple[int, int, int]:
    """``#fde6e4`` or ``rgb(253, 230, 228)`` → (253, 230, 228)."""
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(p) for p in colour[colour.index("(") + 1 : -1].split(",")[:3])
