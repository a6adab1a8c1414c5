"""One error format for every 4xx and 5xx answer of the API.

Every error is ``{"error": {"code": ..., "message": ..., "fields": {...}}}``:
``code`` is stable and machine-readable (scripts branch on it), ``message`` is
for people, and ``fields`` maps a request field (dotted for nested ones, such
as ``variables.district`` or ``rows.3.name``) to its messages. Services raise
``ServiceError`` subclasses and Django ``ValidationError``; this module is the
only place that turns them into HTTP statuses, so views never pick statuses
for failures themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import (
    PermissionDenied as DjangoPermissionDenied,
)
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import (
    ValidationError as DjangoValidationError,
)
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from control_plane.errors import Conflict, InvalidState, NotAllowed, ServiceError

log = structlog.get_logger(__name__)


class PreconditionFailed(exceptions.APIException):
    """``If-Match`` named a version that is no longer current (someone else wrote first)."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it; fetch it again and retry."
    default_code = "precondition_failed"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_in_progress"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_reused"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request needs is unavailable; try again shortly."
    default_code = "service_unavailable"


# Service errors whose code says "conflict" although their class does not.
_CONFLICT_CODES = frozenset({"server_in_use"})
_SIZE_ERRORS = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def error_body(code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": dict(fields or {})}}


def error_response(
    status_code: int,
    code: str,
    message: str,
    fields: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(error_body(code, message, fields), status=status_code, headers=headers)


def flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details as ``{"a.b.0.c": ["message", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_fields(value, name))
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten_fields(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _first_code(detail: Any, default: str) -> str:
    """The first machine code found in a DRF error detail tree."""
    if isinstance(detail, exceptions.ErrorDetail):
        return detail.code or default
    if isinstance(detail, Mapping):
        for value in detail.values():
            return _first_code(value, default)
    if isinstance(detail, list | tuple) and detail:
        return _first_code(detail[0], default)
    return default


def _validation_response(fields: dict[str, list[str]], code: str = "invalid") -> Response:
    general = fields.pop("non_field_errors", None) or fields.pop("__all__", None)
    message = general[0] if general else "Some fields are not valid."
    if general and len(general) > 1:
        fields["non_field_errors"] = general
    return error_response(400, code, message, fields)


def _service_status(exc: ServiceError) -> int:
    if isinstance(exc, NotAllowed):
        return 403
    if isinstance(exc, Conflict | InvalidState) or exc.code in _CONFLICT_CODES:
        return 409
    from tenants.secretstore.errors import SecretStoreUnavailable

    if isinstance(exc, SecretStoreUnavailable):
        return 503
    return 400


def _central_response(exc: Exception) -> Response:
    from tenants.publishing.central.errors import (
        CentralAuthError,
        CentralNotFound,
        CentralUnavailable,
    )

    message = f"ODK Central: {exc}"
    if isinstance(exc, CentralNotFound):
        return error_response(404, "central_not_found", message)
    if isinstance(exc, CentralUnavailable):
        return error_response(503, "central_unavailable", message, headers={"Retry-After": "30"})
    if isinstance(exc, CentralAuthError):
        return error_response(502, "central_auth_failed", message)
    return error_response(502, "central_error", message)


def _api_exception_response(exc: exceptions.APIException) -> Response:
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(
            flatten_fields(exc.detail), code=_first_code(exc.detail, "invalid")
        )
    if isinstance(exc.detail, Mapping | list):
        fields = flatten_fields(exc.detail)
        message = next(iter(fields.values()))[0] if fields else str(exc.default_detail)
    else:
        fields, message = {}, str(exc.detail)
    code = exc.default_code
    if isinstance(exc.detail, exceptions.ErrorDetail) and exc.detail.code:
        code = exc.detail.code
    if isinstance(exc, exceptions.Throttled):
        code, message = "throttled", "Too many requests; retry after the number of seconds given."
    return error_response(exc.status_code, code, message, fields, headers)


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: every failure in the one format, never an HTML page."""
    from tenants.publishing.central.errors import CentralError

    if isinstance(exc, Http404):
        return error_response(404, "not_found", "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return error_response(403, "permission_denied", str(exc) or "Not allowed.")
    if isinstance(exc, exceptions.APIException):
        return _api_exception_response(exc)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return _validation_response({k: list(v) for k, v in exc.message_dict.items()})
        return _validation_response({"non_field_errors": list(exc.messages)})
    if isinstance(exc, ServiceError):
        fields = {exc.field: [exc.message]} if exc.field else {}
        return error_response(_service_status(exc), exc.code, exc.message, fields)
    if isinstance(exc, CentralError):
        return _central_response(exc)
    if isinstance(exc, _SIZE_ERRORS):
        return error_response(413, "payload_too_large", str(exc) or "The request is too large.")
    if isinstance(exc, SuspiciousOperation):
        return error_response(400, "bad_request", "The request could not be processed.")
    if settings.DEBUG:
        return None  # let Django's debug page show the traceback
    view = context.get("view")
    log.exception("api.unhandled_error", view=type(view).__name__ if view else None)
    return error_response(500, "server_error", "An unexpected error occurred; it was logged.")
