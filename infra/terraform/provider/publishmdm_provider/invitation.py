"""``publishmdm_invitation``: someone invited to an organization with a role.

Every attribute forces replacement (an invitation is revoked and sent anew).
Destroy revokes an open invitation; an accepted one stays accepted (the person
is a member, which is the organization's own business) and leaves the state
with a warning. An invitation revoked outside Terraform is planned again.
"""

from __future__ import annotations

from typing import Any

from tf import iface
from tf.schema import Attribute, Schema
from tf.types import Number, String
from tf.utils import Diagnostics

from publishmdm_provider.client import ApiError
from publishmdm_provider.common import client_of, report

ROLES = ("owner", "admin", "editor", "viewer")


class InvitationResource(iface.Resource):
    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "invitation"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            version=0,
            description="An invitation to join an organization (an email with a link).",
            attributes=[
                Attribute("id", String(), computed=True, description="`<slug>/<invitation id>`."),
                Attribute(
                    "organization",
                    String(),
                    required=True,
                    requires_replace=True,
                    description="The organization's slug.",
                ),
                Attribute("email", String(), required=True, requires_replace=True),
                Attribute(
                    "role",
                    String(),
                    required=True,
                    requires_replace=True,
                    description="owner, admin, editor or viewer.",
                ),
                Attribute("invitation_id", Number(), computed=True),
                Attribute(
                    "status", String(), computed=True, description="open, accepted or expired."
                ),
                Attribute("expires_at", String(), computed=True),
            ],
        )

    def validate(self, diags: Diagnostics, type_name: str, config: dict) -> None:
        super().validate(diags, type_name, config)
        role = config.get("role")
        if isinstance(role, str) and role not in ROLES:
            diags.add_error("Invalid role", f"Use one of {', '.join(ROLES)}.", path=["role"])
        email = config.get("email")
        if isinstance(email, str) and (email != email.strip() or "@" not in email):
            diags.add_error("Invalid email", f"{email!r} is not an email address.", path=["email"])

    @staticmethod
    def _state(body: dict, previous: dict) -> dict:
        return {
            "id": f"{body['organization']}/{body['id']}",
            "organization": body["organization"],
            # The address as configured (the API keeps its case; Terraform compares exactly).
            "email": previous.get("email") or body["email"],
            "role": body["role"],
            "invitation_id": body["id"],
            "status": body["status"],
            "expires_at": body["expires_at"],
        }

    def _path(self, state: dict) -> str:
        return f"/organizations/{state['organization']}/invitations/"

    def create(self, ctx: iface.CreateContext, planned: dict) -> dict | None:
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return None
        try:
            body = client.post(
                self._path(planned), {"email": planned["email"], "role": planned["role"]}
            )
        except ApiError as exc:
            report(
                ctx.diagnostics, f"Inviting {planned['email']} to {planned['organization']}", exc
            )
            return None
        return self._state(body, planned)

    def read(self, ctx: iface.ReadContext, current: dict) -> dict | None:
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return current
        try:
            body = client.get(f"{self._path(current)}{int(current['invitation_id'])}/")
        except ApiError as exc:
            if exc.status == 404:
                return None
            report(ctx.diagnostics, f"Reading invitation {current['id']}", exc)
            return current
        if body["status"] == "revoked":
            return None  # withdrawn outside Terraform: plan it again
        return self._state(body, current)

    def update(self, ctx: iface.UpdateContext, current: dict, planned: dict) -> dict | None:
        return current  # every argument forces replacement; nothing updates in place

    def delete(self, ctx: iface.DeleteContext, current: dict) -> None:
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return None
        try:
            client.delete(f"{self._path(current)}{int(current['invitation_id'])}/")
        except ApiError as exc:
            if exc.status == 404:
                return None
            if exc.code == "invitation_accepted":
                ctx.diagnostics.add_warning(
                    f"{current['email']} accepted the invitation",
                    "The invitation leaves Terraform's state; the membership stays.",
                )
                return None
            report(ctx.diagnostics, f"Revoking invitation {current['id']}", exc)
        return None

    def import_(self, ctx: iface.ImportContext, id: str) -> dict | None:  # noqa: A002 - tf's name
        """``<slug>/<invitation id>`` or ``<slug>/<email>`` (its open invitation)."""
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return None
        slug, _, key = id.partition("/")
        try:
            if key.isdigit():
                body = client.get(f"/organizations/{slug}/invitations/{key}/")
            else:
                body = self._find_open(client, slug, key)
        except ApiError as exc:
            report(ctx.diagnostics, f"Importing invitation {id}", exc)
            return None
        if body is None:
            ctx.diagnostics.add_error(
                f"No open invitation {id}", "Use <slug>/<invitation id> or <slug>/<email>."
            )
            return None
        return self._state(body, {})

    @staticmethod
    def _find_open(client: Any, slug: str, email: str) -> dict | None:
        path = f"/organizations/{slug}/invitations/?page_size=200"
        while path:
            page = client.get(path)
            for row in page["results"]:
                if row["email"].lower() == email.lower() and row["status"] in ("open", "expired"):
                    return row
            nxt = page.get("next")
            path = nxt[nxt.index("/invitations/") :] if nxt else ""
            path = f"/organizations/{slug}{path}" if path else ""
        return None
