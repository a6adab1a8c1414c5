"""Writing and deleting the current organization's secrets.

Each write takes a ``FOR KEY SHARE`` lock on the organization's row before
looking up its backend: ``secrets_move`` takes ``FOR UPDATE`` on the same row
to switch backends, so a write is either finished before the switch (and the
move copies it) or starts after it (and goes to the new backend). Other
updates of the row (``FOR NO KEY UPDATE``) are not held up.

The Infisical write itself is not transactional: if the caller's transaction
rolls back afterwards, the value stays written but the audit event goes.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.db import connection, transaction

from control_plane.organizations.models import Organization
from tenants.audit.services import audit_record
from tenants.secretstore.backends import backend_for
from tenants.secretstore.store import current_organization
from tenants.secretstore.values import SecretValue, validate_name

log = structlog.get_logger(__name__)


def _lock_organization(organization_id: int) -> Organization:
    table = connection.ops.quote_name(Organization._meta.db_table)
    rows = list(
        Organization.objects.raw(
            f"SELECT * FROM {table} WHERE id = %s FOR KEY SHARE",  # noqa: S608 - quoted model table
            [organization_id],
        )
    )
    return rows[0]


def secret_put(name: str, value: str | bytes | SecretValue, *, actor: Any) -> bool:
    """Create or replace the secret ``name`` of the current organization; True if created."""
    validate_name(name)
    secret = SecretValue(value)
    organization = current_organization()
    with transaction.atomic():
        organization = _lock_organization(organization.pk)
        backend = backend_for(organization)
        created = backend.put(name, secret)
        audit_record(
            "secrets.secret.written",
            actor=actor,
            data={"name": name, "backend": backend.kind, "created": created},
        )
    log.info("secrets.written", name=name, backend=backend.kind, created=created)
    return created


def secret_delete(name: str, *, actor: Any) -> bool:
    """Delete the secret ``name`` of the current organization; False if there was none."""
    validate_name(name)
    organization = current_organization()
    with transaction.atomic():
        organization = _lock_organization(organization.pk)
        backend = backend_for(organization)
        deleted = backend.delete(name)
        if deleted:
            audit_record(
                "secrets.secret.deleted", actor=actor, data={"name": name, "backend": backend.kind}
            )
    log.info("secrets.deleted", name=name, backend=backend.kind, deleted=deleted)
    return deleted
