"""The provider: configuration (URL and token, from the environment by default)."""

from __future__ import annotations

import os
from typing import Any

from tf import iface
from tf.schema import Attribute, Schema
from tf.types import Number, String, Unknown
from tf.utils import Diagnostics

from publishmdm_provider import SOURCE
from publishmdm_provider.client import Client

DEFAULT_URL = "http://publishmdm.localhost:8000"
DEFAULT_PROVISION_TIMEOUT = 600.0


def _given(value: Any) -> bool:
    return value is not None and value is not Unknown and value != ""


class PublishMdmProvider(iface.Provider):
    """One instance per provider process; its client is shared by every resource call."""

    def __init__(self) -> None:
        self.client: Client | None = None
        self.provision_timeout = DEFAULT_PROVISION_TIMEOUT

    def get_model_prefix(self) -> str:
        return "publishmdm_"

    def full_name(self) -> str:
        return SOURCE

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return Schema(
            attributes=[
                Attribute(
                    "url",
                    String(),
                    optional=True,
                    description="Control-plane base URL, e.g. `https://publishmdm.example.org`. "
                    f"Default: `PUBLISHMDM_URL`, else `{DEFAULT_URL}`.",
                ),
                Attribute(
                    "token",
                    String(),
                    optional=True,
                    sensitive=True,
                    description="Platform token (`pmdp_...`, scope `organizations:write`). "
                    "Default: `PUBLISHMDM_TOKEN`; prefer the environment to configuration.",
                ),
                Attribute(
                    "provision_timeout",
                    Number(),
                    optional=True,
                    description="Seconds `apply` waits for an organization to become active "
                    f"(default `PUBLISHMDM_PROVISION_TIMEOUT`, else {DEFAULT_PROVISION_TIMEOUT:.0f}).",
                ),
            ]
        )

    def validate_config(self, diags: Diagnostics, config: dict) -> None:
        url = config.get("url")
        if _given(url) and not str(url).startswith(("http://", "https://")):
            diags.add_error("Invalid url", "Use http(s)://host[:port].", path=["url"])

    def configure_provider(self, diags: Diagnostics, config: dict) -> None:
        url = config.get("url") if _given(config.get("url")) else None
        url = url or os.environ.get("PUBLISHMDM_URL") or DEFAULT_URL
        token = config.get("token") if _given(config.get("token")) else None
        token = token or os.environ.get("PUBLISHMDM_TOKEN", "")
        timeout = config.get("provision_timeout")
        if not _given(timeout):
            timeout = os.environ.get("PUBLISHMDM_PROVISION_TIMEOUT") or DEFAULT_PROVISION_TIMEOUT
        self.provision_timeout = float(timeout)
        if not token:
            diags.add_error(
                "No platform token",
                "Set PUBLISHMDM_TOKEN (or the provider's token argument) to a platform token "
                "made with `manage.py platform_token_create NAME --scope organizations:write`.",
            )
            return
        try:
            self.client = Client(url, token)
        except ValueError as exc:
            diags.add_error("Invalid url", str(exc), path=["url"])

    def get_data_sources(self) -> list[type]:
        from publishmdm_provider.plan import PlanDataSource

        return [PlanDataSource]

    def get_resources(self) -> list[type]:
        from publishmdm_provider.invitation import InvitationResource
        from publishmdm_provider.organization import OrganizationResource

        return [OrganizationResource, InvitationResource]
