"""``publishmdm_organization``: one organization, created, updated in place, archived on destroy.

Create waits until provisioning is ``active`` (or reports the failed step and
leaves nothing in state, so the next ``apply`` retries: creating is idempotent
on the slug and re-queues a failed provisioning). Destroy archives; an
organization that holds data needs ``confirm_destroy = true`` first.
"""

from __future__ import annotations

import re
import time
from typing import Any

from tf import iface
from tf.schema import Attribute, Schema
from tf.types import Bool, Set, String, Unknown
from tf.utils import Diagnostics

from publishmdm_provider.client import ApiError, Client
from publishmdm_provider.common import client_of, known, report

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
DOMAIN_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
POLL_FIRST, POLL_MAX = 0.1, 2.0
COMPUTED = (
    "id",
    "status",
    "schema_name",
    "primary_domain",
    "url",
    "api_base",
    "secret_backend",
    "infisical_project_id",
)


class OrganizationResource(iface.Resource):
    def __init__(self, provider: Any) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "organization"

    @classmethod
    def get_schema(cls) -> Schema:
        computed = dict(computed=True)
        return Schema(
            version=0,
            description="An organization on Publish MDM (its schema, domains and plan).",
            attributes=[
                Attribute("id", String(), description="The slug.", **computed),
                Attribute(
                    "slug",
                    String(),
                    required=True,
                    requires_replace=True,
                    description="Host name and schema name. Changing it replaces (archives) "
                    "the organization: guard it with `lifecycle { prevent_destroy = true }`.",
                ),
                Attribute("name", String(), required=True),
                Attribute(
                    "plan",
                    String(),
                    optional=True,
                    computed=True,
                    description="Plan slug (see data source `publishmdm_plan`); default `free`.",
                ),
                Attribute(
                    "custom_domains",
                    Set(String()),
                    optional=True,
                    description="Extra host names (lowercase), outside the platform's domain.",
                ),
                Attribute(
                    "confirm_destroy",
                    Bool(),
                    optional=True,
                    description="Must be true (and applied) before destroying an organization "
                    "that holds data (members or content); destroy archives it.",
                ),
                Attribute("status", String(), **computed),
                Attribute("schema_name", String(), **computed),
                Attribute("primary_domain", String(), **computed),
                Attribute("url", String(), **computed),
                Attribute("api_base", String(), **computed),
                Attribute("secret_backend", String(), **computed),
                Attribute("infisical_project_id", String(), **computed),
            ],
        )

    # --- validation ---------------------------------------------------------------

    def validate(self, diags: Diagnostics, type_name: str, config: dict) -> None:
        super().validate(diags, type_name, config)
        slug = config.get("slug")
        if isinstance(slug, str) and (not SLUG_RE.fullmatch(slug) or "--" in slug):
            diags.add_error(
                "Invalid slug",
                "3-40 lowercase letters, digits and single hyphens, starting and ending "
                "with a letter or digit.",
                path=["slug"],
            )
        name = config.get("name")
        if isinstance(name, str) and name != name.strip():
            diags.add_error("Invalid name", "Remove leading and trailing spaces.", path=["name"])
        domains = config.get("custom_domains")
        for domain in domains if isinstance(domains, list) else []:
            if isinstance(domain, str) and not DOMAIN_RE.fullmatch(domain):
                diags.add_error(
                    "Invalid custom domain",
                    f"{domain!r}: write host names in lowercase, without a trailing dot.",
                    path=["custom_domains"],
                )

    # --- state mapping --------------------------------------------------------------

    @staticmethod
    def _state(body: dict, previous: dict) -> dict:
        """The resource state from the API's answer, keeping how the config wrote things.

        ``custom_domains`` null and [] both mean "none": whichever the config (or
        prior state) used is kept, so neither shows as a change.
        """
        domains = sorted(body["custom_domains"])
        if not domains and not previous.get("custom_domains"):
            domains = (
                previous.get("custom_domains") if known(previous.get("custom_domains")) else None
            )
        confirm = previous.get("confirm_destroy")
        return {
            "id": body["slug"],
            "slug": body["slug"],
            "name": body["name"],
            "plan": body["plan"],
            "custom_domains": domains,
            "confirm_destroy": confirm if known(confirm) else None,
            "status": body["status"],
            "schema_name": body["schema_name"],
            "primary_domain": body["primary_domain"],
            "url": body["url"],
            "api_base": body["api_base"],
            "secret_backend": body["secret_backend"],
            "infisical_project_id": body["infisical_project_id"] or "",
        }

    def _wait_active(self, client: Client, slug: str, diags: Diagnostics) -> dict | None:
        """Poll until ``active``; a failure or the timeout is an error naming the step."""
        deadline = time.monotonic() + self.provider.provision_timeout
        delay = POLL_FIRST
        while True:
            body = client.get(f"/organizations/{slug}/")
            if body["status"] in ("active", "suspended"):
                return body
            if body["status"] == "failed":
                diags.add_error(
                    f"Provisioning {slug} failed at step “{body['failed_step']}”",
                    f"{body['failed_error']}\nRun `terraform apply` again to retry provisioning "
                    "(it resumes where it stopped).",
                )
                return None
            if body["status"] == "archived":
                diags.add_error(f"{slug} is archived", "Archived slugs are never reused.")
                return None
            if time.monotonic() > deadline:
                diags.add_error(
                    f"Timed out waiting for {slug} to become active",
                    f"Still {body['status']} after {self.provider.provision_timeout:.0f}s "
                    "(is a job worker running?). Run `terraform apply` again to keep waiting.",
                )
                return None
            time.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX)

    # --- CRUD ---------------------------------------------------------------------------

    def create(self, ctx: iface.CreateContext, planned: dict) -> dict | None:
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return None
        slug = planned["slug"]
        body: dict[str, Any] = {"slug": slug, "name": planned["name"]}
        if known(planned.get("plan")):
            body["plan"] = planned["plan"]
        body["custom_domains"] = sorted(planned.get("custom_domains") or [])
        try:
            created = client.post("/organizations/", body)
            if created["status"] == "failed":  # created earlier, failed: try again
                client.post(f"/organizations/{slug}/provision/")
            active = self._wait_active(client, slug, ctx.diagnostics)
        except ApiError as exc:
            if exc.code == "organization_exists":
                exc.message += (
                    f" If Terraform should manage it, import it: terraform import <address> {slug}"
                )
            report(ctx.diagnostics, f"Creating organization {slug}", exc)
            return None
        return self._state(active, planned) if active else None

    def read(self, ctx: iface.ReadContext, current: dict) -> dict | None:
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return current
        try:
            body = client.get(f"/organizations/{current['slug']}/")
        except ApiError as exc:
            if exc.status == 404:
                return None  # gone: Terraform plans to create it again
            report(ctx.diagnostics, f"Reading organization {current['slug']}", exc)
            return current
        if body["status"] == "archived":
            return None
        return self._state(body, current)

    def update(self, ctx: iface.UpdateContext, current: dict, planned: dict) -> dict | None:
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return current
        changes: dict[str, Any] = {}
        if planned["name"] != current["name"]:
            changes["name"] = planned["name"]
        if known(planned.get("plan")) and planned["plan"] != current.get("plan"):
            changes["plan"] = planned["plan"]
        wanted = sorted(planned.get("custom_domains") or [])
        if wanted != sorted(current.get("custom_domains") or []):
            changes["custom_domains"] = wanted
        slug = current["slug"]
        try:
            if changes:
                body = client.patch(f"/organizations/{slug}/", changes)
            else:  # only confirm_destroy changed: nothing to send
                body = client.get(f"/organizations/{slug}/")
        except ApiError as exc:
            report(ctx.diagnostics, f"Updating organization {slug}", exc)
            return current
        return self._state(body, planned)

    def delete(self, ctx: iface.DeleteContext, current: dict) -> None:
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return None
        slug = current["slug"]
        confirm = (
            bool(current.get("confirm_destroy")) if known(current.get("confirm_destroy")) else False
        )
        try:
            client.post(f"/organizations/{slug}/archive/", {"confirm": confirm})
        except ApiError as exc:
            if exc.status == 404:
                return None
            if exc.code == "confirmation_required":
                ctx.diagnostics.add_error(
                    f"{slug} holds data; destroy refused",
                    f"{exc.message}\nTo archive it anyway, set confirm_destroy = true on this "
                    "resource, run terraform apply, then destroy again.",
                    path=["confirm_destroy"],
                )
                return None
            report(ctx.diagnostics, f"Archiving organization {slug}", exc)
        return None

    def import_(self, ctx: iface.ImportContext, id: str) -> dict | None:  # noqa: A002 - tf's name
        client = client_of(self.provider, ctx.diagnostics)
        if client is None:
            return None
        try:
            body = client.get(f"/organizations/{id}/")
        except ApiError as exc:
            report(ctx.diagnostics, f"Importing organization {id}", exc)
            return None
        if body["status"] == "archived":
            ctx.diagnostics.add_error(
                f"{id} is archived", "Archived organizations cannot be managed."
            )
            return None
        return self._state(body, {"custom_domains": None, "confirm_destroy": None})

    def plan(self, ctx: iface.PlanContext, current: dict | None, planned: dict) -> dict:
        return planned


__all__ = ["OrganizationResource", "COMPUTED", "Unknown"]
