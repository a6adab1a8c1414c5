"""Secret store backends, chosen per organization by ``Organization.secret_backend``.

A backend stores one organization's secrets and knows nothing of tenancy
beyond the schema name (and project id) it was built with; ``store.py``
checks that the active tenant is that organization. Adding a backend is a new
module and one line in ``_FACTORIES``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from control_plane.organizations.models import Organization, SecretBackend
from tenants.secretstore.errors import SecretStoreMisconfigured
from tenants.secretstore.values import SecretValue


class Backend(Protocol):
    kind: str
    schema_name: str

    def get_all(self, *, fresh: bool = False) -> Mapping[str, SecretValue]:
        """Every secret (one round trip); ``fresh`` bypasses any cache."""

    def get(self, name: str, *, fresh: bool = False) -> SecretValue | None:
        """One secret; from the batch unless ``fresh``, which asks the backend for it alone."""

    def get_many(self, names: list[str]) -> dict[str, SecretValue]:
        """The named secrets that exist, in one round trip."""

    def names(self) -> list[str]: ...

    def put(self, name: str, value: SecretValue) -> bool:
        """Create or replace; True if it was created."""

    def delete(self, name: str) -> bool:
        """True if there was such a secret."""


def backend_for(organization: Organization, kind: str | None = None) -> Backend:
    """The organization's backend (or the one named ``kind``, for moves)."""
    from tenants.secretstore.backends.infisical import InfisicalBackend
    from tenants.secretstore.backends.local import LocalBackend

    kind = kind or organization.secret_backend
    if kind == SecretBackend.LOCAL:
        return LocalBackend(organization.schema_name)
    if kind == SecretBackend.INFISICAL:
        return InfisicalBackend(organization.schema_name, organization.infisical_project_id)
    raise SecretStoreMisconfigured(f"Unknown secret backend {kind!r} for {organization.slug}.")
