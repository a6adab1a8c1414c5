"""The Infisical backend: the organization's own project, read in batches.

Every read goes through one list of the project's environment, cached briefly
per tenant (``cache.py``), so a request or job that needs ten credentials
makes one round trip, not ten. ``fresh=True`` asks Infisical directly.
Writes go straight to Infisical and drop this tenant's cache entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from django.conf import settings

from tenants.secretstore.cache import CacheKey, tenant_secret_cache
from tenants.secretstore.errors import SecretStoreMisconfigured
from tenants.secretstore.infisical_client import InfisicalClient, InfisicalConfig
from tenants.secretstore.values import SecretValue

ROOT_PATH = "/"


class InfisicalBackend:
    kind = "infisical"

    def __init__(self, schema_name: str, project_id: str, config: InfisicalConfig | None = None):
        if not project_id:
            raise SecretStoreMisconfigured(
                f"{schema_name} uses Infisical but has no Infisical project recorded; "
                "re-run its provisioning or secrets_move."
            )
        self.schema_name = schema_name
        self.project_id = project_id
        self.config = config or InfisicalConfig.from_settings()
        self.cache_key = CacheKey(schema_name, project_id, self.config.environment, ROOT_PATH)

    def __repr__(self) -> str:
        return f"<InfisicalBackend {self.schema_name} project={self.project_id}>"

    @cached_property
    def client(self) -> InfisicalClient:
        """Built on first use: a request answered from the cache opens no connection."""
        return InfisicalClient(self.config, schema_name=self.schema_name)

    def get_all(self, *, fresh: bool = False) -> Mapping[str, SecretValue]:
        if not fresh:
            cached = tenant_secret_cache.get(self.cache_key)
            if cached is not None:
                return cached
        values = self.client.list_secrets(self.project_id, ROOT_PATH)
        tenant_secret_cache.set(self.cache_key, values, settings.SECRET_STORE_CACHE_TTL)
        return values

    def get(self, name: str, *, fresh: bool = False) -> SecretValue | None:
        if fresh:
            return self.client.get_secret(self.project_id, name, ROOT_PATH)
        return self.get_all().get(name)

    def get_many(self, names: list[str]) -> dict[str, SecretValue]:
        values = self.get_all()
        return {name: values[name] for name in names if name in values}

    def names(self) -> list[str]:
        return sorted(self.get_all())

    def put(self, name: str, value: SecretValue) -> bool:
        cached = tenant_secret_cache.get(self.cache_key)
        exists = None if cached is None else name in cached
        try:
            return self.client.put_secret(
                self.project_id, name, value, exists=exists, path=ROOT_PATH
            )
        finally:
            tenant_secret_cache.invalidate_schema(self.schema_name)

    def delete(self, name: str) -> bool:
        try:
            return self.client.delete_secret(self.project_id, name, ROOT_PATH)
        finally:
            tenant_secret_cache.invalidate_schema(self.schema_name)
