"""The local backend: AES-GCM ciphertext in the organization's own schema.

The embedded default and the test backend. Rows live in the tenant schema's
``secretstore_secretrecord`` table, so the database itself keeps tenants
apart, and each value is sealed with a key derived for this schema (see
``crypto``), so even a row copied across schemas does not open.
"""

from __future__ import annotations

from django.db import connection

from tenants.secretstore.crypto import Keyring
from tenants.secretstore.errors import TenantMismatch
from tenants.secretstore.models import SecretRecord
from tenants.secretstore.values import SecretValue


class LocalBackend:
    kind = "local"

    def __init__(self, schema_name: str, keyring: Keyring | None = None):
        self.schema_name = schema_name
        self.keyring = keyring or Keyring.from_settings()

    def __repr__(self) -> str:
        return f"<LocalBackend {self.schema_name}>"

    def _records(self):
        # The table is found through search_path: refuse to touch another tenant's.
        if connection.schema_name != self.schema_name:
            raise TenantMismatch(
                f"The local secret store of {self.schema_name} was used while "
                f"{connection.schema_name} was active."
            )
        return SecretRecord.objects.all()

    def _open(self, record: SecretRecord) -> SecretValue:
        return self.keyring.decrypt(self.schema_name, record.name, record.ciphertext, record.key_id)

    def get_all(self, *, fresh: bool = False) -> dict[str, SecretValue]:
        return {record.name: self._open(record) for record in self._records()}

    def get(self, name: str, *, fresh: bool = False) -> SecretValue | None:
        record = self._records().filter(name=name).first()
        return self._open(record) if record else None

    def get_many(self, names: list[str]) -> dict[str, SecretValue]:
        return {
            record.name: self._open(record) for record in self._records().filter(name__in=names)
        }

    def names(self) -> list[str]:
        return list(self._records().order_by("name").values_list("name", flat=True))

    def put(self, name: str, value: SecretValue) -> bool:
        ciphertext, key_id = self.keyring.encrypt(self.schema_name, name, value)
        _, created = self._records().update_or_create(
            name=name, defaults={"ciphertext": ciphertext, "key_id": key_id}
        )
        return created

    def delete(self, name: str) -> bool:
        deleted, _ = self._records().filter(name=name).delete()
        return bool(deleted)
