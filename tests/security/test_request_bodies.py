"""Finding 1: request bodies are bounded before they are read, in the server process.

Against a real server process (``python -m control_plane.runtime.server``,
which ``manage.py serve`` runs): plain daphne waited for a body announced at
500 MB, and Twisted parsed a 300 MB multipart body in memory (0.5 → 4 GB)
before Django saw it. Now the announced length is refused at once with 413,
a chunked body is refused when it passes the limit with the server's memory
flat, and uploads within the limit stream through to the application intact.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import socket

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from control_plane.runtime.body_limits import is_upload_path
from tests.api.helpers import issue_token
from tests.publishing.publishing_helpers import simple_form
from tests.security.processes import (
    guarded_daphne,
    memory_mib,
    process_env,
    reset_peak,
    wait_healthy,
)

MIB = 1024 * 1024
BASE = settings.BASE_DOMAIN


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        env = process_env()
    process = guarded_daphne(env, tmp_path_factory.mktemp("bodies"))
    try:
        wait_healthy(process, BASE)
        yield process
    finally:
        process.stop()
        print(process.log())  # shown when a test fails


def read_response(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length (what the server answers here)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before the headers: {data[:200]!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def head(path: str, host: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def assert_too_large(status: int, headers: dict, body: bytes, limit_mb: int) -> None:
    assert status == 413
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large"
    assert f"{limit_mb} MB" in error["message"]


@pytest.mark.parametrize(
    ("path", "limit_mb"), [("/login/", 3), ("/api/v1/signup/", 3), ("/api/v1/templates/", 20)]
)
def test_an_announced_oversized_body_is_refused_before_it_is_sent(server, path, limit_mb):
    """Only the headers go out: the 413 must come without the server waiting for a body."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            head(
                path,
                BASE if "templates" not in path else f"acme.{BASE}",
                Content_Type="multipart/form-data; boundary=x",
                Content_Length="500000000",
                Expect="100-continue",
            )
        )
        status, headers, body = read_response(sock, timeout=5)
    assert_too_large(status, headers, body, limit_mb)


def test_a_streamed_300_mb_body_is_refused_and_memory_stays_flat(server):
    """Chunked: no length to check, so the server counts; the client reads the 413."""
    reset_peak(server.pid)
    before = memory_mib(server.pid)
    block = b"--x\r\nContent-Disposition: form-data; name=f\r\n\r\n" + os.urandom(MIB)
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            head(
                "/login/",
                BASE,
                Content_Type="multipart/form-data; boundary=x",
                Transfer_Encoding="chunked",
            )
        )
        try:
            for _ in range(300):
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
                sent += 1
        except OSError:
            pass  # the server stopped listening; its answer is waiting
        status, headers, body = read_response(sock, timeout=10)
    assert_too_large(status, headers, body, 3)
    grew = memory_mib(server.pid) - before
    assert grew < 100, f"the server grew by {grew} MiB for a refused body ({sent} MiB sent)"
    assert memory_mib(server.pid, "VmRSS") < before + 100


def test_the_same_body_without_chunking_is_refused_and_discarded(server):
    """A client that sends its announced 300 MB anyway still reads the 413 (lingering close)."""
    reset_peak(server.pid)
    before = memory_mib(server.pid)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head("/login/", BASE, Content_Length=str(300 * MIB)))
        block = bytes(MIB)
        try:
            for _ in range(300):
                sock.sendall(block)
        except OSError:
            pass
        status, headers, body = read_response(sock, timeout=10)
    assert_too_large(status, headers, body, 3)
    assert memory_mib(server.pid) - before < 100


@pytest.fixture
def uploader(committed_org_a, committed_user):
    """A token of an editor of organization A and a project to upload templates into."""
    from control_plane.accounts.models import Membership
    from tenants.publishing.models import CentralServer, Project

    Membership.objects.create(user=committed_user, organization=committed_org_a, role="editor")
    token = issue_token(committed_org_a, committed_user, "editor")
    from django.db import connection

    connection.set_tenant(committed_org_a)
    central = CentralServer.objects.create(name="C", base_url="https://central.invalid")
    project = Project.objects.create(name="P", server=central, central_project_id=1)
    connection.set_schema_to_public()
    return token, project.pk


def multipart(fields: dict[str, str], files: dict[str, bytes]) -> tuple[str, bytes]:
    boundary = "pmdm-" + os.urandom(8).hex()
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, data in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.xlsx"'
            f"\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    return f"multipart/form-data; boundary={boundary}", b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode()


def post(server, path: str, host: str, content_type: str, body: bytes, token: str):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            head(
                path,
                host,
                Authorization=f"Bearer {token}",
                Content_Type=content_type,
                Content_Length=str(len(body)),
            )
            + body
        )
        return read_response(sock, timeout=30)


def test_an_upload_within_the_limit_streams_through_intact(server, uploader, committed_org_a):
    """8 MB of body (spooled to disk, read back in chunks): the workbook arrives byte for byte."""
    token, project = uploader
    workbook = simple_form()
    content_type, body = multipart(
        {
            "project": str(project),
            "title_base": "Big",
            "form_id_base": "big",
            "source_kind": "upload",
        },
        {"source": workbook, "padding": os.urandom(8 * MIB)},
    )
    host = committed_org_a.primary_domain
    status, _, answer = post(server, "/api/v1/templates/", host, content_type, body, token)
    assert status == 201, answer[:500]
    assert json.loads(answer)["source_sha256"] == hashlib.sha256(workbook).hexdigest()

    # The same body elsewhere is over that path's limit.
    status, headers, answer = post(server, "/api/v1/variables/", host, content_type, body, token)
    assert_too_large(status, headers, answer, 3)


def _schema_paths() -> list[str]:
    """Paths of the API operations whose multipart body has a file (``format: binary``)."""
    from api.tenant.schema_views import tenant_schema

    schema = tenant_schema()
    components = schema["components"]["schemas"]
    paths = []
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            content = (operation.get("requestBody") or {}).get("content", {})
            body = content.get("multipart/form-data", {}).get("schema", {})
            if "$ref" in body:
                body = components[body["$ref"].rsplit("/", 1)[1]]
            if any(p.get("format") == "binary" for p in body.get("properties", {}).values()):
                paths.append(re.sub(r"\{[^}]+\}", "1", path))
    return paths


def _page_views(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _page_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _reads_uploads(view) -> bool:
    """Does this page read ``request.FILES``, itself or through a helper of its module?"""
    function = inspect.unwrap(view)
    module = inspect.getmodule(function)
    helpers = {
        name
        for name, member in vars(module).items()
        if inspect.isfunction(member) and "request.FILES" in inspect.getsource(member)
    }
    source = inspect.getsource(function)
    return "request.FILES" in source or any(
        re.search(rf"\b{re.escape(name)}\(", source) for name in helpers
    )


def test_every_upload_route_has_the_upload_limit():
    """Multipart API operations (from the schema) and pages that read uploads."""
    api = _schema_paths()
    assert api, "no multipart operation found in the schema"
    assert [p for p in api if not is_upload_path(p)] == []
    pages = [
        "/" + re.sub(r"<[^>]+>", "1", route)
        for route, view in _page_views(get_resolver("frontend.tenant_urls").url_patterns)
        if _reads_uploads(view)
    ]
    assert {"/app-users/import/", "/templates/new/", "/templates/1/attachments/"} <= set(pages)
    assert [p for p in pages if not is_upload_path(p)] == []
    assert not is_upload_path("/login/") and not is_upload_path("/api/v1/templates/1/")


def test_bodies_wait_on_disk_not_in_memory(django_db_setup, tmp_path):
    """Six 18 MB uploads held by a busy application: the server keeps them on disk.

    The probe application reads nothing until all six bodies have arrived;
    plain daphne would have copied each whole body into the application's
    queue by then (108 MB); here ``receive()`` reads them from disk, chunk by
    chunk, and they arrive intact.
    """
    import threading

    probe = guarded_daphne(process_env(), tmp_path, app="tests.security.asgi_probe:app")
    try:
        _wait_listening(probe.port)
        reset_peak(probe.pid)
        before = memory_mib(probe.pid)
        bodies = [os.urandom(18 * MIB) for _ in range(6)]
        answers: list = [None] * 6

        def send(index: int) -> None:
            with socket.create_connection(("127.0.0.1", probe.port)) as sock:
                sock.sendall(
                    head(
                        "/api/v1/templates/",
                        f"acme.{BASE}",
                        Content_Length=str(len(bodies[index])),
                        X_Hold_For="6",
                    )
                    + bodies[index]
                )
                answers[index] = read_response(sock, timeout=120)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
        grew = memory_mib(probe.pid) - before
    finally:
        probe.stop()
    for body, (status, _, answer) in zip(bodies, answers, strict=True):
        assert status == 200
        assert json.loads(answer)["sha256"] == hashlib.sha256(body).hexdigest()
    assert grew < 50, f"the server held {grew} MiB for six bodies waiting to be read"


def _wait_listening(port: int) -> None:
    import time

    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the probe server did not start")
