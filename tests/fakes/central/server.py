"""The fake Central's HTTP server and the helpers tests drive it with.

A real ``ThreadingHTTPServer`` on 127.0.0.1 (HTTP/1.1, keep-alive), so the real
client, its connection pool, timeouts and threads are exercised end to end.

Knobs a test or benchmark turns:

* ``latency`` (seconds): each request's time in the server.
* ``max_concurrency`` (default 10): requests Central works on at once. Excess
  requests wait, they are not refused: Central's backend takes every connection
  and each request queues for one of its database connections (slonik's pool,
  10 by default), and the nginx in front of it has no connection limit. So a
  burst gets slower, not 503s. ``max_in_flight`` and ``max_queued`` record the
  peaks.
* ``session_ttl`` (seconds, default 24 h as Central) and :meth:`advance_clock`:
  sessions expire on the fake's clock; ``logins``/``logouts`` count sessions
  created and ended, :meth:`live_sessions` lists the ones still valid.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.central.models import Raw
from tests.fakes.central.problems import Problem
from tests.fakes.central.state import Account, CentralState, FormRecord, Request, now

MAX_CONCURRENCY = 10  # Central's database pool (slonik ``maximumPoolSize``) by default


class Recorded(NamedTuple):
    """One request as the fake saw it; ``account`` is the e-mail behind the token (or login)."""

    method: str
    path: str
    account: str | None


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None


class FakeCentral:
    """ODK Central in a thread. Start with :meth:`start`, or use the ``fake_central`` fixture."""

    def __init__(self) -> None:
        self.state = CentralState()
        self.latency = 0.0
        self.max_concurrency = MAX_CONCURRENCY
        self._lock = threading.Lock()  # guards records, failures and the in-flight counters
        self._slots = threading.Condition(self._lock)
        self._records: list[Recorded] = []
        self._failures: list[_Failure] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.queued = 0
        self.max_queued = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeCentral:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            base_url = self.base_url
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            _forget_cached_sessions(base_url)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake Central is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- set-up helpers ----------------------------------------------------------------

    def add_account(self, email: str, password: str, *, admin: bool = False) -> int:
        """A web user who can log in; returns its actor id. Admins see every project."""
        with self.state.lock:
            actor_id = self.state.next_id("actor")
            self.state.accounts[email] = Account(actor_id, email, password, admin)
            return actor_id

    def grant(self, project_id: int, email: str) -> None:
        """Let another account see (and manage) a project."""
        with self.state.lock:
            self.state.members[project_id].add(email)

    def expire_sessions(self, email: str | None = None) -> None:
        """Forget session tokens (all, or one account's): the next call answers 401.2."""
        with self.state.lock:
            for token, session in list(self.state.sessions.items()):
                if email is None or session.email == email:
                    del self.state.sessions[token]

    # --- sessions -------------------------------------------------------------------

    @property
    def session_ttl(self) -> float:
        """Seconds a new session lives (Central: ``sessionLifetime``, 24 h by default)."""
        return self.state.session_ttl

    @session_ttl.setter
    def session_ttl(self, seconds: float) -> None:
        with self.state.lock:
            self.state.session_ttl = seconds

    def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock forward: sessions whose time is up answer 401.2."""
        with self.state.lock:
            self.state.clock_offset += seconds

    @property
    def logins(self) -> int:
        """Sessions created by ``POST /v1/sessions`` so far."""
        return self.state.logins

    @property
    def logouts(self) -> int:
        """Sessions ended by ``DELETE /v1/sessions/...`` so far."""
        return self.state.logouts

    def live_sessions(self, email: str | None = None) -> list[str]:
        """Tokens of the sessions that are still valid (all, or one account's)."""
        with self.state.lock:
            now = self.state.clock()
            return [
                token
                for token, session in self.state.sessions.items()
                if session.expires_at > now and (email is None or session.email == email)
            ]

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: Any = None,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests (None: all) with ``status``.

        ``path_regex`` must match the whole path (no query). ``body`` defaults to a
        Central-style JSON problem; pass ``headers`` for e.g. ``Retry-After``.
        """
        if body is None:
            body = {"code": float(status), "message": f"Injected failure ({status})."}
        with self._lock:
            self._failures.append(
                _Failure(method.upper(), re.compile(path_regex), status, body, headers or {}, times)
            )

    def attachment_race(self, lost: int = 1) -> None:
        """Switch Central's blob-store race on (``lost`` > 0) or off (0).

        After the first upload of each new file, the next ``lost`` uploads of the same
        file answer 200 and store nothing (``exists: false``); see ``blob_race.py``.
        """
        with self.state.lock:
            self.state.blob_race.switch(lost)

    def remove_app_user(self, actor_id: int) -> None:
        """Delete an app user as someone would in Central's web page (not through our API):
        marked deleted, its key revoked, its form grants gone."""
        with self.state.lock:
            user = self.state.app_users[actor_id]
            user["deletedAt"], user["token"] = now(), None
            for form in self.state.forms.values():
                form.assignments = {(r, a) for r, a in form.assignments if a != actor_id}

    def reset(self) -> None:
        """Back to an empty Central: no accounts, data, records, failures or latency."""
        with self.state.lock:
            self.state = CentralState()
        with self._lock:
            self._records.clear()
            self._failures.clear()
            self.in_flight = self.max_in_flight = self.queued = self.max_queued = 0
        self.latency = 0.0
        self.max_concurrency = MAX_CONCURRENCY

    # --- inspection --------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of every request so far, in arrival order."""
        with self._lock:
            return list(self._records)

    @property
    def projects(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return copy.deepcopy(list(self.state.projects.values()))

    def forms(self, project_id: int) -> list[FormRecord]:
        """Copies of the project's forms, with drafts, published definitions and files."""
        with self.state.lock:
            return [copy.deepcopy(f) for (p, _), f in self.state.forms.items() if p == project_id]

    def published_versions(self, project_id: int, form_id: str) -> list[str]:
        with self.state.lock:
            form = self.state.forms.get((project_id, form_id))
            return [d.version for d in form.published] if form else []

    def assignments(self, project_id: int, form_id: str, role: str = "app-user") -> list[int]:
        """Actor ids holding ``role`` (system name or id) on the form."""
        with self.state.lock:
            role_id = self.state._role(str(role))
            form = self.state.forms.get((project_id, form_id))
            return sorted(a for r, a in form.assignments if r == role_id) if form else []

    def app_users(self, project_id: int) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(u) for u in self.state.app_users.values() if u["projectId"] == project_id]

    # --- request handling (called by the handler threads) ------------------------------

    def _handle(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        with self.state.lock:
            req.account, bad_token = self.state.account_for(req.headers)
            email = req.account.email if req.account else None
            if req.path == "/v1/sessions" and req.method == "POST":
                email = _login_email(req.body)
        with self._lock:
            self._records.append(Recorded(req.method, req.path, email))
            failure = self._take_failure(req.method, req.path)
        if self.latency:
            time.sleep(self.latency)
        if failure is not None:
            return failure.status, failure.body, failure.headers
        with self.state.lock:
            try:
                status, payload = self.state.dispatch(req, bad_token)
            except Problem as problem:
                return problem.status, problem.body(), {}
        return status, payload, {}

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.pattern.fullmatch(path):
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    def _enter(self) -> None:
        """Wait for one of ``max_concurrency`` slots, as a request waits for Central's pool."""
        with self._slots:
            if self.in_flight >= self.max_concurrency:
                self.queued += 1
                self.max_queued = max(self.max_queued, self.queued)
                while self.in_flight >= self.max_concurrency:
                    self._slots.wait()
                self.queued -= 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._slots:
            self.in_flight -= 1
            self._slots.notify()


def _forget_cached_sessions(base_url: str) -> None:
    """Sessions the code under test cached for this fake die with it: a later fake on the
    same port must not be sent them, and process exit must not try to log them out."""
    from tenants.publishing.central.sessions import forget_sessions

    forget_sessions(base_url)


def _login_email(body: bytes) -> str | None:
    try:
        value = json.loads(body or b"{}").get("email")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # headers and body leave in one write (flushed after each request)

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle + delayed ACK add ~40 ms to every keep-alive exchange.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the fake records requests itself."""

    def _serve(self) -> None:
        fake: FakeCentral = self.server.fake  # type: ignore[attr-defined]
        fake._enter()
        try:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            req = Request(
                method=self.command,
                path=url.path,
                query=dict(parse_qsl(url.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
                account=None,
            )
            status, payload, headers = fake._handle(req)
            if isinstance(payload, Raw):  # OpenRosa XML, form XML, files: their own headers
                payload, headers = payload.body, {**payload.headers, **headers}
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            if "Content-Type" not in headers:
                content_type = "application/json" if not isinstance(payload, bytes) else "text/html"
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout test)
        finally:
            fake._leave()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
