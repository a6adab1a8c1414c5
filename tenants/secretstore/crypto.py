"""Encryption of the local backend: one key per organization, derived from a master key.

Each organization's key is HKDF-SHA256 over a master key with the schema name
in ``info``, so no key is stored anywhere and one organization's key opens
nothing of another's. Values are sealed with AES-256-GCM and the schema and
secret name as associated data: a ciphertext copied into another tenant's
table, or under another name, fails to open instead of decrypting.

Several master keys may be configured (``SECRETS_MASTER_KEYS``): new writes use
the first, reads find the right one by the key id stored beside each row, and
``secrets_rotate_keys`` re-encrypts everything under the first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tenants.secretstore.errors import SecretDecryptionFailed, SecretStoreMisconfigured
from tenants.secretstore.values import SecretValue

FORMAT_VERSION = b"\x01"
NONCE_BYTES = 12
MIN_KEY_BYTES = 32
_KIND_TEXT = b"s"
_KIND_BINARY = b"b"


def _decode_master_key(encoded: str) -> bytes:
    """A master key is URL-safe base64 of at least 32 random bytes (a Fernet key works)."""
    try:
        raw = base64.urlsafe_b64decode(encoded.strip().encode() + b"=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SecretStoreMisconfigured(
            "A SECRETS_MASTER_KEYS entry is not URL-safe base64."
        ) from exc
    if len(raw) < MIN_KEY_BYTES:
        raise SecretStoreMisconfigured(
            f"A SECRETS_MASTER_KEYS entry decodes to {len(raw)} bytes; at least "
            f"{MIN_KEY_BYTES} are needed."
        )
    return raw


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    material: bytes = field(repr=False)

    @classmethod
    def from_setting(cls, encoded: str) -> MasterKey:
        material = _decode_master_key(encoded)
        digest = hashlib.sha256(b"publishmdm/secretstore/key-id\x00" + material).hexdigest()
        return cls(key_id=digest[:16], material=material)

    def tenant_key(self, schema_name: str) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"publishmdm/secretstore/v1\x00" + schema_name.encode(),
        ).derive(self.material)


@dataclass(frozen=True)
class Keyring:
    keys: tuple[MasterKey, ...]

    @classmethod
    def from_settings(cls) -> Keyring:
        from django.conf import settings

        entries = [entry for entry in settings.SECRETS_MASTER_KEYS if entry.strip()]
        if not entries:
            raise SecretStoreMisconfigured("SECRETS_MASTER_KEYS is empty.")
        return cls(tuple(MasterKey.from_setting(entry) for entry in entries))

    @property
    def current(self) -> MasterKey:
        return self.keys[0]

    def find(self, key_id: str) -> MasterKey | None:
        return next((key for key in self.keys if key.key_id == key_id), None)

    def encrypt(self, schema_name: str, name: str, value: SecretValue) -> tuple[bytes, str]:
        """Seal ``value`` for (tenant, name) under the current key; returns (ciphertext, key id)."""
        key = self.current
        kind = _KIND_BINARY if value.is_binary else _KIND_TEXT
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key.tenant_key(schema_name)).encrypt(
            nonce, kind + value.reveal_bytes(), _associated_data(schema_name, name)
        )
        return FORMAT_VERSION + nonce + sealed, key.key_id

    def decrypt(self, schema_name: str, name: str, ciphertext: bytes, key_id: str) -> SecretValue:
        key = self.find(key_id)
        if key is None:
            raise SecretDecryptionFailed(
                f"The secret “{name}” of {schema_name} was written with master key {key_id}, "
                "which is not in SECRETS_MASTER_KEYS."
            )
        blob = bytes(ciphertext)
        if blob[:1] != FORMAT_VERSION:
            raise SecretDecryptionFailed(f"The secret “{name}” of {schema_name} is not readable.")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            plain = AESGCM(key.tenant_key(schema_name)).decrypt(
                nonce, sealed, _associated_data(schema_name, name)
            )
        except InvalidTag as exc:
            raise SecretDecryptionFailed(
                f"The secret “{name}” does not open with {schema_name}'s key {key_id}: it was "
                "altered, or written for another organization or name."
            ) from exc
        kind, payload = plain[:1], plain[1:]
        return SecretValue(payload if kind == _KIND_BINARY else payload.decode())


def _associated_data(schema_name: str, name: str) -> bytes:
    return b"publishmdm/secretstore\x00" + schema_name.encode() + b"\x00" + name.encode()
