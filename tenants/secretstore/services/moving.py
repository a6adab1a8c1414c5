"""Moving an organization's secrets between backends (local ⇄ Infisical).

1. Copy every secret the target lacks or holds differently (no lock: writes
   go on, to the source).
2. Lock the organization's row ``FOR UPDATE`` (waits for writes in flight,
   which hold ``FOR KEY SHARE``), copy what changed meanwhile, read the target
   back *fresh* and compare every value with the source, and only then switch
   ``secret_backend``, all in one transaction.
3. Delete from the source the copies the target holds identically (unless
   ``keep_source``).

The source is untouched until the switch, and copies are idempotent upserts,
so an interruption at any point loses nothing and running the move again
finishes it: a re-run after the switch only does step 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.db import transaction
from django_tenants.utils import schema_context

from control_plane.errors import InvalidState
from control_plane.organizations.models import Organization, SecretBackend
from control_plane.organizations.services.platform_audit import platform_audit_record
from tenants.audit.services import audit_record
from tenants.secretstore.backends import Backend, backend_for
from tenants.secretstore.cache import tenant_secret_cache
from tenants.secretstore.errors import MoveVerificationFailed
from tenants.secretstore.services.provisioning import infisical_project_ensure
from tenants.secretstore.values import SecretValue

log = structlog.get_logger(__name__)


@dataclass
class MoveReport:
    slug: str
    source: str
    target: str
    copied: int = 0
    verified: int = 0
    switched: bool = False
    cleaned: int = 0
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.switched:
            head = f"{self.slug}: already on {self.target}"
        else:
            head = (
                f"{self.slug}: {self.source} → {self.target}, {self.copied} copied, "
                f"{self.verified} verified"
            )
        tail = f", {self.cleaned} removed from {self.source}"
        if self.kept:
            tail += f", {len(self.kept)} differing left in {self.source}: {', '.join(self.kept)}"
        return head + tail


def _copy_missing(values: Mapping[str, SecretValue], target: Backend) -> int:
    present = target.get_all(fresh=True)
    copied = 0
    for name, value in sorted(values.items()):
        if present.get(name) != value:
            target.put(name, value)
            copied += 1
    return copied


def _clean_source(
    source: Backend, target_values: Mapping[str, SecretValue]
) -> tuple[int, list[str]]:
    """Delete source copies that the target holds identically; list the ones that differ."""
    cleaned, kept = 0, []
    for name, value in sorted(source.get_all(fresh=True).items()):
        if target_values.get(name) == value:
            source.delete(name)
            cleaned += 1
        else:
            kept.append(name)
    return cleaned, kept


def secret_backend_move(
    organization: Organization, *, to: str, actor: Any, keep_source: bool = False
) -> MoveReport:
    """Move every secret of ``organization`` to the backend ``to`` and switch to it."""
    if to not in SecretBackend.values:
        raise InvalidState(f"Unknown secret backend {to!r}.")
    organization = Organization.objects.get(pk=organization.pk)
    if to == SecretBackend.INFISICAL:
        infisical_project_ensure(organization)
        organization.refresh_from_db()
    source_kind = organization.secret_backend
    other_kind = SecretBackend.LOCAL if to == SecretBackend.INFISICAL else SecretBackend.INFISICAL
    report = MoveReport(
        organization.slug, source=source_kind if source_kind != to else other_kind, target=to
    )
    with schema_context(organization.schema_name):
        target = backend_for(organization, to)
        if source_kind == to:
            # Already switched (perhaps by an interrupted run): finish the clean-up.
            if not keep_source and (
                other_kind == SecretBackend.LOCAL or organization.infisical_project_id
            ):
                leftovers = backend_for(organization, other_kind)
                report.cleaned, report.kept = _clean_source(leftovers, target.get_all(fresh=True))
            return report
        source = backend_for(organization, source_kind)
        report.copied = _copy_missing(source.get_all(fresh=True), target)

        with transaction.atomic():
            locked = Organization.objects.select_for_update().get(pk=organization.pk)
            if locked.secret_backend != source_kind:
                raise InvalidState(f"{organization.slug} changed backend during the move.")
            latest = source.get_all(fresh=True)
            report.copied += _copy_missing(latest, target)
            copied = target.get_all(fresh=True)
            for name in sorted(set(copied) - set(latest)):
                target.delete(name)  # deleted from the source since an earlier attempt
            for name, value in sorted(latest.items()):
                if copied.get(name) != value:
                    raise MoveVerificationFailed(
                        f"“{name}” did not read back identical from {to}; {organization.slug} "
                        f"stays on {source_kind}. Run the move again."
                    )
                report.verified += 1
            locked.secret_backend = to
            locked.save(update_fields=["secret_backend", "updated_at"])
            data = {"from": source_kind, "to": to, "count": report.verified}
            audit_record("secrets.backend.moved", actor=actor, data=data)
            platform_audit_record(
                "organization.secret_backend_moved", organization=locked, actor=actor, data=data
            )
            report.switched = True
        tenant_secret_cache.invalidate_schema(organization.schema_name)
        log.info("secrets.backend_moved", source=source_kind, target=to, count=report.verified)
        if not keep_source:
            report.cleaned, report.kept = _clean_source(source, latest)
    return report
