"""Re-encrypting the local backend under the first master key (``secrets_rotate_keys``).

Rotation: put a new key first in ``SECRETS_MASTER_KEYS`` (keep the old ones
after it), deploy, run ``secrets_rotate_keys``, then remove the old keys.
Rows are re-sealed under a row lock, one organization per transaction, and
rows already under the first key are skipped, so the command can be stopped
and run again at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from django.db import transaction
from django_tenants.utils import schema_context

from control_plane.organizations.models import Organization
from tenants.audit.services import audit_record
from tenants.secretstore.crypto import Keyring
from tenants.secretstore.models import SecretRecord

log = structlog.get_logger(__name__)


@dataclass
class RotationReport:
    slug: str
    key_id: str
    rotated: int
    total: int

    def summary(self) -> str:
        return (
            f"{self.slug}: {self.rotated} of {self.total} secrets re-encrypted under key "
            f"{self.key_id}"
        )


def secret_keys_rotate(organization: Organization, *, actor: Any = None) -> RotationReport:
    """Re-encrypt every local secret of ``organization`` not yet under the first master key."""
    keyring = Keyring.from_settings()
    current = keyring.current.key_id
    schema = organization.schema_name
    with schema_context(schema), transaction.atomic():
        total = SecretRecord.objects.count()
        rotated = 0
        for record in SecretRecord.objects.select_for_update().exclude(key_id=current):
            value = keyring.decrypt(schema, record.name, record.ciphertext, record.key_id)
            record.ciphertext, record.key_id = keyring.encrypt(schema, record.name, value)
            record.save(update_fields=["ciphertext", "key_id", "updated_at"])
            rotated += 1
        if rotated:
            audit_record(
                "secrets.keys.rotated", actor=actor, data={"key_id": current, "count": rotated}
            )
    log.info("secrets.keys_rotated", key_id=current, count=rotated)
    return RotationReport(organization.slug, current, rotated, total)
