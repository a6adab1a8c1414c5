"""In-memory state and REST routes of the fake ODK Central.

Every route takes the parsed request and returns ``(status, json)`` or raises a
:class:`Problem`; one lock guards all state, so the server's threads see a
consistent Central. Paths, status codes and problem codes follow Central's API.
"""

from __future__ import annotations

import re
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from tests.fakes.central import problems
from tests.fakes.central.blob_race import BlobRace
from tests.fakes.central.forms import FormRoutes, json_body
from tests.fakes.central.models import ROLES, Account, FormRecord, Request, Route, now
from tests.fakes.central.problems import Problem


class CentralState(FormRoutes):
    """Everything the fake Central knows; routes are methods, guarded by ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, str] = {}  # token -> email
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
                ("GET", r"/v1/projects/(?P<pid>\d+)/assignments/forms/(?P<role>[^/]+)", self.project_form_assignments),
            ]
        ]  # fmt: skip

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    # --- dispatch and auth --------------------------------------------------------

    def account_for(self, headers: dict[str, str]) -> tuple[Account | None, bool]:
        """(account, bad_token): the bearer's account, and whether a token was refused."""
        value = headers.get("authorization", "")
        if not value.lower().startswith("bearer "):
            return None, False
        email = self.sessions.get(value[7:].strip())
        return (self.accounts.get(email) if email else None), email is None

    def dispatch(self, req: Request, bad_token: bool) -> tuple[int, Any]:
        for method, pattern, route in self.routes:
            match = pattern.match(req.path)
            if match and method == req.method:
                if route != self.create_session and bad_token:
                    raise problems.auth_failed()
                if route not in (self.create_session, self.list_roles) and req.account is None:
                    raise problems.forbidden()
                return route(req, **{k: unquote(v) for k, v in match.groupdict().items()})
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
        if not email or not password:
            raise Problem(400.3, "Required parameters missing. Expected (email, password).")
        account = self.accounts.get(email)
        if account is None or not secrets.compare_digest(account.password, password):
            raise problems.auth_failed()
        token = secrets.token_urlsafe(48)
        self.sessions[token] = email
        expires = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        csrf = secrets.token_urlsafe(32)
        return 200, {"createdAt": now(), "expiresAt": expires, "token": token, "csrf": csrf}

    def delete_session(self, req: Request, token: str) -> tuple[int, Any]:
        if token == "current":
            token = req.headers.get("authorization", "")[7:].strip()
        if self.sessions.pop(token, None) is None:
            raise problems.forbidden()
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
            p
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
            "id": pid, "name": name, "description": None, "archived": False, "keyId": None,
            "createdAt": now(), "updatedAt": None, "deletedAt": None,
        }  # fmt: skip
        self.members[pid] = {req.account.email}
        return 200, self.projects[pid]

    def get_project(self, req: Request, pid: str) -> tuple[int, Any]:
        return 200, self._project(req, pid)

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
            "token": secrets.token_urlsafe(48), "projectId": int(pid),
            "createdAt": now(), "updatedAt": None, "deletedAt": None,
        }  # fmt: skip
        return 200, self.app_users[actor_id]
