"""A fake Infisical: a real HTTP server on 127.0.0.1 answering Infisical's API.

It speaks the paths, payloads, status codes and error bodies that
``infisicalsdk`` (1.0.x) and our REST calls use, as Infisical documents them:

- ``POST /api/v1/auth/universal-auth/login``: machine identity login;
- ``POST /api/v1/projects``, ``GET /api/v1/projects/{id}``,
  ``GET /api/v1/projects/slug/{slug}``, ``DELETE /api/v1/projects/{id}``,
  ``POST /api/v1/projects/{id}/environments``;
- ``GET /api/v3/secrets/raw`` (list) and ``GET|POST|PATCH|DELETE
  /api/v3/secrets/raw/{secretName}``, by project (``workspaceId``),
  environment and ``secretPath``.

Errors have Infisical's shape ``{"reqId", "statusCode", "message", "error"}``.
Every identity sees only the projects it created or was added to: a token
for another project gets 403 ``PermissionDenied``, as in Infisical.

Tests steer it: ``latency`` (seconds before each answer), ``fail(...)`` to
answer an error, drop the connection after doing the work, or hang, and
``requests`` to count round trips. Start it with the ``infisical_server``
fixture (session) and use ``fake_infisical`` (reset for each test).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

PLATFORM_CLIENT_ID = "pmdm-platform-identity"
ORG_ID = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
TOKEN_TTL = 7200
SLUG_RE = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
SECRET_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


@dataclass
class Fault:
    method: str
    pattern: re.Pattern
    status: int
    mode: str  # "status": answer an error; "drop": do the work, then close; "hang": sleep first
    times: int
    hang: float


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]


@dataclass
class State:
    identities: dict[str, dict[str, str]] = field(default_factory=dict)  # client id → identity
    tokens: dict[str, str] = field(default_factory=dict)  # access token → identity id
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, set[str]] = field(default_factory=dict)  # project id → identity ids
    secrets: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeInfisical:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.platform_client_secret = secrets.token_urlsafe(24)
        self.reset()

    # --- control ---------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.state = State()
            self.faults: list[Fault] = []
            self.requests: list[Recorded] = []
            self.latency = 0.0
            self._req = 0
            self.add_identity(PLATFORM_CLIENT_ID, self.platform_client_secret)

    def add_identity(self, client_id: str, client_secret: str) -> str:
        with self._lock:
            identity_id = str(uuid.uuid4())
            self.state.identities[client_id] = {"id": identity_id, "secret": client_secret}
            return identity_id

    def fail(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 500,
        mode: str = "status",
        times: int = 1,
        hang: float = 0.0,
    ) -> None:
        """Make the next ``times`` matching requests fail (see module docstring)."""
        with self._lock:
            self.faults.append(
                Fault(method.upper(), re.compile(path_regex), status, mode, times, hang)
            )

    def count(self, method: str, path_regex: str) -> int:
        pattern = re.compile(path_regex)
        with self._lock:
            return sum(
                1 for r in self.requests if r.method == method.upper() and pattern.search(r.path)
            )

    def projects(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(project) for project in self.state.projects.values()]

    def stored_secrets(self, project_id: str) -> dict[str, str]:
        with self._lock:
            return {
                key[3]: secret["secretValue"]
                for key, secret in self.state.secrets.items()
                if key[0] == project_id
            }

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeInfisical:
        fake = self

        class Handler(_Handler):
            infisical = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="fake-infisical"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- dispatch ----------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method == method and fault.pattern.search(path) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def next_req_id(self) -> str:
        with self._lock:
            self._req += 1
            return f"req-fake-{self._req}"

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: dict[str, Any],
        authorization: str,
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if path == "/api/v1/auth/universal-auth/login" and method == "POST":
                return 200, self._login(body)
            identity = self._identity(authorization)
            for route_method, pattern, action in _ROUTES:
                match = pattern.fullmatch(path)
                if match and route_method == method:
                    return 200, action(self, identity, query, body, **match.groupdict())
            raise ApiError(404, "NotFound", f"Route {method}:{path} not found")

    # --- auth --------------------------------------------------------------------------

    def _login(self, body: dict[str, Any]) -> dict[str, Any]:
        identity = self.state.identities.get(str(body.get("clientId", "")))
        if identity is None or not secrets.compare_digest(
            identity["secret"], str(body.get("clientSecret", ""))
        ):
            raise ApiError(401, "UnauthorizedError", "Invalid credentials")
        token = secrets.token_urlsafe(32)
        self.state.tokens[token] = identity["id"]
        return {
            "accessToken": token,
            "expiresIn": TOKEN_TTL,
            "accessTokenMaxTTL": TOKEN_TTL,
            "tokenType": "Bearer",
        }

    def _identity(self, authorization: str) -> str:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token:
            raise ApiError(401, "UnauthorizedError", "Token missing")
        identity = self.state.tokens.get(token)
        if identity is None:
            raise ApiError(401, "UnauthorizedError", "Invalid token")
        return identity

    def _project(self, identity: str, project_id: str) -> dict[str, Any]:
        project = self.state.projects.get(project_id or "")
        if project is None:
            raise ApiError(404, "NotFound", f"Project with ID '{project_id}' not found")
        if identity not in self.state.members.get(project_id, set()):
            raise ApiError(403, "PermissionDenied", "You are not allowed to access this project")
        return project

    # --- projects ----------------------------------------------------------------------

    def create_project(self, identity, query, body) -> dict[str, Any]:
        name = body.get("projectName")
        if not isinstance(name, str) or not 1 <= len(name) <= 64:
            raise ApiError(422, "ValidationFailure", "projectName: Required")
        slug = (
            body.get("slug")
            or f"{re.sub('[^a-z0-9]+', '-', name.lower())[:30]}-x{uuid.uuid4().hex[:4]}"
        )
        if not (5 <= len(slug) <= 36 and SLUG_RE.fullmatch(slug)):
            raise ApiError(422, "ValidationFailure", "slug: Must be a valid slug")
        if any(p["slug"] == slug for p in self.state.projects.values()):
            raise ApiError(400, "BadRequest", f"Project with slug '{slug}' already exists")
        project_id = str(uuid.uuid4())
        stamp = _now()
        environments = [
            {"id": str(uuid.uuid4()), "name": label, "slug": env_slug}
            for label, env_slug in (
                ("Development", "dev"),
                ("Staging", "staging"),
                ("Production", "prod"),
            )
        ]
        project = {
            "id": project_id,
            "_id": project_id,
            "name": name,
            "slug": slug,
            "description": body.get("projectDescription"),
            "type": body.get("type", "secret-manager"),
            "defaultProduct": "secret-manager",
            "orgId": ORG_ID,
            "autoCapitalization": False,
            "version": 3,
            "pitVersionLimit": 10,
            "hasDeleteProtection": False,
            "createdAt": stamp,
            "updatedAt": stamp,
            "environments": environments,
        }
        self.state.projects[project_id] = project
        self.state.members[project_id] = {identity}
        return {"project": dict(project)}

    def get_project(self, identity, query, body, project_id) -> dict[str, Any]:
        return {"project": dict(self._project(identity, project_id))}

    def get_project_by_slug(self, identity, query, body, slug) -> dict[str, Any]:
        for project in self.state.projects.values():
            if project["slug"] == slug:
                return dict(self._project(identity, project["id"]))
        raise ApiError(404, "NotFound", f"Project with slug '{slug}' not found")

    def delete_project(self, identity, query, body, project_id) -> dict[str, Any]:
        project = self._project(identity, project_id)
        del self.state.projects[project_id]
        self.state.members.pop(project_id, None)
        for key in [k for k in self.state.secrets if k[0] == project_id]:
            del self.state.secrets[key]
        return {"project": dict(project)}

    def create_environment(self, identity, query, body, project_id) -> dict[str, Any]:
        project = self._project(identity, project_id)
        name, slug = body.get("name"), body.get("slug")
        if not name or not isinstance(slug, str) or not 1 <= len(slug) <= 64:
            raise ApiError(422, "ValidationFailure", "name and slug are required")
        if any(env["slug"] == slug for env in project["environments"]):
            raise ApiError(400, "BadRequest", f"Environment with slug '{slug}' already exist")
        environment = {"id": str(uuid.uuid4()), "name": name, "slug": slug}
        project["environments"].append(environment)
        stamp = _now()
        return {
            "message": "Successfully created new environment",
            "projectId": project_id,
            "environment": {
                **environment,
                "position": len(project["environments"]),
                "projectId": project_id,
                "createdAt": stamp,
                "updatedAt": stamp,
            },
        }

    # --- secrets -----------------------------------------------------------------------

    def _scope(self, identity: str, source: dict[str, Any]) -> tuple[str, str, str]:
        project_id = source.get("workspaceId") or ""
        if not project_id:
            raise ApiError(422, "ValidationFailure", "workspaceId: Required")
        project = self._project(identity, project_id)
        environment = source.get("environment") or ""
        if not any(env["slug"] == environment for env in project["environments"]):
            raise ApiError(
                404,
                "NotFound",
                f"Environment with slug '{environment}' in project with ID "
                f"'{project_id}' not found",
            )
        path = source.get("secretPath") or "/"
        if path != "/":
            raise ApiError(
                404,
                "NotFound",
                f"Folder with path '{path}' in environment with slug '{environment}' not found",
            )
        return project_id, environment, path

    @staticmethod
    def _shown(secret: dict[str, Any], view: bool = True) -> dict[str, Any]:
        shown = dict(secret)
        if not view:
            shown["secretValue"] = "<hidden-by-infisical>"
            shown["secretValueHidden"] = True
        return shown

    def list_secrets(self, identity, query, body) -> dict[str, Any]:
        project_id, environment, path = self._scope(identity, query)
        view = query.get("viewSecretValue", "true") == "true"
        found = [
            self._shown(secret, view)
            for (pid, env, spath, _), secret in sorted(self.state.secrets.items())
            if (pid, env, spath) == (project_id, environment, path)
        ]
        return {"secrets": found, "imports": []}

    def get_secret(self, identity, query, body, key) -> dict[str, Any]:
        scope = self._scope(identity, query)
        secret = self.state.secrets.get((*scope, key))
        if secret is None:
            raise ApiError(404, "NotFound", f"Secret with name '{key}' not found")
        return {"secret": self._shown(secret, query.get("viewSecretValue", "true") == "true")}

    def create_secret(self, identity, query, body, key) -> dict[str, Any]:
        scope = self._scope(identity, body)
        if not SECRET_KEY_RE.fullmatch(key):
            raise ApiError(422, "ValidationFailure", "secretName: Invalid secret key")
        if (*scope, key) in self.state.secrets:
            raise ApiError(400, "BadRequest", "Secret already exist")
        if not isinstance(body.get("secretValue"), str):
            raise ApiError(422, "ValidationFailure", "secretValue: Required")
        secret_id = str(uuid.uuid4())
        stamp = _now()
        secret = {
            "id": secret_id,
            "_id": secret_id,
            "workspace": scope[0],
            "environment": scope[1],
            "version": 1,
            "type": body.get("type", "shared"),
            "secretKey": key,
            "secretValue": body["secretValue"],
            "secretComment": body.get("secretComment") or "",
            "secretReminderNote": None,
            "secretReminderRepeatDays": None,
            "skipMultilineEncoding": bool(body.get("skipMultilineEncoding")),
            "secretValueHidden": False,
            "secretPath": scope[2],
            "secretMetadata": [],
            "tags": [],
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        self.state.secrets[(*scope, key)] = secret
        return {"secret": dict(secret)}

    def update_secret(self, identity, query, body, key) -> dict[str, Any]:
        scope = self._scope(identity, body)
        secret = self.state.secrets.get((*scope, key))
        if secret is None:
            raise ApiError(404, "NotFound", f"Secret with name '{key}' not found")
        if "secretValue" in body:
            secret["secretValue"] = body["secretValue"]
        if "secretComment" in body:
            secret["secretComment"] = body["secretComment"] or ""
        secret["version"] += 1
        secret["updatedAt"] = _now()
        return {"secret": dict(secret)}

    def delete_secret(self, identity, query, body, key) -> dict[str, Any]:
        scope = self._scope(identity, body)
        secret = self.state.secrets.pop((*scope, key), None)
        if secret is None:
            raise ApiError(404, "NotFound", f"Secret with name '{key}' not found")
        return {"secret": dict(secret)}


_ROUTES = [
    ("POST", re.compile(r"/api/v1/projects"), FakeInfisical.create_project),
    (
        "GET",
        re.compile(r"/api/v1/projects/slug/(?P<slug>[^/]+)"),
        FakeInfisical.get_project_by_slug,
    ),
    ("GET", re.compile(r"/api/v1/projects/(?P<project_id>[^/]+)"), FakeInfisical.get_project),
    ("DELETE", re.compile(r"/api/v1/projects/(?P<project_id>[^/]+)"), FakeInfisical.delete_project),
    (
        "POST",
        re.compile(r"/api/v1/projects/(?P<project_id>[^/]+)/environments"),
        FakeInfisical.create_environment,
    ),
    ("GET", re.compile(r"/api/v3/secrets/raw"), FakeInfisical.list_secrets),
    ("GET", re.compile(r"/api/v3/secrets/raw/(?P<key>[^/]+)"), FakeInfisical.get_secret),
    ("POST", re.compile(r"/api/v3/secrets/raw/(?P<key>[^/]+)"), FakeInfisical.create_secret),
    ("PATCH", re.compile(r"/api/v3/secrets/raw/(?P<key>[^/]+)"), FakeInfisical.update_secret),
    ("DELETE", re.compile(r"/api/v3/secrets/raw/(?P<key>[^/]+)"), FakeInfisical.delete_secret),
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK add ~40 ms to every answer on a kept-alive socket.
    disable_nagle_algorithm = True
    infisical: FakeInfisical

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        pass  # keep test output quiet; requests are recorded on the fake

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, error: str, message: str) -> None:
        self._answer(
            status,
            {
                "reqId": self.infisical.next_req_id(),
                "statusCode": status,
                "message": message,
                "error": error,
            },
        )

    def _dispatch(self) -> None:
        fake = self.infisical
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with fake._lock:
            fake.requests.append(Recorded(self.command, parts.path, query))
        if fake.latency:
            time.sleep(fake.latency)
        fault = fake._take_fault(self.command, parts.path)
        if fault and fault.mode == "hang":
            time.sleep(fault.hang)
        if fault and fault.mode == "status":
            messages = {
                500: ("InternalServerError", "Something went wrong"),
                502: ("BadGateway", "Bad gateway"),
                503: ("ServiceUnavailable", "Service unavailable"),
                429: ("RateLimitExceeded", "Rate limit exceeded"),
            }
            error, message = messages.get(fault.status, ("Error", "Injected failure"))
            self._error(fault.status, error, message)
            return
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            self._error(400, "BadRequest", "Body is not valid JSON")
            return
        try:
            status, payload = fake.handle(
                self.command, parts.path, query, body, self.headers.get("Authorization", "")
            )
        except ApiError as exc:
            self._error(exc.status, exc.error, exc.message)
            return
        if fault and fault.mode == "drop":
            self.close_connection = True  # the work is done, the answer is lost
            return
        self._answer(status, payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _dispatch


# --- pytest fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def infisical_server():
    """One fake Infisical for the session (a real HTTP server on 127.0.0.1)."""
    fake = FakeInfisical().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_infisical(infisical_server):
    """The fake, emptied for this test: no projects, no secrets, no faults, no latency."""
    infisical_server.reset()
    yield infisical_server
    infisical_server.reset()
