"""In-memory state and REST routes of the fake ODK Central.

Every route takes the parsed request and returns ``(status, json)`` or raises a
:class:`Problem`; one lock guards all state, so the server's threads see a
consistent Central. Paths, status codes and problem codes follow Central's API.

Sessions are Central's: a login answers ``token``, ``csrf``, ``expiresAt`` and
``createdAt``; a session lives ``session_ttl`` seconds (Central's default
``sessionLifetime`` is 24 h) on the fake's clock, which tests move with
``clock_offset``; a bearer token that is unknown, malformed or expired answers
401.2 on every route; ``DELETE /v1/sessions/current`` (404.1 without a session)
and ``DELETE /v1/sessions/{token}`` (403.1 for a token that is not live or not
yours) end one. ``logins`` and ``logouts`` count the successful ones.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from tests.fakes.central import problems
from tests.fakes.central.blob_race import BlobRace
from tests.fakes.central.datasets import DatasetRecord
from tests.fakes.central.forms import FormRoutes, json_body
from tests.fakes.central.models import (
    ROLES,
    Account,
    FormRecord,
    Request,
    Route,
    central_token,
    iso,
    now,
)
from tests.fakes.central.openrosa import OpenRosaRoutes

_TOKEN = re.compile(r"^[A-Za-z0-9!$]{64}$")
SESSION_LIFETIME = 86400.0  # Central's default ``sessionLifetime``, in seconds
APP_USER_SESSION_EXPIRES = "9999-12-31T23:59:59.000Z"  # an app user's key never expires


@dataclass
class SessionRecord:
    email: str
    csrf: str
    created_at: datetime
    expires_at: datetime


class CentralState(FormRoutes, OpenRosaRoutes):
    """Everything the fake Central knows; routes are methods, guarded by ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, SessionRecord] = {}  # token -> session
        self.session_ttl = SESSION_LIFETIME
        self.clock_offset = 0.0  # seconds the fake's clock runs ahead of the real one
        self.logins = self.logouts = 0
        self.datasets: dict[tuple[int, str], DatasetRecord] = {}
        self.projects: dict[int, dict[str, Any]] = {}
        self.members: dict[int, set[str]] = {}  # project id -> emails that see it
        self.app_users: dict[int, dict[str, Any]] = {}  # actor id -> app user json
        self.forms: dict[tuple[int, str], FormRecord] = {}
        self._ids = {"actor": 0, "project": 0}
        self.blob_race = BlobRace()
        self.routes: list[tuple[str, re.Pattern[str], Route]] = [
            (m, re.compile(p + "$"), r)
            for m, p, r in [
                ("POST", r"/v1/sessions", self.create_session),
                ("DELETE", r"/v1/sessions/(?P<token>[^/]+)", self.delete_session),
                ("GET", r"/v1/roles", self.list_roles),
                ("GET", r"/v1/projects", self.list_projects),
                ("POST", r"/v1/projects", self.create_project),
                ("GET", r"/v1/projects/(?P<pid>\d+)", self.get_project),
                ("GET", r"/v1/projects/(?P<pid>\d+)/app-users", self.list_app_users),
                ("POST", r"/v1/projects/(?P<pid>\d+)/app-users", self.create_app_user),
                ("DELETE", r"/v1/projects/(?P<pid>\d+)/app-users/(?P<aid>\d+)", self.delete_app_user),
                ("GET", r"/v1/projects/(?P<pid>\d+)/forms", self.list_forms),
                ("POST", r"/v1/projects/(?P<pid>\d+)/forms", self.create_form),
                ("GET", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)", self.get_form),
                ("GET", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/draft", self.get_draft),
                ("POST", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/draft", self.create_draft),
                ("POST", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/draft/publish", self.publish),
                ("GET", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/draft/attachments", self.draft_attachments),
                ("POST", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/draft/attachments/(?P<name>[^/]+)", self.upload_attachment),
                ("GET", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/attachments", self.published_attachments),
                ("GET", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/versions", self.list_versions),
                ("GET", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/assignments/(?P<role>[^/]+)", self.list_assignments),
                ("POST", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/assignments/(?P<role>[^/]+)/(?P<actor>\d+)", self.assign),
                ("DELETE", r"/v1/projects/(?P<pid>\d+)/forms/(?P<fid>[^/]+)/assignments/(?P<role>[^/]+)/(?P<actor>\d+)", self.unassign),
                ("GET", r"/v1/projects/(?P<pid>\d+)/datasets", self.list_datasets),
                ("POST", r"/v1/projects/(?P<pid>\d+)/datasets", self.create_dataset),
                ("GET", r"/v1/projects/(?P<pid>\d+)/datasets/(?P<name>[^/]+)", self.get_dataset),
                ("POST", r"/v1/projects/(?P<pid>\d+)/datasets/(?P<name>[^/]+)/properties", self.create_property),
                ("GET", r"/v1/projects/(?P<pid>\d+)/assignments/forms/(?P<role>[^/]+)", self.project_form_assignments),
            ]
        ]  # fmt: skip

    def next_id(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def clock(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    # --- dispatch and auth --------------------------------------------------------

    def account_for(self, headers: dict[str, str]) -> tuple[Account | None, bool]:
        """(account, bad_token): the bearer's account, and whether a token was refused."""
        session = self._live_session(headers)
        if session is None:
            return None, headers.get("authorization", "").startswith("Bearer ")
        return self.accounts.get(session[1].email), False

    def _live_session(self, headers: dict[str, str]) -> tuple[str, SessionRecord] | None:
        """(token, session) of a well-formed ``Bearer`` token whose session has not expired."""
        value = headers.get("authorization", "")
        token = value[7:] if value.startswith("Bearer ") else ""
        session = self.sessions.get(token) if _TOKEN.match(token) else None
        if session is not None and session.expires_at <= self.clock():
            del self.sessions[token]  # Central's reaper would remove it
            return None
        return (token, session) if session is not None else None

    def dispatch(self, req: Request, bad_token: bool) -> tuple[int, Any]:
        if req.path.startswith("/v1/key/"):  # an app user's key, not a web user's session
            return self.dispatch_key(req)
        for method, pattern, route in self.routes:
            match = pattern.match(req.path)
            if match and method == req.method:
                if bad_token:  # Central authenticates before routing, even a login
                    raise problems.auth_failed()
                if route not in (self.create_session, self.list_roles, self.delete_session) and (
                    req.account is None
                ):
                    raise problems.forbidden()
                status, payload = route(
                    req, **{k: unquote(v) for k, v in match.groupdict().items()}
                )
                if route == self.create_app_user:
                    payload = _with_key_session(payload)
                return status, payload
        raise problems.not_found()

    def _project(self, req: Request, pid: str) -> dict[str, Any]:
        project = self.projects.get(int(pid))
        if project is None:
            raise problems.not_found()
        assert req.account is not None
        if not (req.account.admin or req.account.email in self.members[project["id"]]):
            raise problems.forbidden()
        return project

    # --- sessions, roles, projects, app users --------------------------------------

    def create_session(self, req: Request) -> tuple[int, Any]:
        body = json_body(req)
        email, password = body.get("email"), body.get("password")
        if email in (None, "") or password in (None, ""):
            raise problems.missing_parameters(
                ["email", "password"], {"email": email, "password": password}
            )
        account = next(
            (a for a in self.accounts.values() if a.email.lower() == str(email).lower()), None
        )
        if account is None or not secrets.compare_digest(account.password, str(password)):
            raise problems.auth_failed()
        token, created = central_token(), self.clock()
        session = SessionRecord(
            account.email, central_token(), created, created + timedelta(seconds=self.session_ttl)
        )
        self.sessions[token] = session
        self.logins += 1
        return 200, {
            "token": token,
            "csrf": session.csrf,
            "expiresAt": iso(session.expires_at),
            "createdAt": iso(session.created_at),
        }

    def delete_session(self, req: Request, token: str) -> tuple[int, Any]:
        live = self._live_session(req.headers)
        if token == "current":
            if live is None:
                raise problems.not_found()
            token = live[0]
        else:
            session = self.sessions.get(token)
            if session is None or session.expires_at <= self.clock():
                raise problems.forbidden()  # Central never says whether a token exists
            account = req.account
            if account is None or not (account.admin or account.email == session.email):
                raise problems.forbidden()
        del self.sessions[token]
        self.logouts += 1
        return 200, {"success": True}

    def list_roles(self, req: Request) -> tuple[int, Any]:
        return 200, [
            {"id": i, "name": n, "system": s, "createdAt": now(), "updatedAt": None, "verbs": []}
            for i, n, s in ROLES
        ]

    def list_projects(self, req: Request) -> tuple[int, Any]:
        assert req.account is not None
        account = req.account
        return 200, [
            _project_json(p)
            for p in self.projects.values()
            if account.admin or account.email in self.members[p["id"]]
        ]

    def create_project(self, req: Request) -> tuple[int, Any]:
        assert req.account is not None
        name = json_body(req).get("name")
        if not name:
            raise problems.missing("name")
        pid = self.next_id("project")
        self.projects[pid] = {
            "id": pid, "name": name, "description": None, "archived": None, "keyId": None,
            "acteeId": str(uuid.uuid4()), "createdAt": now(), "updatedAt": None,
            "deletedAt": None,
        }  # fmt: skip
        self.members[pid] = {req.account.email}
        return 200, dict(self.projects[pid])  # the inserted row, acteeId included

    def get_project(self, req: Request, pid: str) -> tuple[int, Any]:
        return 200, _project_json(self._project(req, pid))

    def list_app_users(self, req: Request, pid: str) -> tuple[int, Any]:
        self._project(req, pid)
        return 200, [
            u for u in self.app_users.values() if u["projectId"] == int(pid) and not u["deletedAt"]
        ]

    def create_app_user(self, req: Request, pid: str) -> tuple[int, Any]:
        self._project(req, pid)
        name = json_body(req).get("displayName")
        if not name:
            raise problems.missing("displayName")
        actor_id = self.next_id("actor")
        self.app_users[actor_id] = {
            "id": actor_id, "type": "field_key", "displayName": name,
            "token": central_token(), "projectId": int(pid),
            "createdAt": now(), "updatedAt": None, "deletedAt": None,
        }  # fmt: skip
        return 200, self.app_users[actor_id]

    def delete_app_user(self, req: Request, pid: str, aid: str) -> tuple[int, Any]:
        """Like Central: mark deleted, end its session (the key stops working), drop its roles."""
        self._project(req, pid)
        user = self.app_users.get(int(aid))
        if user is None or user["projectId"] != int(pid) or user["deletedAt"]:
            raise problems.not_found()
        user["deletedAt"], user["token"] = now(), None
        for form in self.forms.values():
            form.assignments = {(r, a) for r, a in form.assignments if a != user["id"]}
        return 200, {"success": True}


def _project_json(project: dict[str, Any]) -> dict[str, Any]:
    """A read project: Central's Project frame does not expose ``acteeId`` (creation does)."""
    return {k: v for k, v in project.items() if k != "acteeId"}


def _with_key_session(app_user: dict[str, Any]) -> dict[str, Any]:
    """A created app user also carries its never-expiring session's ``csrf`` and ``expiresAt``."""
    return {**app_user, "csrf": central_token(), "expiresAt": APP_USER_SESSION_EXPIRES}
