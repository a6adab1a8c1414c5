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


def _operations(host: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, content types of its documented body) of every unsafe operation."""
    document = _tenant_document() if host == "tenant" else _control_document()
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete"):
                takes = sorted((operation.get("requestBody") or {}).get("content", {}))
                found.append((method, path, tuple(takes)))
    return found


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


def _check_api(response, abuse: Abuse, takes: tuple[str, ...]) -> str | None:
    """What is wrong with this answer, or None."""
    try:
        assert_no_traceback(response)
        error = assert_api_error(response) if response.status_code >= 400 else None
    except AssertionError as exc:
        return str(exc)[:300]
    if not takes:
        return None  # no body documented: ignoring one is fine, failing on it is not
    if error is None:
        return f"{response.status_code}, not refused: {response.content[:200]!r}"
    if abuse.name.startswith("oversized"):
        if response.status_code != 413 or error["code"] != "payload_too_large":
            return f"{response.status_code} {error}"
    elif abuse.content_type.split(";")[0] not in takes:
        if response.status_code != 415:
            return f"{response.status_code} {error}"
    elif abuse.name in ("nested-json", "malformed-json", "not-utf8", "nan-json"):
        if error["code"] != "parse_error":
            return f"{response.status_code} {error}"
    return None


def _walk_api(client: Client, token: str, operations: list, fill) -> list[str]:
    # Operations that take a body first: the bodiless ones (DELETE) may remove objects.
    failures = []
    for method, path, takes in sorted(operations, key=lambda op: not op[2]):
        url = fill(path)
        for abuse in abuses("api"):
            response = client.generic(
                method.upper(),
                url,
                abuse.body,
                content_type=abuse.content_type,
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            problem = _check_api(response, abuse, takes)
            if problem:
                failures.append(f"{method.upper()} {url} [{abuse.name}]: {problem}")
    return failures


def test_every_organization_api_operation_refuses_abusive_bodies(org_a, tenant_objects):
    token, ids = tenant_objects
    operations = _operations("tenant")
    assert len(operations) > 25
    client = Client(HTTP_HOST=org_a.primary_domain)
    failures = _walk_api(client, token, operations, lambda path: _tenant_path(path, ids))
    assert failures == []


def test_every_control_plane_operation_refuses_abusive_bodies(org_a):
    from control_plane.accounts.services.platform_tokens import platform_token_create

    token = platform_token_create(name="walker", scopes=["organizations:write"]).secret
    operations = _operations("control")
    assert len(operations) > 5

    def fill(path: str) -> str:
        path = path.replace("{organization_slug}", "acme").replace("{slug}", "acme")
        return path.replace("{id}", "1")

    failures = _walk_api(Client(HTTP_HOST=settings.BASE_DOMAIN), token, operations, fill)
    assert failures == []


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

    owner = member_of(org_a, "owner")

    def make(host: str) -> Client:
        client = Client(enforce_csrf_checks=True, HTTP_HOST=host)
        client.force_login(owner)
        client.cookies["csrftoken"] = CSRF
        return client

    return make, made


def _page_url(route: str, made) -> str:
    """The route with real ids: ``pk`` is the object of the route's first segment."""
    section = route.split("/", 1)[0]
    pk = {
        "servers": made.server.pk,
        "projects": made.project.pk,
        "variables": made.variable.pk,
        "app-users": made.app_users[0].pk,
        "runs": made.run.pk,
        "templates": made.template.pk,
    }.get(section, 1)
    ids = {
        "pk": pk,
        "attachment_pk": 1,
        "version_pk": made.version.pk,
        "variant_pk": made.variant.pk,
        "kind": "workbook",
        "slug": "acme",
        "token": "not-a-token",
        "uidb64": "MQ",
        "backend": "google-oauth2",
    }
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), route)
    return "/" + url.lstrip("^").rstrip("$")


def _check_page(response, abuse: Abuse) -> str | None:
    try:
        assert_no_traceback(response)
    except AssertionError as exc:
        return str(exc)[:300]
    if abuse.name in ("oversized-form", "multipart-no-boundary"):
        # The form body is read (the CSRF check reads it first) and refused with our
        # 400 page; a page that is switched off (404) never reads it.
        if response.status_code not in (400, 404):
            return f"{response.status_code}, not refused"
        if (
            response.status_code == 400
            and "Bad request · Publish MDM" not in response.content.decode()
        ):
            return "not our 400 page"
    return None


@pytest.mark.parametrize("host", ["tenant", "public"])
def test_every_page_refuses_abusive_bodies(page_client, org_a, host):
    """Every route of the host's URLconf (and an unknown one), posted to as a logged-in owner."""
    make, made = page_client
    urlconf = "frontend.tenant_urls" if host == "tenant" else "control_plane.urls"
    routes = [*_pages(urlconf), "no-such-page/"]
    assert len(routes) > 10
    failures = []
    for route in routes:
        url = _page_url(route, made)
        # A fresh session per page: a page that logs out must not blind the next ones.
        client = make(org_a.primary_domain if host == "tenant" else settings.BASE_DOMAIN)
        for abuse in abuses("page"):
            response = client.generic(
                "POST", url, abuse.body, content_type=abuse.content_type, HTTP_X_CSRFTOKEN=CSRF
            )
            problem = _check_page(response, abuse)
            if problem:
                failures.append(f"POST {url} [{abuse.name}]: {problem}")
    assert failures == []
