"""System checks: a bad master key or missing Infisical credentials fail at start-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from tenants.secretstore.errors import SecretStoreMisconfigured


@checks.register()
def check_secret_store(app_configs: Any = None, **kwargs: Any) -> list:
    from tenants.secretstore.crypto import Keyring

    problems: list = []
    try:
        keyring = Keyring.from_settings()
    except SecretStoreMisconfigured as exc:
        problems.append(checks.Error(exc.message, id="secretstore.E001"))
    else:
        ids = [key.key_id for key in keyring.keys]
        if len(set(ids)) != len(ids):
            problems.append(
                checks.Warning(
                    "SECRETS_MASTER_KEYS lists the same key twice.", id="secretstore.W001"
                )
            )
    if settings.SECRET_STORE_BACKEND == "infisical" and not (  # noqa: S105 - a name
        settings.INFISICAL_CLIENT_ID and settings.INFISICAL_CLIENT_SECRET
    ):
        problems.append(
            checks.Error(
                "SECRET_STORE_BACKEND=infisical needs INFISICAL_CLIENT_ID and "
                "INFISICAL_CLIENT_SECRET (a machine identity with Universal Auth).",
                id="secretstore.E002",
            )
        )
    return problems
