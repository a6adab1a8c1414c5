"""A small pool of empty, fully migrated schemas for new organizations.

Migrating a fresh schema costs about a second today and grows with every
migration we add; renaming a ready one is a catalogue update. Signup claims
a spare (``ALTER SCHEMA ... RENAME``) and the pool refills in the background.
Spares are listed by ``schemas.all_tenant_schemas`` and so are migrated by
every deploy like any organization.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from control_plane.organizations.models import SpareSchema, SpareSchemaStatus
from control_plane.organizations.services import schemas
from control_plane.organizations.services.locks import advisory_lock

log = structlog.get_logger(__name__)

POOL_LOCK = "spare-pool:fill"
STALE_AFTER = timedelta(minutes=15)


def spare_pool_fill(target: int | None = None) -> list[str]:
    """Create and migrate spares until ``target`` are ready; returns the new names.

    Only one filler runs at a time (others return at once). A spare left
    ``migrating`` by a crash is dropped and replaced.
    """
    target = settings.SPARE_POOL_SIZE if target is None else target
    created: list[str] = []
    with advisory_lock(POOL_LOCK, wait=False) as acquired:
        if not acquired:
            return created
        for stale in SpareSchema.objects.filter(
            status=SpareSchemaStatus.MIGRATING, created_at__lt=timezone.now() - STALE_AFTER
        ):
            schemas.schema_drop(stale.name)
            stale.delete()
        while SpareSchema.objects.count() < target:
            name = f"{settings.SPARE_SCHEMA_PREFIX}{secrets.token_hex(6)}"
            spare = SpareSchema.objects.create(name=name, status=SpareSchemaStatus.MIGRATING)
            schemas.schema_create(name)
            report = schemas.migrate_schemas([name], processes=1)
            if not report.ok:
                log.error("spare_pool.migrate_failed", schema=name, error=report.failed[name])
                schemas.schema_drop(name)
                spare.delete()
                break
            SpareSchema.objects.filter(pk=spare.pk).update(
                status=SpareSchemaStatus.READY, ready_at=timezone.now()
            )
            created.append(name)
            log.info("spare_pool.ready", schema=name)
    return created


def spare_schema_claim(target_schema: str) -> str | None:
    """Rename a ready spare to ``target_schema``; the spare's old name, or None if empty.

    The row lock (``SKIP LOCKED``) and the rename commit together, so two
    organizations can never claim the same spare.
    """
    while True:
        with transaction.atomic():
            spare = (
                SpareSchema.objects.select_for_update(skip_locked=True)
                .filter(status=SpareSchemaStatus.READY)
                .order_by("created_at")
                .first()
            )
            if spare is None:
                return None
            if not schemas.exists(spare.name):
                # Its schema vanished (dropped by hand?): forget it and try the next.
                spare.delete()
                continue
            schemas.schema_rename(spare.name, target_schema)
            spare.delete()
            return spare.name


def spare_pool_status() -> dict[str, int]:
    ready = SpareSchema.objects.filter(status=SpareSchemaStatus.READY).count()
    migrating = SpareSchema.objects.filter(status=SpareSchemaStatus.MIGRATING).count()
    return {"ready": ready, "migrating": migrating, "target": settings.SPARE_POOL_SIZE}
