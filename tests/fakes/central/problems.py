"""Central's error answers: ``{"code": 404.1, "message": ...}`` with HTTP status = floor(code)."""

from __future__ import annotations

import math
from typing import Any


class Problem(Exception):
    """Raised inside the fake; the server turns it into Central's JSON error body."""

    def __init__(self, code: float, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        return math.floor(self.code)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


def not_found() -> Problem:
    return Problem(404.1, "Could not find the resource you were looking for.")


def auth_failed() -> Problem:
    return Problem(401.2, "Could not authenticate with the provided credentials.")


def forbidden() -> Problem:
    return Problem(
        403.1, "The authentication you provided does not have rights to perform that action."
    )


def already_exists(fields: str, values: str) -> Problem:
    return Problem(409.3, f"A resource already exists with {fields} value(s) of {values}.")


def version_conflict(xml_form_id: str, version: str) -> Problem:
    return Problem(
        409.6,
        f"You tried to publish the form '{xml_form_id}' with version '{version}', but a "
        "published form has already existed in this project with those identifiers. Please "
        "choose a new name and try again. You can re-request with ?version=xyz to have the "
        "version changed in-place for you.",
    )


def missing(field: str) -> Problem:
    return Problem(400.2, f"Required parameter {field} missing.")
