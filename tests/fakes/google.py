"""A fake Google (OAuth token endpoint + Drive v3 export) on 127.0.0.1.

Speaks the real paths, status codes and error bodies the product handles:
``POST /token`` (refresh_token grant; ``invalid_grant`` when revoked) and
``GET /drive/v3/files/{id}/export`` (401 bad token, 403 no permission with
Google's ``errors[].reason``, 404 "File not found" for files not shared with
the app, 200 with the .xlsx bytes).
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


class FakeGoogle:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: dict[str, bytes] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token → account
        self.access_tokens: dict[str, str] = {}  # access token → account
        self.readable: dict[str, set[str]] = {}  # file id → accounts allowed (drive.file)
        self.forbidden: set[tuple[str, str]] = set()  # (account, file) with no permission
        self.requests: list[tuple[str, str]] = []
        # Send exports without Content-Length, read until the connection closes
        # (as a streamed download arrives), so a size cap must count the bytes.
        self.stream_exports = False
        self.server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add_file(self, file_id: str, data: bytes, *, readable_by: str) -> str:
        with self.lock:
            self.files[file_id] = data
            self.readable.setdefault(file_id, set()).add(readable_by)
        return f"https://docs.google.com/spreadsheets/d/{file_id}/edit#gid=0"

    def issue_refresh_token(self, account: str) -> str:
        token = "1//" + secrets.token_urlsafe(24)
        with self.lock:
            self.refresh_tokens[token] = account
        return token

    def revoke(self, refresh_token: str) -> None:
        with self.lock:
            self.refresh_tokens.pop(refresh_token, None)
            self.access_tokens.clear()


def _handler(fake: FakeGoogle):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _json(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _drive_error(self, status: int, reason: str, message: str) -> None:
            self._json(
                status,
                {
                    "error": {
                        "code": status,
                        "message": message,
                        "errors": [{"domain": "global", "reason": reason, "message": message}],
                    }
                },
            )

        def do_POST(self):  # noqa: N802
            fake.requests.append(("POST", self.path))
            length = int(self.headers.get("Content-Length", 0))
            form = parse_qs(self.rfile.read(length).decode())
            if urlsplit(self.path).path != "/token":
                return self._json(404, {"error": "not_found"})
            token = form.get("refresh_token", [""])[0]
            with fake.lock:
                account = fake.refresh_tokens.get(token)
                if account is None:
                    return self._json(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": "Token has been expired or revoked.",
                        },
                    )
                access = "ya29." + secrets.token_urlsafe(24)
                fake.access_tokens[access] = account
            self._json(
                200,
                {
                    "access_token": access,
                    "expires_in": 3599,
                    "token_type": "Bearer",
                    "scope": "https://www.googleapis.com/auth/drive.file",
                },
            )

        def do_GET(self):  # noqa: N802
            fake.requests.append(("GET", self.path))
            parts = urlsplit(self.path)
            segments = parts.path.strip("/").split("/")
            if (
                len(segments) != 5
                or segments[:3] != ["drive", "v3", "files"]
                or segments[4] != "export"
            ):
                return self._drive_error(404, "notFound", "Not Found")
            file_id = segments[3]
            auth = self.headers.get("Authorization", "")
            with fake.lock:
                account = fake.access_tokens.get(auth.removeprefix("Bearer "))
                if account is None:
                    return self._drive_error(401, "authError", "Invalid Credentials")
                if (account, file_id) in fake.forbidden:
                    return self._drive_error(
                        403,
                        "insufficientFilePermissions",
                        "The user does not have sufficient permissions for this file.",
                    )
                if file_id not in fake.files or account not in fake.readable.get(file_id, set()):
                    return self._drive_error(404, "notFound", f"File not found: {file_id}.")
                data = fake.files[file_id]
            self.send_response(200)
            self.send_header("Content-Type", parse_qs(parts.query).get("mimeType", [""])[0])
            if fake.stream_exports:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                for start in range(0, len(data), 65536):
                    self.wfile.write(data[start : start + 65536])
            except OSError:
                pass  # the client stopped reading (a size cap)

    return Handler


@pytest.fixture
def fake_google(settings):
    fake = FakeGoogle()
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    settings.GOOGLE_DRIVE_API_URL = fake.base_url
    settings.GOOGLE_OAUTH_TOKEN_URL = fake.base_url + "/token"
    # The fake listens on 127.0.0.1, which the guarded transport refuses unless listed.
    settings.OUTBOUND_ALLOWED_INTERNAL_HOSTS = [
        *settings.OUTBOUND_ALLOWED_INTERNAL_HOSTS,
        fake.base_url.split("://", 1)[1],
    ]
    settings.GOOGLE_CLIENT_ID = "client-id.apps.googleusercontent.com"
    settings.GOOGLE_CLIENT_SECRET = "client-secret"
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
