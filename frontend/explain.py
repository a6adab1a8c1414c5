"""Plain-language explanations of Google and Central errors, with what to do next.

Pages show the explanation; the raw message stays one click away (a
``<details>`` toggle) for whoever needs to report it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenants.publishing.central.remedies import final_conflict


@dataclass(frozen=True)
class Explanation:
    summary: str
    advice: str


_SERVER_LOGIN = (
    "Central refused the account Publish MDM signs in with.",
    "An admin should check the server's username and password under Central servers.",
)
_RUN_CODES: dict[str, tuple[str, str]] = {
    "validation_failed": (
        "The form has errors, so nothing was sent to Central.",
        "Fix the rows listed below in the spreadsheet, upload it again and publish.",
    ),
    "template_invalid": (
        "The spreadsheet could not be read as an XLSForm.",
        "Check that it has a survey sheet with type, name and label columns, then upload it again.",
    ),
    "no_source": (
        "The template has no spreadsheet yet.",
        "Upload the template's .xlsx on its edit page, then publish.",
    ),
    "google_not_connected": (
        "Publish MDM cannot read the Google Sheet yet.",
        "Use “Connect Google” on the template page, then publish again.",
    ),
    "google_token_revoked": (
        "Your Google authorisation expired or was withdrawn.",
        "Connect Google again from the template page, then retry.",
    ),
    "google_token_expired": (
        "Your Google authorisation expired.",
        "Connect Google again from the template page, then retry.",
    ),
    "google_token_error": (
        "Google refused to renew your authorisation.",
        "Connect Google again from the template page, then retry.",
    ),
    "google_not_shared": (
        "Google says this sheet is not available to Publish MDM.",
        "Choose the sheet with the Google Picker (or open it once with the account you "
        "connected), then publish again.",
    ),
    "google_no_permission": (
        "Your Google account may not read this sheet.",
        "Ask the sheet's owner to share it with you, then publish again.",
    ),
    "google_too_large": (
        "The Google Sheet is too large to export.",
        "Remove unused sheets or rows, or download it as .xlsx and upload that instead.",
    ),
    "google_unavailable": (
        "Google could not be reached.",
        "This is usually temporary: retry in a minute.",
    ),
    "google_bad_url": (
        "The template's Google Sheet address is not a sheet address.",
        "Edit the template and paste the address of the sheet (…/spreadsheets/d/…).",
    ),
    "central_error": (
        "Central could not be reached or refused the request before publishing started.",
        "Check the server under Central servers, then retry.",
    ),
    "app_user_deleted": (
        "This app user was deleted while publishing.",
        "Nothing to do unless you meant to keep it.",
    ),
    "central_credentials_missing": (
        "Publish MDM has no password for this Central server any more.",
        "An admin should edit the server under Central servers and enter its username and "
        "password again, then retry.",
    ),
    "internal_error": (
        "Publishing stopped because of an unexpected error in Publish MDM.",
        "Retry; if it happens again, send the message below to your administrator.",
    ),
    "some_failed": (
        "Some app users were not published.",
        "Each one's reason is shown below; Retry publishes only those, the others keep "
        "the new version.",
    ),
    "all_failed": (
        "No app user was published.",
        "Each one's reason is shown below; fix what it says, then retry.",
    ),
}

# Where a 404 comes from depends on what the item was doing.
_NOT_FOUND_BY_STEP: dict[str, tuple[str, str]] = {
    "assign": (
        "Central could not find the app user or its form when giving access.",
        "Retry: an app user deleted in Central is created again (its devices then need the "
        "new QR code). If it fails again, check the form and the app user in Central.",
    ),
    "form": (
        "Central could not find the form, or the project it belongs to.",
        "Check in Central that the project and the form still exist, then retry.",
    ),
    "attachments": (
        "Central could not find the form's draft or one of its files.",
        "Retry; a new draft is made. If it fails again, check the form in Central.",
    ),
    "publish": (
        "Central could not find the form's draft to publish.",
        "Retry; a new draft is made. If it fails again, check the form in Central.",
    ),
}
_ATTACHMENTS_LOST = (
    "Central did not keep one of the form's files, so the form was not published.",
    "Retry the failed app users; if it happens again, check the storage of the Central server.",
)


def _from_central_code(code: float | int | str | None, step: str = "") -> tuple[str, str] | None:
    try:
        value = float(code)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    status = int(value)
    conflict = final_conflict(value)
    if conflict is not None:
        return conflict
    if status == 404 and step in _NOT_FOUND_BY_STEP:
        return _NOT_FOUND_BY_STEP[step]
    if status == 401:
        return _SERVER_LOGIN
    if status == 403:
        return (
            "The Central account lacks the rights for this project.",
            "Ask your Central administrator to make the account a Project Manager of this "
            "project (or a server Administrator).",
        )
    if status == 404:
        return (
            "Central could not find the project or form.",
            "The project may have been deleted or archived in Central; check it there.",
        )
    if value == 409.6:
        return (
            "Central already has this form version.",
            "Retry: the next attempt uses a new version number.",
        )
    if status == 409:
        return (
            "Central already has something with this name.",
            "Retry; if it happens again, check the form and app user in Central.",
        )
    if status == 400:
        return (
            "Central rejected the form.",
            "Central's message below says what to change in the spreadsheet.",
        )
    if status == 429 or status >= 500:
        return (
            "Central was busy or had an internal error.",
            "This is usually temporary: retry the failed app users.",
        )
    return None


def _from_message(message: str) -> tuple[str, str] | None:
    text = (message or "").lower()
    if any(m in text for m in ("timed out", "timeout", "could not connect", "unreachable")):
        return (
            "Central did not answer in time.",
            "Check that the server is up and reachable, then retry the failed app users.",
        )
    if "refused this username" in text or "authenticate" in text:
        return _SERVER_LOGIN
    return None


def item_error(item) -> Explanation | None:
    """Why one app user's publish failed or was skipped, in words people can act on."""
    if item.status not in ("failed", "skipped") or not (item.error or item.central_error):
        return None
    if item.step == "validate":
        if item.status == "skipped":
            return Explanation(
                "Not published: another app user's form has errors.",
                "Fix the errors shown for the other rows and publish again.",
            )
        return Explanation(
            "This app user's form has errors, so nothing was sent to Central.",
            "Fix the spreadsheet rows named below, upload it again and publish.",
        )
    central = item.central_error or {}
    found = _from_central_code(central.get("code"), item.step) or _from_message(item.error)
    if found is None and item.step == "attachments" and "did not keep" in (item.error or ""):
        found = _ATTACHMENTS_LOST
    if found is None:
        if item.status == "skipped":
            found = ("Not published: the run stopped before this app user.", "See the run's error.")
        else:
            found = ("Publishing to Central failed.", "Retry the failed app users.")
    return Explanation(*found)


def run_error(run) -> Explanation | None:
    if not run.error and not run.error_code:
        return None
    found = _RUN_CODES.get(run.error_code) or _from_message(run.error)
    if found is None:
        found = ("The run stopped before publishing.", "See the message below, then retry.")
    return Explanation(*found)


def error_explanation(code: str, message: str = "") -> Explanation:
    """For errors raised while a page talks to Central or Google (not during a run)."""
    found = _RUN_CODES.get(code) or _from_message(message)
    return Explanation(*(found or ("Something went wrong.", "Try again in a moment.")))


def central_exception(exc) -> Explanation:
    """For a CentralError raised while a page talks to Central (import picker, new project)."""
    found = _from_central_code(getattr(exc, "code", None) or getattr(exc, "status", None))
    found = found or _from_message(str(exc))
    return Explanation(
        *(found or ("Central could not be reached.", "Check the server's address, then retry."))
    )
