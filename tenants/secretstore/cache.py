"""A brief in-process cache of one organization's Infisical secrets.

Reads list the whole environment once and answer every ``get`` of the
request or job from that list, instead of one round trip per value. Entries
are keyed by schema name *and* Infisical project id (and environment and
path), so nothing is ever shared between organizations, live for
``SECRET_STORE_CACHE_TTL`` seconds, and are dropped by every write of this
process; other processes see a write at the latest when their entry expires.

This is our own cache, not the SDK's (which we turn off: it starts a thread
per client and would be keyed by project only).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tenants.secretstore.values import SecretValue


@dataclass(frozen=True)
class CacheKey:
    schema_name: str
    project_id: str
    environment: str
    path: str


class TenantSecretCache:
    def __init__(self) -> None:
        self._entries: dict[CacheKey, tuple[float, Mapping[str, SecretValue]]] = {}
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> Mapping[str, SecretValue] | None:
        """The cached secrets (a read-only view), or None if absent or expired."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires_at, values = entry
            if expires_at <= now:
                del self._entries[key]
                return None
            return values

    def set(self, key: CacheKey, values: Mapping[str, SecretValue], ttl: float) -> None:
        if ttl <= 0:
            return
        now = time.monotonic()
        with self._lock:
            for stale in [k for k, (expires, _) in self._entries.items() if expires <= now]:
                del self._entries[stale]
            self._entries[key] = (now + ttl, MappingProxyType(dict(values)))

    def invalidate_schema(self, schema_name: str) -> None:
        """Drop every entry of one organization (after a write, a move, a purge)."""
        with self._lock:
            for key in [k for k in self._entries if k.schema_name == schema_name]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __repr__(self) -> str:
        return f"<TenantSecretCache entries={len(self._entries)}>"


tenant_secret_cache = TenantSecretCache()
