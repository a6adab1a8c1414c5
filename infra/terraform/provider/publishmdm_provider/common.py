"""Helpers shared by resources: turning API errors into Terraform diagnostics."""

from __future__ import annotations

from typing import Any

from tf.types import Unknown
from tf.utils import Diagnostics

from publishmdm_provider.client import ApiError, Client


def known(value: Any) -> bool:
    return value is not None and value is not Unknown


def client_of(provider: Any, diags: Diagnostics) -> Client | None:
    if provider.client is None:
        diags.add_error("Provider not configured", "Set PUBLISHMDM_TOKEN and PUBLISHMDM_URL.")
    return provider.client


def report(diags: Diagnostics, summary: str, exc: ApiError, path: list[str] | None = None) -> None:
    """One diagnostic per API error, with the field messages as detail."""
    detail = exc.message
    if exc.fields:
        detail += "\n" + "\n".join(f"- {k}: {' '.join(v)}" for k, v in exc.fields.items())
    diags.add_error(f"{summary}: {exc.code}", detail, path=path)
