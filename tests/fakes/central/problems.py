"""Central's error answers: ``{"message", "code", "details"}`` with HTTP status = floor(code).

Messages and ``details`` follow central-backend's ``lib/util/problem.js``: Central
serializes the details it built the message from, and leaves ``details`` out
when there are none (``notFound``, ``authenticationFailed``, ...). Values that
JavaScript would join (arrays in a template string) are joined with ``,``.
"""

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
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


def _js(value: Any) -> str:
    """How a JavaScript template string prints a value (arrays joined by commas)."""
    if isinstance(value, list | tuple):
        return ",".join(_js(v) for v in value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _inspect(value: Any) -> str:
    """Node's ``util.inspect`` for the scalars Central prints in 400.3."""
    if value is None:
        return "undefined"
    if isinstance(value, str):
        return "'" + value.replace("'", "\\'") + "'"
    return _js(value)


def unparseable(data_format: str, raw_length: int) -> Problem:
    return Problem(
        400.1,
        f"Could not parse the given data ({raw_length} chars) as {data_format}.",
        {"format": data_format, "rawLength": raw_length},
    )


def missing(field: str) -> Problem:
    return Problem(400.2, f"Required parameter {field} missing.", {"field": field})


def missing_parameters(expected: list[str], got: dict[str, Any]) -> Problem:
    pairs = ", ".join(f"{key}: {_inspect(value)}" for key, value in got.items())
    return Problem(
        400.3,
        f"Required parameters missing. Expected ({', '.join(expected)}), got ({pairs}).",
        # JSON drops undefined values, as Central's serializer does.
        {"expected": expected, "got": {k: v for k, v in got.items() if v is not None}},
    )


def unexpected_value(field: str, value: Any, reason: str) -> Problem:
    return Problem(
        400.8,
        f"Unexpected {field} value {_js(value)}; {reason}",
        {"field": field, "value": value, "reason": reason},
    )


def invalid_entity_form(reason: str) -> Problem:
    return Problem(
        400.25, f"The entity definition within the form is invalid. {reason}", {"reason": reason}
    )


def missing_meta() -> Problem:
    return Problem(400.27, "The form does not contain a 'meta' group.")


def not_found() -> Problem:
    return Problem(404.1, "Could not find the resource you were looking for.")


def auth_failed() -> Problem:
    return Problem(401.2, "Could not authenticate with the provided credentials.")


def forbidden() -> Problem:
    return Problem(
        403.1, "The authentication you provided does not have rights to perform that action."
    )


def already_exists(fields: list[str], values: list[Any], table: str) -> Problem:
    """409.3 as Central builds it from PostgreSQL's unique-violation detail."""
    return Problem(
        409.3,
        f"A resource already exists with {_js(fields)} value(s) of {_js(values)}.",
        {"fields": fields, "values": values, "table": table},
    )


def version_conflict(xml_form_id: str, version: str) -> Problem:
    return Problem(
        409.6,
        f"You tried to publish the form '{xml_form_id}' with version '{version}', but a "
        "published form has already existed in this project with those identifiers.",
        {"xmlFormId": xml_form_id, "version": version},
    )


def dataset_name_conflict(current: str, provided: str) -> Problem:
    return Problem(
        409.16,
        f"A dataset named '{current}' exists and you provided '{provided}' with the same name "
        "but different capitalization.",
        {"current": current, "provided": provided},
    )


def property_name_conflict(duplicates: list[dict[str, str]]) -> Problem:
    return Problem(
        409.17,
        "This form attempts to create new Entity properties that match with existing ones "
        "except for capitalization.",
        {"duplicateProperties": duplicates},
    )
