"""OpenAPI generation: the error format, auth schemes and headers on every operation.

``ApiAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) adds to each operation what the
shared pipeline can answer, so that the schema tells the truth about every
status a client may see: 400/401/403/404/429 everywhere, 409 on writes,
412 where ``If-Match`` is honoured, 413/415 where there is a body, 422 where
``Idempotency-Key`` is honoured, 502/503 where a view talks to ODK Central.
Response headers (``ETag``, ``Location``, ``Retry-After``,
``WWW-Authenticate``) are described too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_doc
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from api.common.concurrency import UNSAFE_OBJECT_METHODS
from api.common.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.common.idempotency import REPLAY_HEADER


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `not_found`.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per request field (dotted for nested fields); empty when none.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    "400": "Invalid request: see `error.fields`.",
    "401": "No valid credentials (missing, unknown, expired or revoked token).",
    "403": "Your role does not allow this, or the CSRF check failed.",
    "404": "No such object in this organization (or you are not a member of it).",
    "409": "Conflicts with the current state (duplicate, in use, already running).",
    "412": "`If-Match` names a version that is no longer current.",
    "413": "The request body is too large.",
    "415": "Unsupported `Content-Type`.",
    "422": "This `Idempotency-Key` was already used with another request body.",
    "429": "Rate limit exceeded; retry after `Retry-After` seconds.",
    "502": "ODK Central refused or failed the operation.",
    "503": "ODK Central or the secret store is unavailable; retry later.",
}

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The `ETag` you last read; the write is refused with 412 if the object changed since.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID). Retrying with the same key returns the first "
    "response instead of starting the work again; kept for 24 hours.",
)


def _response_header(name: str, codes: list[int], description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=codes,
        description=description,
    )


class ApiAutoSchema(AutoSchema):
    def get_description(self) -> str:
        """The action's docstring, else the view's own: never a base class's.

        drf-spectacular reads the class docstring with ``inspect.getdoc``, which
        inherits: a view without one showed the docstring of our pipeline mixin
        (“Mix into every APIView…”) as the operation's description.
        """
        action_doc = get_doc(self._handler())
        own_doc = self.view.__class__.__dict__.get("__doc__")
        return action_doc or (get_doc(self.view.__class__) if own_doc else "")

    def _handler(self) -> Any:
        action = getattr(self.view, "action", None)
        if action:
            return getattr(self.view, action, None)
        return getattr(self.view, self.method.lower(), None)

    def _is_idempotent(self) -> bool:
        return bool(getattr(self._handler(), "idempotent", False))

    def _honours_if_match(self) -> bool:
        return self.method in UNSAFE_OBJECT_METHODS and hasattr(self.view, "object_etag")

    def _has_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH")

    def _talks_to_central(self) -> bool:
        actions = getattr(self.view, "central_actions", ())
        return getattr(self.view, "action", None) in actions

    def error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404", "429"]
        if self.method not in ("GET", "HEAD", "OPTIONS"):
            codes.append("409")
        if self._honours_if_match():
            codes.append("412")
        if self._has_body():
            codes += ["413", "415"]
        if self._is_idempotent():
            codes.append("422")
        if self._talks_to_central():
            codes += ["502", "503"]
        return sorted(codes)

    def get_override_parameters(self) -> list:
        params = list(super().get_override_parameters())
        if self._honours_if_match():
            params.append(IF_MATCH)
        if self._is_idempotent():
            params.append(IDEMPOTENCY_KEY)
            params.append(
                _response_header(
                    REPLAY_HEADER, [200, 201, 202], "`true` when this is a replayed response."
                )
            )
        if self.method == "POST" and (self._is_create_operation() or self._is_idempotent()):
            params.append(
                _response_header("Location", [201, 202], "URL of the created object or run.")
            )
        params.append(_response_header("Retry-After", [429, 503], "Seconds to wait."))
        params.append(
            _response_header("WWW-Authenticate", [401], 'The scheme to use: `Bearer realm="api"`.')
        )
        if getattr(self.view, "action", None) in ("retrieve", "update", "partial_update"):
            params.append(_response_header("ETag", [200], "Version of the object, for `If-Match`."))
        return params

    def get_request_serializer(self) -> Any:
        # Views with separate input serializers (api.tenant.base) show those as requests.
        getter = getattr(self.view, "get_input_serializer_class", None)
        if getter is not None and self.method in ("POST", "PUT", "PATCH"):
            return getter()
        return super().get_request_serializer()

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.common.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pmdm_<prefix>_<secret>",
            "description": "An organization API token, valid only on that organization's host.",
        }


class CsrfSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.common.authentication.SessionAuthentication"
    name = "sessionCookie"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The browser's login session. Unsafe methods also need the "
            "`X-CSRFToken` header holding the `csrftoken` cookie's value.",
        }
