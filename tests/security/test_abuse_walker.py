"""The abuse suite: every API operation and every page, fed bodies an attacker would send.

API operations come from the two OpenAPI documents (an organization's host
and the control plane), pages from the two URLconfs, so a new operation or
page is walked without editing this file. Each gets an oversized body, JSON
nested 100 000 deep, malformed JSON, bytes that are not UTF-8, a body in a
content type nobody accepts, and broken multipart. The answer must be a
4xx in our format (the API's ``{"error": {...}}``; our 400 page) for the
operations that read a body, never a 5xx anywhere, and never a traceback.

Limits are lowered here so that "oversized" stays small and the walk fast;
the server's own limit before the application is tested in
``test_request_bodies``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.api.helpers import issue_token, tenant

SMALL = 16 * 1024
CSRF = "c" * 32
# Deep enough to overflow the parser (depth 8 000), small enough for the lowered limit.
NESTED = b"[" * 8_000 + b"]" * 8_000


@dataclass(frozen=True)
class Abuse:
    name: str
    content_type: str
    body: bytes


def abuses(kind: str) -> list[Abuse]:
    """The bodies sent to each operation (``kind``: api or page)."""
    big = SMALL * 4
    both = [
        Abuse("oversized-form", "application/x-www-form-urlencoded", b"name=" + b"x" * big),
        Abuse("oversized-multipart", "multipart/form-data; boundary=b", _multipart(big * 5)),
        Abuse("nested-json", "application/json", NESTED),
        Abuse("wrong-type", "application/xml", b"<name>x</name>"),
        Abuse("broken-multipart", "multipart/form-data; boundary=b", b"--b\r\nnot a part"),
        Abuse("multipart-no-boundary", "multipart/form-data", b"--b\r\n\r\nx\r\n--b--\r\n"),
    ]
    if kind == "page":
        return [*both, Abuse("not-utf8-form", "application/x-www-form-urlencoded", b"name=%ff%fe")]
    return [
        *both,
        Abuse("oversized-json", "application/json", b'{"name": "' + b"x" * big + b'"}'),
        Abuse("malformed-json", "application/json", b'{"name": "x", "project": '),
        Abuse("not-utf8", "application/json", b'{"name": "\xff\xfe\xfd"}'),
        Abuse("nan-json", "application/json", b'{"name": NaN}'),
    ]


def _multipart(size: int) -> bytes:
    return (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="f.xlsx"\r\n\r\n'
        + b"x" * size
        + b"\r\n--b--\r\n"
    )


@pytest.fixture(autouse=True)
def _walker_settings(settings):
    settings.API_MAX_JSON_BYTES = SMALL
    settings.API_MAX_UPLOAD_BYTES = SMALL * 8
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = SMALL
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/min"
        ),
    }
    caches[settings.API_THROTTLE_CACHE].clear()
    yield
    caches[settings.API_THROTTLE_CACHE].clear()


def assert_no_traceback(response) -> None:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    text = raw.decode("utf-8", "replace")
    assert response.status_code < 500, text[:500]
    for marker in ("Traceback", 'File "', "django/core", "site-packages"):
        assert marker not in text, text[:500]


def assert_api_error(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


# --- API operations, from the OpenAPI documents ------------------------------------


def _tenant_document() -> dict:
    from api.tenant.schema_views import tenant_schema

    return tenant_schema()


def _control_document() -> dict:
    from django.test import RequestFactory
    from drf_spectacular.views import SpectacularAPIView

    from api.control import schema

    view = SpectacularAPIView.as_view(
        urlconf="api.control.urls_schema", custom_settings=schema.SPECTACULAR_OVERRIDES
    )
    return view(RequestFactory().get("/api/schema/", HTTP_ACCEPT="application/json")).data


def _operations() -> list:
    params = []
    for host, document in (("tenant", _tenant_document()), ("control", _control_document())):
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if method not in ("post", "put", "patch", "delete"):
                    continue
                takes = sorted((operation.get("requestBody") or {}).get("content", {}))
                params.append(
                    pytest.param(host, method, path, tuple(takes), id=f"{host}-{method}-{path}")
                )
    return params


@pytest.fixture
def tenant_objects(org_a, member_of, central):
    """Ids for every path parameter of the organization API, and an owner's token."""
    from control_plane.accounts.models import Membership
    from control_plane.accounts.services.invitations import invitation_create
    from tests.frontend.conftest import make_workspace

    owner = member_of(org_a, "owner")
    token = issue_token(org_a, owner, "owner")
    with tenant(org_a):
        made = make_workspace(org_a)
        made.server.base_url = central.base_url  # the fake, not a dead address
        made.server.save(update_fields=["base_url"])
    viewer = Membership.objects.get(user=member_of(org_a, "viewer"), organization=org_a)
    invitation = invitation_create(
        organization=org_a, email="walker@example.org", role="viewer", actor=owner
    ).invitation
    ids = {
        "app-users": made.app_users[0].pk,
        "invitations": invitation.pk,
        "members": viewer.pk,
        "projects": made.project.pk,
        "publish-runs": made.run.pk,
        "servers": made.server.pk,
        "templates": made.template.pk,
        "tokens": org_a.api_tokens.filter(created_by=owner).get().pk,
        "variables": made.variable.pk,
        "versions": made.version.pk,
        "template_pk": made.template.pk,
        "variant_pk": made.variant.pk,
    }
    return token, ids


def _tenant_path(path: str, ids: dict) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name != "id":
            return str(ids.get(name, 1))
        collection = path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        return str(ids.get(collection, 1))

    return re.sub(r"\{([^}]+)\}", fill, path)


@pytest.mark.parametrize(("host", "method", "path", "takes"), _operations())
def test_api_operations_refuse_abusive_bodies(request, org_a, host, method, path, takes):
    if host == "tenant":
        token, ids = request.getfixturevalue("tenant_objects")
        client = Client(HTTP_HOST=org_a.primary_domain)
        url = _tenant_path(path, ids)
    else:
        from control_plane.accounts.services.platform_tokens import platform_token_create

        token = platform_token_create(name="walker", scopes=["organizations:write"]).secret
        client = Client(HTTP_HOST=settings.BASE_DOMAIN)
        url = path.replace("{organization_slug}", "acme").replace("{slug}", "acme")
        url = url.replace("{id}", "1")
    for abuse in abuses("api"):
        response = client.generic(
            method.upper(),
            url,
            abuse.body,
            content_type=abuse.content_type,
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert_no_traceback(response)
        error = assert_api_error(response) if response.status_code >= 400 else None
        if not takes:
            continue  # no body documented: ignoring one is fine, failing on it is not
        assert error is not None, (abuse.name, url, response.status_code, response.content[:300])
        if abuse.name.startswith("oversized"):
            assert response.status_code == 413 and error["code"] == "payload_too_large", error
        elif abuse.content_type.split(";")[0] not in takes:
            assert response.status_code == 415, (abuse.name, error)
        elif abuse.name in ("nested-json", "malformed-json", "not-utf8", "nan-json"):
            assert error["code"] == "parse_error", (abuse.name, error)


# --- pages, from the URLconfs --------------------------------------------------------


def _pages(urlconf: str) -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route

    return [
        route for route in walk(get_resolver(urlconf).url_patterns) if not route.startswith("api/")
    ]


PAGE_IDS = {
    "pk": "pk",
    "attachment_pk": "attachment",
    "version_pk": "version",
    "variant_pk": "variant",
}


@pytest.fixture
def page_client(org_a, member_of, central):
    """A logged-in owner of organization A, with CSRF enforced as in production."""
    from django.db import connection

    from tests.frontend.conftest import make_workspace

    made = make_workspace(org_a)
    # Pages that talk to Central reach the fake at once (no retries on a dead address).
    made.server.base_url = central.base_url
    made.server.save(update_fields=["base_url"])
    connection.set_schema_to_public()

    def make(host: str) -> Client:
        client = Client(enforce_csrf_checks=True, HTTP_HOST=host)
        client.force_login(member_of(org_a, "owner"))
        client.cookies["csrftoken"] = CSRF
        return client

    return make, made


def _page_url(route: str, made) -> str:
    ids = {
        "pk": made.template.pk,
        "attachment_pk": 1,
        "version_pk": made.version.pk,
        "variant_pk": made.variant.pk,
        "kind": "workbook",
        "slug": "acme",
        "token": "not-a-token",
        "uidb64": "MQ",
    }
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), route)
    return "/" + url.lstrip("^").rstrip("$")


# Plus an address that does not exist on either host (the 404 page must not read the body).
PAGES = [
    *[("tenant", route) for route in _pages("frontend.tenant_urls")],
    *[("public", route) for route in _pages("control_plane.urls")],
    ("tenant", "no-such-page/"),
    ("public", "no-such-page/"),
]


@pytest.mark.parametrize(("host", "route"), PAGES, ids=[f"{h}-/{r}" for h, r in PAGES])
def test_pages_refuse_abusive_bodies(page_client, org_a, host, route):
    make, made = page_client
    client = make(org_a.primary_domain if host == "tenant" else settings.BASE_DOMAIN)
    url = _page_url(route, made)
    for abuse in abuses("page"):
        response = client.generic(
            "POST", url, abuse.body, content_type=abuse.content_type, HTTP_X_CSRFTOKEN=CSRF
        )
        assert_no_traceback(response)
        if abuse.name in ("oversized-form", "multipart-no-boundary"):
            # The form body is read (the CSRF check reads it first) and refused with our
            # 400 page; a page that is switched off (404) never reads it.
            assert response.status_code in (400, 404), (abuse.name, url, response.status_code)
            if response.status_code == 400:
                assert "Bad request · Publish MDM" in response.content.decode()
