"""The secret store of the current organization: the one way to read credentials.

``secret_store()`` resolves the organization from the active tenant schema
(set by the request middleware, or by ``schema_context`` in jobs) and refuses
to work in the public schema. The store remembers that schema and checks it on
every call, so a store built for one organization can never read another's
secrets after the connection switched tenants.

Build one store per request or job and ask it for everything you need: with
Infisical, all reads of its lifetime come from one batched list (``cache.py``).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django_tenants.utils import get_public_schema_name

from control_plane.organizations.models import Organization
from tenants.secretstore.backends import Backend, backend_for
from tenants.secretstore.errors import SecretNotFound, SecretStoreMisconfigured, TenantMismatch
from tenants.secretstore.values import SecretValue, validate_name


def current_organization() -> Organization:
    """The organization whose schema is active on the default connection."""
    schema_name = connection.schema_name
    if not schema_name or schema_name == get_public_schema_name():
        raise SecretStoreMisconfigured(
            "Secrets belong to an organization: activate its schema first (no tenant is active)."
        )
    organization = Organization.objects.filter(schema_name=schema_name).first()
    if organization is None:
        raise SecretStoreMisconfigured(f"No organization owns the schema {schema_name}.")
    return organization


class SecretStore:
    def __init__(self, organization: Organization, backend: Backend | None = None):
        self.organization = organization
        self.schema_name = organization.schema_name
        self.backend = backend or backend_for(organization)

    def __repr__(self) -> str:
        return f"<SecretStore {self.schema_name} backend={self.backend.kind}>"

    def _guard(self) -> None:
        if connection.schema_name != self.schema_name:
            raise TenantMismatch(
                f"The secret store of {self.schema_name} was used while "
                f"{connection.schema_name} was active."
            )

    # reads ---------------------------------------------------------------------------

    def get(self, name: str, *, fresh: bool = False) -> SecretValue:
        """The secret called ``name``; raises ``SecretNotFound``.

        ``fresh`` skips the batch and asks the backend for this value alone:
        only for a value that another process may have just changed.
        """
        value = self.get_optional(name, fresh=fresh)
        if value is None:
            raise SecretNotFound(name, self.schema_name)
        return value

    def get_optional(self, name: str, *, fresh: bool = False) -> SecretValue | None:
        validate_name(name)
        self._guard()
        return self.backend.get(name, fresh=fresh)

    def get_many(self, names: list[str]) -> dict[str, SecretValue]:
        """The named secrets that exist (missing names are left out), in one round trip."""
        for name in names:
            validate_name(name)
        self._guard()
        return self.backend.get_many(list(names))

    def list_names(self) -> list[str]:
        self._guard()
        return self.backend.names()

    # writes (services, audited) ------------------------------------------------------------

    def put(self, name: str, value: str | bytes | SecretValue, *, actor: Any) -> bool:
        from tenants.secretstore.services.secrets import secret_put

        self._guard()
        return secret_put(name, value, actor=actor)

    def delete(self, name: str, *, actor: Any) -> bool:
        from tenants.secretstore.services.secrets import secret_delete

        self._guard()
        return secret_delete(name, actor=actor)


def secret_store() -> SecretStore:
    """The store of the organization whose schema is active."""
    return SecretStore(current_organization())
