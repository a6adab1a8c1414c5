"""Data source ``publishmdm_plan``: a plan's name and limits, by slug."""

from __future__ import annotations

from typing import Any

from tf import iface
from tf.schema import Attribute, Schema
from tf.types import Bool, Number, String

from publishmdm_provider.client import ApiError
from publishmdm_provider.common import client_of, report


class PlanDataSource(iface.DataSource):
    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "plan"

    @classmethod
    def get_schema(cls) -> Schema:
        limit = "null means unlimited."
        return Schema(
            description="A plan of the platform (read-only).",
            attributes=[
                Attribute("slug", String(), required=True),
                Attribute("id", String(), computed=True),
                Attribute("name", String(), computed=True),
                Attribute("description", String(), computed=True),
                Attribute("is_available", Bool(), computed=True),
                Attribute("max_members", Number(), computed=True, description=limit),
                Attribute("max_app_users", Number(), computed=True, description=limit),
                Attribute("max_custom_domains", Number(), computed=True, description=limit),
            ],
        )

    def read(self, ctx: iface.ReadDataContext, config: dict) -> dict | None:
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return None
        try:
            body = client.get(f"/plans/{config['slug']}/")
        except ApiError as exc:
            report(ctx.diagnostics, f"Reading plan {config['slug']}", exc, path=["slug"])
            return None
        return {
            "slug": body["slug"],
            "id": body["slug"],
            "name": body["name"],
            "description": body["description"],
            "is_available": body["is_available"],
            **body["limits"],
        }
