"""Infisical, as the secret store sees it: one client per organization and use.

Secrets go through ``infisicalsdk`` (``/api/v3/secrets/raw``); projects and
environments, which the SDK does not cover, through Infisical's REST API
(``/api/v1/projects``) on the SDK's own authenticated session. The platform
logs in with one machine identity (Universal Auth, from the environment); an
organization is reached only through the project id recorded on it.

Errors: network trouble, timeouts, 429 and 5xx are retried with backoff for
reads, updates, deletes and login (``INFISICAL_READ_RETRIES``), never for
creates (a lost answer could hide a create that happened); what is left
becomes a ``SecretStoreError`` naming the operation and the organization,
with Infisical's own message and request id.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
import structlog
from infisical_sdk.infisical_requests import APIError, InfisicalError

from control_plane.outbound import OutboundRefused
from tenants.secretstore.errors import (
    SecretStoreError,
    SecretStorePermissionDenied,
    SecretStoreUnavailable,
)
from tenants.secretstore.infisical_transport import (
    InfisicalConfig,
    SDKClient,
    decode_value,
    describe_error,
    encode_value,
    error_message,
    forget_tokens,
    network_reason,
    tokens,
    tokens_lock,
)
from tenants.secretstore.values import SecretValue, infisical_key_to_name, name_to_infisical_key

__all__ = ["InfisicalClient", "InfisicalConfig", "forget_tokens"]

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass
class _Refused:
    """An error status the caller said it handles itself (404 on get, 400 on create...)."""

    status: int
    message: str


# --- the client --------------------------------------------------------------------


class InfisicalClient:
    """Talks to Infisical for one organization (``schema_name`` is for messages only)."""

    def __init__(self, config: InfisicalConfig, *, schema_name: str):
        self.config = config
        self.schema_name = schema_name
        self._sdk = SDKClient(config.url, config.timeout)
        # A changed client secret must log in again, hence its digest in the key.
        digest = hashlib.sha256(config.client_secret.encode()).hexdigest()
        self._token_key = (config.url, config.client_id, digest)

    def __repr__(self) -> str:
        return f"<InfisicalClient {self.config.url} for {self.schema_name}>"

    def close(self) -> None:
        self._sdk.api.session.close()

    # authentication ------------------------------------------------------------------

    def _ensure_token(self) -> None:
        now = time.monotonic()
        with tokens_lock:
            cached = tokens.get(self._token_key)
        if cached and cached[1] > now:
            self._sdk.set_token(str(cached[0].reveal()))
            return
        try:
            login = self._sdk.auth.universal_auth.login(
                client_id=self.config.client_id, client_secret=self.config.client_secret
            )
        except APIError as exc:
            raise SecretStorePermissionDenied(
                f"Infisical refused the platform's machine identity (universal-auth login): "
                f"{describe_error(exc)}"
            ) from None
        lifetime = max(10.0, float(login.expiresIn or 0) * 0.9)
        with tokens_lock:
            tokens[self._token_key] = (SecretValue(login.accessToken), now + lifetime)

    def _forget_token(self) -> None:
        with tokens_lock:
            tokens.pop(self._token_key, None)

    # one call, with error mapping and retries ------------------------------------------

    def _call(
        self,
        operation: str,
        fn: Callable[[], T],
        *,
        retry: bool,
        handled: tuple[int, ...] = (),
    ) -> T | _Refused:
        attempts = 1 + (self.config.read_retries if retry else 0)
        attempt = 0
        reauthenticated = False
        while True:
            attempt += 1
            try:
                self._ensure_token()
                return fn()
            except APIError as exc:
                status = exc.status_code
                if status == 401 and not reauthenticated:
                    # The cached token expired or was revoked: log in again once.
                    reauthenticated = True
                    attempt -= 1
                    self._forget_token()
                    continue
                if status in handled:
                    return _Refused(status, error_message(exc))
                if (status == 429 or status >= 500) and attempt < attempts:
                    self._pause(operation, attempt, f"HTTP {status}")
                    continue
                raise self._api_error(operation, exc) from None
            except (requests.RequestException, InfisicalError, OSError) as exc:
                if attempt < attempts and not isinstance(exc, OutboundRefused):
                    self._pause(operation, attempt, type(exc).__name__)
                    continue
                raise SecretStoreUnavailable(
                    f"Infisical is unavailable while {operation} for {self.schema_name}: "
                    f"{network_reason(exc, self.config.timeout)} "
                    f"({attempt} attempt{'s' if attempt > 1 else ''})."
                ) from None

    def _pause(self, operation: str, attempt: int, reason: str) -> None:
        delay = self.config.backoff * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
        log.warning(
            "secrets.infisical_retry",
            operation=operation,
            attempt=attempt,
            reason=reason,
            delay=round(delay, 3),
        )
        time.sleep(delay)

    def _api_error(self, operation: str, exc: APIError) -> SecretStoreError:
        text = f"Infisical refused {operation} for {self.schema_name}: {describe_error(exc)}"
        if exc.status_code in (401, 403):
            return SecretStorePermissionDenied(text)
        if exc.status_code == 429 or exc.status_code >= 500:
            return SecretStoreUnavailable(text)
        return SecretStoreError(text)

    # secrets (infisicalsdk) ------------------------------------------------------------

    def list_secrets(self, project_id: str, path: str = "/") -> dict[str, SecretValue]:
        """Every secret of the environment in one round trip."""
        result = self._call(
            "listing secrets",
            lambda: self._sdk.secrets.list_secrets(
                environment_slug=self.config.environment,
                secret_path=path,
                project_id=project_id,
                expand_secret_references=False,
                view_secret_value=True,
                recursive=False,
                include_imports=False,
            ),
            retry=True,
        )
        result = _answered(result)
        values: dict[str, SecretValue] = {}
        for secret in result.secrets:
            name = infisical_key_to_name(secret.secretKey)
            if name is not None:
                values[name] = decode_value(secret.secretValue, secret.secretComment)
        return values

    def get_secret(self, project_id: str, name: str, path: str = "/") -> SecretValue | None:
        """One secret, one round trip (no cache); None if there is none."""
        result = self._call(
            f"reading secret “{name}”",
            lambda: self._sdk.secrets.get_secret_by_name(
                secret_name=name_to_infisical_key(name),
                environment_slug=self.config.environment,
                secret_path=path,
                project_id=project_id,
                expand_secret_references=False,
                include_imports=False,
                view_secret_value=True,
            ),
            retry=True,
            handled=(404,),
        )
        if isinstance(result, _Refused):
            return None
        return decode_value(result.secretValue, result.secretComment)

    def put_secret(
        self,
        project_id: str,
        name: str,
        value: SecretValue,
        *,
        exists: bool | None,
        path: str = "/",
    ) -> bool:
        """Create or update; returns True if created. ``exists`` is a hint from the cache.

        Creates are never retried (a lost answer could hide a create that
        happened; the next put finds it and updates instead).
        """
        key = name_to_infisical_key(name)
        text, comment = encode_value(value)
        common = {
            "secret_path": path,
            "environment_slug": self.config.environment,
            "project_id": project_id,
            "secret_value": text,
            "secret_comment": comment,
        }

        def create() -> Any:
            return self._sdk.secrets.create_secret_by_name(secret_name=key, **common)

        def update() -> Any:
            return self._sdk.secrets.update_secret_by_name(current_secret_name=key, **common)

        if exists is not True:
            created = self._call(f"creating secret “{name}”", create, retry=False, handled=(400,))
            if not isinstance(created, _Refused):
                return True
            if "exist" not in created.message.lower():
                raise SecretStoreError(
                    f"Infisical refused creating secret “{name}” for {self.schema_name}: "
                    f"{created.message} (HTTP 400)"
                )
        updated = self._call(f"updating secret “{name}”", update, retry=True, handled=(404,))
        if isinstance(updated, _Refused):  # deleted meanwhile (or the hint was stale)
            self._call(f"creating secret “{name}”", create, retry=False)
            return True
        return False

    def delete_secret(self, project_id: str, name: str, path: str = "/") -> bool:
        result = self._call(
            f"deleting secret “{name}”",
            lambda: self._sdk.secrets.delete_secret_by_name(
                secret_name=name_to_infisical_key(name),
                secret_path=path,
                environment_slug=self.config.environment,
                project_id=project_id,
            ),
            retry=True,
            handled=(404,),
        )
        return not isinstance(result, _Refused)

    # projects and environments (REST) ------------------------------------------------------

    def get_project(self, project_id: str) -> dict | None:
        result = self._call(
            f"reading project {project_id}",
            lambda: self._sdk.api.get(f"/api/v1/projects/{project_id}", model=dict).data,
            retry=True,
            handled=(404,),
        )
        return None if isinstance(result, _Refused) else result["project"]

    def get_project_by_slug(self, slug: str) -> dict | None:
        result = self._call(
            f"looking up project {slug}",
            lambda: self._sdk.api.get(f"/api/v1/projects/slug/{slug}", model=dict).data,
            retry=True,
            handled=(404,),
        )
        return None if isinstance(result, _Refused) else result

    def create_project(self, *, name: str, slug: str, description: str) -> dict:
        body = {
            "projectName": name,
            "slug": slug,
            "projectDescription": description,
            "type": "secret-manager",
        }
        result = self._call(
            f"creating project {slug}",
            lambda: self._sdk.api.post("/api/v1/projects", model=dict, json=body).data,
            retry=False,
        )
        return _answered(result)["project"]

    def create_environment(self, project_id: str, *, name: str, slug: str) -> dict:
        body = {"name": name, "slug": slug}
        result = self._call(
            f"creating environment {slug} in project {project_id}",
            lambda: (
                self._sdk.api.post(
                    f"/api/v1/projects/{project_id}/environments", model=dict, json=body
                ).data
            ),
            retry=False,
        )
        return _answered(result)["environment"]

    def delete_project(self, project_id: str) -> bool:
        """Delete the project; False if it was already gone (so purges can be re-run)."""
        result = self._call(
            f"deleting project {project_id}",
            lambda: self._sdk.api.delete(f"/api/v1/projects/{project_id}", model=dict).data,
            retry=True,
            handled=(404,),
        )
        return not isinstance(result, _Refused)


def _answered(result: T | _Refused) -> T:
    """``_call`` with no ``handled`` statuses never returns a refusal."""
    if isinstance(result, _Refused):
        raise RuntimeError(f"Unexpected unhandled refusal: HTTP {result.status}")
    return result
