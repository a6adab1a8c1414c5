"""OpenAPI of the control-plane API: its own document, security scheme and settings."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

SPECTACULAR_OVERRIDES: dict[str, Any] = {
    "TITLE": "Publish MDM control-plane API",
    "DESCRIPTION": (
        "For platform operators and Terraform, on the base host at `/api/v1/`. "
        "Authenticate with a platform token (`Authorization: Bearer pmdp_...`, created with "
        "`manage.py platform_token_create`); scopes `organizations:read` and "
        "`organizations:write`. `POST /api/v1/signup/` is public and rate-limited. "
        "Errors, cursor pagination and rate limits follow the tenant API's conventions "
        "(docs/control-api.md)."
    ),
    "VERSION": "1.0.0",
}


class PlatformTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.control.authentication.PlatformTokenAuthentication"
    name = "platformToken"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pmdp_<prefix>_<secret>",
            "description": "A platform token (manage.py platform_token_create).",
        }
