"""The API documentation pages render in a real browser under our strict CSP, on both hosts."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.browser.people import committed_member, log_in


@pytest.fixture
def member(committed_org_a, stack):
    with committed_member(committed_org_a, "docs.reader@acme.example.org", "viewer") as user:
        yield user


def _check_csp(response, *, style_nonce: bool = False) -> None:
    """Scripts only from our files; styles too, except Redoc's, admitted by a nonce."""
    policy = dict(
        d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    if style_nonce:
        assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'( 'sha256-[\w+/=]+')*", policy["style-src"])
    else:
        assert policy["style-src"] == "'self'"
    assert "unsafe" not in str(policy)


def _swagger(page, url: str, operation: str, name: str) -> None:
    _check_csp(page.goto(url))
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 5
    page.locator(f'.opblock-summary-path[data-path="{operation}"]').first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _redoc(page, url: str, operation: str, name: str) -> None:
    _check_csp(page.goto(url), style_nonce=True)
    page.locator('[data-section-id^="operation/"]').first.wait_for()
    assert page.locator('[data-section-id^="operation/"]').count() > 5
    page.get_by_text(operation).first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _check_index(page, origin: str) -> None:
    """The API's own address answers an index linking to the document and the pages."""
    status, index = page.evaluate(
        "async () => { const r = await fetch('/api/v1/'); return [r.status, await r.json()]; }"
    )
    assert status == 200
    assert index["docs"] == origin + "/api/docs/"
    assert index["redoc"] == origin + "/api/redoc/"
    assert index["schema"] == origin + "/api/schema/"


def test_swagger_and_redoc_list_the_operations_on_both_hosts(stack, member, new_page, watch):
    page = new_page()
    log_in(page, stack.org("acme"), member.email)
    # Redoc's sidebar credit shows Redocly's logo from their CDN: refused, nothing leaves.
    watch.expect("https://cdn.redoc.ly/redoc/logo-mini.svg")

    _swagger(page, stack.org("acme", "/api/docs/"), "/api/v1/templates/", "40-api-docs-tenant")
    # "Try it out" works with the session: the page's own script sends the request.
    me = page.locator(
        ".opblock", has=page.locator('.opblock-summary-path[data-path="/api/v1/me/"]')
    )
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    me.locator(".live-responses-table .response-col_status", has_text="200").wait_for()
    assert member.email in me.locator(".live-responses-table").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "40-api-docs-try-it-out.png"))
    _redoc(page, stack.org("acme", "/api/redoc/"), "/api/v1/templates/", "41-api-redoc-tenant")
    _check_index(page, stack.org("acme", ""))
    _swagger(page, stack.base + "/api/docs/", "/api/v1/organizations/", "42-api-docs-control")
    _redoc(page, stack.base + "/api/redoc/", "/api/v1/organizations/", "43-api-redoc-control")
    _check_index(page, stack.base)

    assert watch.problems == []
