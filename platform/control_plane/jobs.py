"""What every background job does around its work.

Jobs run in worker threads with database connections that a previous job may
have left on another organization's ``search_path``; each job starts from the
public schema, binds its log context, and closes stale connections after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import close_old_connections, connection

from control_plane.logging_setup import bind_context, clear_context


@contextmanager
def job_context(**context: Any) -> Iterator[None]:
    close_old_connections()
    connection.set_schema_to_public()
    clear_context()
    bind_context(**context)
    try:
        yield
    finally:
        connection.set_schema_to_public()
        clear_context()
        close_old_connections()


def defer_once(task: Any, queueing_lock: str, **kwargs: Any) -> bool:
    """Queue ``task`` unless a job with the same queueing lock is already waiting.

    Runs in a savepoint: the refused insert must not abort the caller's
    transaction. Returns True if a job was queued.
    """
    from django.db import transaction
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        with transaction.atomic():
            task.configure(queueing_lock=queueing_lock).defer(**kwargs)
    except AlreadyEnqueued:
        return False
    return True


class TenantUnavailable(Exception):
    """The job's organization is gone, suspended or archived: the job does nothing."""


@contextmanager
def tenant_job(schema_name: str, **context: Any) -> Iterator[Any]:
    """Run a job inside one organization's schema, named by the job's arguments.

    Every tenant job carries its schema name; nothing relies on the
    connection's leftover ``search_path``. Suspended or archived organizations
    get no work done on their behalf.
    """
    from control_plane.organizations.models import Organization, OrganizationStatus

    with job_context(tenant=schema_name, **context):
        organization = Organization.objects.filter(schema_name=schema_name).first()
        if organization is None or organization.status != OrganizationStatus.ACTIVE:
            raise TenantUnavailable(f"{schema_name} is not active; job skipped.")
        connection.set_tenant(organization)
        yield organization
