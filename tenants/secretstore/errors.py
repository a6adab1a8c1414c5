"""Errors of the secret store; none of them ever carries a secret value.

They name the operation and the organization (schema), so the caller can say
what failed, and keep Infisical's own status and message where there is one.
"""

from __future__ import annotations

from control_plane.errors import ServiceError


class SecretStoreError(ServiceError):
    """The store could not do what was asked (base class)."""

    code = "secret_store_error"


class InvalidSecretName(SecretStoreError):
    code = "invalid_secret_name"


class SecretNotFound(SecretStoreError):
    code = "secret_not_found"

    def __init__(self, name: str, schema_name: str):
        super().__init__(f"No secret named “{name}” in {schema_name}.")
        self.name = name


class SecretStoreUnavailable(SecretStoreError):
    """The backend did not answer (down, slow, 5xx, 429) after the retries allowed."""

    code = "secret_store_unavailable"


class SecretStorePermissionDenied(SecretStoreError):
    """The backend refused our credentials for this organization's project."""

    code = "secret_store_permission_denied"


class SecretStoreMisconfigured(SecretStoreError):
    """Settings or the organization's record do not allow using the store."""

    code = "secret_store_misconfigured"


class SecretDecryptionFailed(SecretStoreError):
    """A stored ciphertext does not open with any configured master key for this tenant."""

    code = "secret_decryption_failed"


class TenantMismatch(SecretStoreError):
    """A store made for one organization was used while another one was active."""

    code = "secret_store_tenant_mismatch"


class MoveVerificationFailed(SecretStoreError):
    """A copied secret did not read back identical; the backend was not switched."""

    code = "secret_move_verification_failed"
