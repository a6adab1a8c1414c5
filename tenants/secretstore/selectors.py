"""Reads of the current organization's secrets, for callers that need one or two.

A caller that needs several should build one ``secret_store()`` and use
``get_many`` (or several ``get``), which costs one round trip in all.
"""

from __future__ import annotations

from tenants.secretstore.store import secret_store
from tenants.secretstore.values import SecretValue


def secret_get(name: str) -> SecretValue:
    return secret_store().get(name)


def secret_get_optional(name: str) -> SecretValue | None:
    return secret_store().get_optional(name)


def secret_get_many(names: list[str]) -> dict[str, SecretValue]:
    return secret_store().get_many(names)


def secret_list_names() -> list[str]:
    return secret_store().list_names()
