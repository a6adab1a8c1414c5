"""The pool of ready spare schemas."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from control_plane.organizations.models import SpareSchema, SpareSchemaStatus
from control_plane.organizations.services import schemas
from control_plane.organizations.services.locks import advisory_lock
from control_plane.organizations.services.spare_pool import (
    POOL_LOCK,
    spare_pool_fill,
    spare_pool_status,
)


def test_a_spare_left_migrating_by_a_crash_is_dropped(db):
    stale = SpareSchema.objects.create(name="spare_stale", status=SpareSchemaStatus.MIGRATING)
    SpareSchema.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(hours=1))
    fresh = SpareSchema.objects.create(name="spare_fresh", status=SpareSchemaStatus.MIGRATING)
    schemas.schema_create("spare_stale")
    schemas.schema_create("spare_fresh")

    spare_pool_fill(0)

    assert not schemas.exists("spare_stale")
    assert list(SpareSchema.objects.filter(name__in=["spare_stale", "spare_fresh"])) == [fresh]
    assert schemas.exists("spare_fresh")  # may still be migrating in another worker


def test_only_one_filler_runs_at_a_time(db):
    SpareSchema.objects.all().delete()

    with advisory_lock(POOL_LOCK) as held:
        assert held
        assert spare_pool_fill(3) == []

    assert not SpareSchema.objects.exists()
    assert spare_pool_status()["ready"] == 0


def test_provisioning_queues_one_refill_of_the_pool(new_organization):
    new_organization()
    new_organization(provision=False)

    jobs = ProcrastinateJob.objects.filter(task_name="organizations.fill_spare_pool", status="todo")
    assert jobs.count() == 1
    assert jobs.get().queueing_lock == "spare-pool"
