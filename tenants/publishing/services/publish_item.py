"""Publishing one app user's variant to Central: the steps of one run item.

Steps: ``app_user`` (exists in Central, else made; re-made if Central deleted it),
``form`` (created, or a new draft), ``attachments`` (uploaded and confirmed),
``publish``, ``assign``. What the run already learnt from Central (its forms,
app users and form grants, listed once per run) is not asked again per app user.
Any error ends the item ``failed`` at its step with a message; it never escapes
to the run, which goes on with the other app users.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.db import connection, transaction
from django.utils import timezone

from control_plane.errors import ServiceError
from tenants.publishing import credentials
from tenants.publishing.central.client import APP_USER_ROLE
from tenants.publishing.central.errors import CentralConflict, CentralError, CentralNotFound
from tenants.publishing.central.remedies import final_conflict
from tenants.publishing.events import emit
from tenants.publishing.models import AppUser, ItemStatus, PublishRun, PublishRunItem
from tenants.publishing.services.app_user_recreate import app_user_recreate_central
from tenants.publishing.services.app_users import app_user_ensure_central, remote_app_users
from tenants.publishing.services.publish_attachments import LocalFile, attachments_confirm
from tenants.secretstore.store import secret_store

log = structlog.get_logger(__name__)

ALREADY_EXISTS = 409.3  # Central's code for "a resource already exists with ..."

STEP_WORDS = {
    "": "starting",
    "app_user": "making the app user in Central",
    "form": "sending the form to Central",
    "attachments": "uploading the form's files",
    "publish": "publishing the draft",
    "assign": "giving the app user access to the form",
}


class ItemAborted(ServiceError):
    """This app user cannot be published (deleted meanwhile)."""


@dataclass(frozen=True)
class Previous:
    """The last publish of this template to an app user that reached Central, if it succeeded."""

    version: str
    attachments: dict[str, str]  # name -> sha256 Central was confirmed to hold


@dataclass
class PublishContext:
    run: PublishRun
    client: Any
    version: str
    forms: dict[str, dict]  # Central's forms of this template by form id, at run start
    assigned: set[tuple[str, int]]  # (form id, actor id) app-user grants at run start
    remote_users: dict[str, dict] | None  # Central's app users by name (None: not needed)
    attachments: dict[str, LocalFile]  # the template's files by name
    previous: dict[str, Previous] = field(default_factory=dict)  # by app user name

    @property
    def central_project(self) -> int:
        return self.run.template.project.central_project_id

    @property
    def live_ids(self) -> set[int] | None:
        if self.remote_users is None:
            return None
        return {u["id"] for u in self.remote_users.values()}


def publish_context_build(run: PublishRun, client, forms: dict[str, dict]) -> PublishContext:
    """What the run asks Central once: app users (only if one is not known yet) and
    the project's app-user grants (only if a form of this template exists)."""
    template = run.template
    pid = template.project.central_project_id
    app_users = [
        i.app_user
        for i in run.items.exclude(status=ItemStatus.PUBLISHED).select_related("app_user")
        if i.app_user is not None
    ]
    tokens = secret_store().get_many([credentials.app_user_token(a.pk) for a in app_users])
    unknown = any(
        a.central_id is None or credentials.app_user_token(a.pk) not in tokens for a in app_users
    )
    remote_users = remote_app_users(client, pid) if unknown else None
    assigned: set[tuple[str, int]] = set()
    if forms:
        assigned = {
            (a.get("xmlFormId"), a.get("actorId"))
            for a in client.list_project_form_assignments(pid)
        }
    return PublishContext(
        run=run,
        client=client,
        version=run.version.version,
        forms=forms,
        assigned=assigned,
        remote_users=remote_users,
        attachments={
            a.name: LocalFile(a.name, a.file, a.content_type, a.sha256)
            for a in template.attachments.all()
        },
        previous=_previous_publishes(run),
    )


def _previous_publishes(run: PublishRun) -> dict[str, Previous]:
    """Per app user, the last earlier item of this template that reached Central, if it
    was published: its version and the files Central was confirmed to hold."""
    latest = (
        PublishRunItem.objects.filter(run__template_id=run.template_id)
        .exclude(run=run)
        .exclude(step__in=["", "validate", "app_user"])
        .order_by("app_user_name", "-id")
        .distinct("app_user_name")
        .values("app_user_name", "status", "attachments_confirmed", "run__version__version")
    )
    return {
        row["app_user_name"]: Previous(row["run__version__version"], row["attachments_confirmed"])
        for row in latest
        if row["status"] == ItemStatus.PUBLISHED and row["run__version__version"]
    }


@contextmanager
def _progress() -> Iterator[None]:
    """One transaction for a step's row update and its event, committed without waiting
    for the disk (``synchronous_commit off``, this transaction only).

    Progress is most of a run's writes, and a flush per write made the database, not
    Central, the bottleneck of a publish. A database crash can lose the last fraction
    of a second of progress, never leave it inconsistent; a rerun repeats those steps,
    which are idempotent. Final states (published, failed) are committed durably.
    """
    outermost = not connection.in_atomic_block  # never loosen a caller's transaction
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _step(context: PublishContext, item: PublishRunItem, step: str, **changes: object) -> None:
    item.step = step
    with _progress():
        PublishRunItem.objects.filter(pk=item.pk).update(step=step, **changes)
        emit(context.run, item=item, step=step, state="started")


def publish_item(context: PublishContext, item: PublishRunItem, variant) -> str:
    """Publish one variant to Central; returns the item's final status."""
    run = context.run
    started = time.perf_counter()
    try:
        confirmed = _publish(context, item, variant)
    except (CentralError, ServiceError) as exc:
        body = getattr(exc, "body", None)
        return _fail(context, item, _with_remedy(exc), body if isinstance(body, dict) else None)
    except Exception as exc:  # noqa: BLE001 - any failure ends this item, not the run
        log.exception(
            "publish.item_crashed", run=run.pk, app_user=item.app_user_name, step=item.step
        )
        words = STEP_WORDS.get(item.step, item.step)
        return _fail(
            context,
            item,
            f"Unexpected error while {words}: {type(exc).__name__}: {exc}. Retry the failed "
            f"app users; if it happens again, report publish run {run.pk}.",
            None,
        )
    with transaction.atomic():
        PublishRunItem.objects.filter(pk=item.pk).update(
            status=ItemStatus.PUBLISHED,
            error="",
            central_error=None,
            finished_at=timezone.now(),
            step="done",
            attachments_confirmed=confirmed,
        )
        emit(
            run,
            item=item,
            step="done",
            state="published",
            message=f"{variant.form_id} {context.version}",
            data={"form_id": variant.form_id, "ms": round((time.perf_counter() - started) * 1000)},
        )
    return ItemStatus.PUBLISHED


def _publish(context: PublishContext, item: PublishRunItem, variant) -> dict[str, str]:
    client, pid = context.client, context.central_project
    _step(
        context,
        item,
        "app_user",
        status=ItemStatus.RUNNING,
        started_at=timezone.now(),
        attempts=item.attempts + 1,
    )
    if item.app_user is None:
        raise ItemAborted("The app user was deleted.", code="app_user_deleted")
    actor_id = _ensure_app_user(context, item)
    _step(context, item, "form")
    form = context.forms.get(variant.form_id)
    # A form that was never published reports its draft's version: only a
    # published form with our version means this step already happened.
    live = form is not None and form.get("publishedAt") and form.get("version") == context.version
    confirmed: dict[str, str] = {}
    if not live:
        if form is None:
            try:
                client.create_form(pid, variant.xform_xml)
            except CentralConflict as exc:
                if exc.code != ALREADY_EXISTS:
                    raise
                # Made by an attempt that died before it could record it: draft over it.
                client.create_draft(pid, variant.form_id, variant.xform_xml)
        else:
            client.create_draft(pid, variant.form_id, variant.xform_xml)
        _step(context, item, "attachments")
        confirmed = _attachments(context, item, variant, form)
        _step(context, item, "publish")
        try:
            client.publish_draft(pid, variant.form_id, context.version)
        except CentralConflict:
            current = client.get_form(pid, variant.form_id) or {}
            if current.get("publishedAt") is None or current.get("version") != context.version:
                raise
    _step(context, item, "assign")
    _assign(context, item, variant.form_id, actor_id)
    return confirmed


def _ensure_app_user(context: PublishContext, item: PublishRunItem) -> int:
    app_user: AppUser = item.app_user  # type: ignore[assignment]
    stored = app_user.central_id
    actor_id, _ = app_user_ensure_central(
        app_user, context.client, remote_users=context.remote_users
    )
    live = context.live_ids
    if stored is not None and actor_id == stored and live is not None and stored not in live:
        # The run's list of Central's app users does not have it: deleted there.
        again = app_user_recreate_central(
            app_user, context.client, checked=True, run_id=context.run.pk
        )
        if again is not None:
            _recreated(context, item, stored, again[0])
            return again[0]
    _queue_qr_refresh(app_user)
    return actor_id


def _assign(context: PublishContext, item: PublishRunItem, form_id: str, actor_id: int) -> None:
    if (form_id, actor_id) in context.assigned:
        return
    client, pid = context.client, context.central_project
    try:
        client.assign_form(pid, form_id, APP_USER_ROLE, actor_id)
    except CentralNotFound:
        # Either the form or the app user is gone; only the app user can be mended here.
        again = app_user_recreate_central(item.app_user, client, run_id=context.run.pk)
        if again is None:
            raise
        _recreated(context, item, actor_id, again[0])
        client.assign_form(pid, form_id, APP_USER_ROLE, again[0])


def _recreated(context: PublishContext, item: PublishRunItem, old: int, new: int) -> None:
    emit(
        context.run,
        item=item,
        step="app_user",
        state="recreated",
        message=(
            f"{item.app_user_name} had been deleted in Central; it was created again. Its "
            "QR code is being redrawn: devices set up with the old one must scan the new one."
        ),
        data={"old_central_id": old, "central_id": new},
    )


def _attachments(context: PublishContext, item: PublishRunItem, variant, form) -> dict[str, str]:
    missing = [n for n in variant.attachments if n not in context.attachments]
    if missing:
        emit(
            context.run,
            item=item,
            step="attachments",
            state="warning",
            message="No file uploaded for: " + ", ".join(missing),
        )
    files = [context.attachments[n] for n in variant.attachments if n in context.attachments]
    if not files:
        return {}
    return attachments_confirm(
        context.client,
        context.central_project,
        variant.form_id,
        files,
        trusted=_carried_forward(context, item, form),
    )


def _carried_forward(context: PublishContext, item: PublishRunItem, form) -> dict[str, str]:
    """Files the new draft inherits from the version our last publish confirmed.

    Only when that publish was the last to reach this form (so no half-made draft of
    ours lies under the new one), Central still serves its version, and this is the
    item's first attempt in this run.
    """
    previous = context.previous.get(item.app_user_name)
    if previous is None or item.attempts or form is None:
        return {}
    if not form.get("publishedAt") or form.get("version") != previous.version:
        return {}
    return previous.attachments


def _queue_qr_refresh(app_user: AppUser) -> None:
    """The QR code is CPU work the publish does not wait for: a job redraws it
    if the app user's inputs changed (a new Central token, typically)."""
    if app_user.qr_inputs_sha256 and app_user.central_id:
        return
    from tenants.publishing.tasks import sync_app_user

    sync_app_user.defer(schema_name=connection.schema_name, app_user_id=app_user.pk)


def _with_remedy(exc: Exception) -> str:
    message = getattr(exc, "message", str(exc))
    remedy = final_conflict(getattr(exc, "code", None))
    return f"{message} — What to change: {remedy[1]}" if remedy else message


def _fail(context: PublishContext, item: PublishRunItem, message: str, body: dict | None) -> str:
    with transaction.atomic():
        PublishRunItem.objects.filter(pk=item.pk).update(
            status=ItemStatus.FAILED,
            step=item.step,
            error=message[:4000],
            central_error=body,
            finished_at=timezone.now(),
        )
        emit(
            context.run,
            item=item,
            step=item.step,
            state="failed",
            message=message,
            data={"central": body},
        )
    return ItemStatus.FAILED
