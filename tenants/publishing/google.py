"""Google Drive: export a Google Sheet as .xlsx with a user's OAuth token.

Built per call from the requesting user's refresh token (kept in the
organization's secret store); nothing is cached between users or tenants.
Errors are typed with the reason a person can act on: the sheet is not
shared with the app, the Google authorisation expired or was revoked, or the
account has no permission.
"""

from __future__ import annotations

import re
import time

import requests
import structlog
from django.conf import settings

from control_plane.errors import ServiceError
from control_plane.outbound import OutboundRefused, guarded_session

log = structlog.get_logger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Google's own export limit; a bigger answer is refused while it streams in.
MAX_EXPORT_BYTES = 10 * 1024 * 1024
_READ_CHUNK = 64 * 1024
_SHEET_ID_RE = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]{10,})")


class GoogleError(ServiceError):
    """A Google failure with a machine code and a message for people."""

    code = "google_error"

    def __init__(self, message: str, *, code: str, status: int | None = None, raw: str = ""):
        super().__init__(message, code=code)
        self.status = status
        self.raw = raw[:2000]


def sheet_id_from_url(url: str) -> str:
    match = _SHEET_ID_RE.search(url or "")
    if not match:
        raise GoogleError(
            "This is not a Google Sheets address (it should contain /spreadsheets/d/<id>).",
            code="google_bad_url",
        )
    return match.group(1)


def _session() -> requests.Session:
    """Google is reached through the guarded transport, like every outbound client."""
    return guarded_session(timeout=settings.GOOGLE_TIMEOUT)


def _unreachable(what: str, exc: requests.RequestException) -> str:
    if isinstance(exc, OutboundRefused):
        return f"{what} could not be reached: {exc}."
    return f"{what} could not be reached; try again."


def refresh_access_token(refresh_token: str, *, session: requests.Session | None = None) -> str:
    """Trade a refresh token for a short-lived access token."""
    http = session or _session()
    try:
        response = http.post(
            settings.GOOGLE_OAUTH_TOKEN_URL,
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": settings.GOOGLE_CLIENT_ID,
                "client_secret": settings.GOOGLE_CLIENT_SECRET,
            },
            timeout=settings.GOOGLE_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise GoogleError(
            _unreachable("Google (renewing your authorisation)", exc), code="google_unavailable"
        ) from exc
    if response.status_code == 200:
        return response.json()["access_token"]
    if response.status_code in (400, 401) and "invalid_grant" in response.text:
        raise GoogleError(
            "Your Google authorisation has expired or was revoked. Sign in with Google again.",
            code="google_token_revoked",
            status=response.status_code,
            raw=response.text,
        )
    raise GoogleError(
        f"Google refused to renew your authorisation (HTTP {response.status_code}).",
        code="google_token_error",
        status=response.status_code,
        raw=response.text,
    )


def _reason(response: requests.Response) -> str:
    try:
        errors = response.json().get("error", {}).get("errors", [])
        return errors[0].get("reason", "") if errors else ""
    except ValueError:
        return ""


def export_sheet_xlsx(
    sheet_url: str,
    *,
    access_token: str,
    retries: int = 2,
    backoff: float = 0.5,
    session: requests.Session | None = None,
) -> bytes:
    """Download the sheet as .xlsx; retries network errors, 429 and 5xx (a GET)."""
    file_id = sheet_id_from_url(sheet_url)
    http = session or _session()
    url = f"{settings.GOOGLE_DRIVE_API_URL}/drive/v3/files/{file_id}/export"
    for attempt in range(retries + 1):
        started = time.perf_counter()
        try:
            response = http.get(
                url,
                params={"mimeType": XLSX_MIME},
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=settings.GOOGLE_TIMEOUT,
                stream=True,  # read with a cap below, never whole
            )
        except requests.RequestException as exc:
            if attempt < retries and not isinstance(exc, OutboundRefused):
                time.sleep(backoff * 2**attempt)
                continue
            raise GoogleError(_unreachable("Google Drive", exc), code="google_unavailable") from exc
        log.info(
            "google.export",
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000),
        )
        if response.status_code == 200:
            return _read_capped(response, MAX_EXPORT_BYTES)
        if (response.status_code == 429 or response.status_code >= 500) and attempt < retries:
            time.sleep(backoff * 2**attempt)
            continue
        raise _export_error(response, file_id)
    raise AssertionError("unreachable")  # pragma: no cover


def _too_large() -> GoogleError:
    return GoogleError(
        f"This sheet is too large to publish (its export is over {MAX_EXPORT_BYTES // 2**20} MB).",
        code="google_too_large",
    )


def _read_capped(response: requests.Response, limit: int) -> bytes:
    """The body, refused as soon as it (or its announced length) passes ``limit``."""
    try:
        with response:
            announced = int(response.headers.get("Content-Length") or 0)
            if announced > limit:
                raise _too_large()
            body = bytearray()
            for chunk in response.iter_content(_READ_CHUNK):
                body += chunk
                if len(body) > limit:
                    raise _too_large()
            return bytes(body)
    except requests.RequestException as exc:
        raise GoogleError(
            "The sheet's download from Google Drive was interrupted; try again.",
            code="google_unavailable",
        ) from exc


def _export_error(response: requests.Response, file_id: str) -> GoogleError:
    status, reason, raw = response.status_code, _reason(response), response.text
    if status == 401:
        return GoogleError(
            "Your Google authorisation has expired. Sign in with Google again.",
            code="google_token_expired",
            status=status,
            raw=raw,
        )
    if status == 404 or reason == "appNotAuthorizedToFile":
        return GoogleError(
            "Publish MDM cannot see this sheet. Open it with the Google Picker (or share it with "
            "your Google account) so the app is allowed to read it.",
            code="google_not_shared",
            status=status,
            raw=raw,
        )
    if status == 403 and reason == "exportSizeLimitExceeded":
        return GoogleError(
            "This sheet is too large for Google to export (over 10 MB).",
            code="google_too_large",
            status=status,
            raw=raw,
        )
    if status == 403:
        return GoogleError(
            "Your Google account has no permission to read this sheet.",
            code="google_no_permission",
            status=status,
            raw=raw,
        )
    return GoogleError(
        f"Google Drive answered HTTP {status} for sheet {file_id}.",
        code="google_error",
        status=status,
        raw=raw,
    )
