"""Executing a publish run: download, render, validate, store, then publish concurrently.

The job is safe to run again at any point (a retry, or after a worker died):
- the version and its artifacts are created once per run and reused after;
- app users already ``published`` are skipped;
- every Central step checks before it creates (app user, form, assignment)
  and a 409 for a version Central already has counts as done.
No database transaction is held open across a remote call.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import structlog
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from control_plane.errors import ServiceError
from control_plane.storage import tenant_path
from tenants.publishing import credentials
from tenants.publishing.central.errors import CentralConflict, CentralError
from tenants.publishing.events import emit, organization_notice
from tenants.publishing.google import GoogleError, export_sheet_xlsx, refresh_access_token
from tenants.publishing.models import (
    ACTIVE_RUN_STATUSES,
    AppUser,
    FormTemplate,
    FormTemplateVersion,
    FormVariant,
    ItemStatus,
    PublishRun,
    PublishRunItem,
    RunStatus,
    SourceKind,
)
from tenants.publishing.rendering import TemplateError, VariantSpec, load_source, render_all
from tenants.publishing.services.app_users import (
    app_user_ensure_central,
    remote_app_users,
)
from tenants.publishing.services.clients import central_client_for
from tenants.publishing.services.templates import store_source
from tenants.publishing.services.variables import values_for_app_users
from tenants.secretstore.store import secret_store

log = structlog.get_logger(__name__)


class RunAborted(ServiceError):
    """The run cannot publish anything (bad source, invalid form, Google refused)."""


@dataclass
class PreparedVariant:
    app_user_name: str
    form_id: str
    xform_xml: bytes
    attachments: list[str]
    warnings: list[str] = field(default_factory=list)


# --- source ---------------------------------------------------------------------------


def download_source(template: FormTemplate, run: PublishRun) -> bytes:
    if template.source_kind == SourceKind.UPLOAD:
        if not template.source_file or not default_storage.exists(template.source_file):
            raise RunAborted("The template has no uploaded .xlsx.", code="no_source")
        with default_storage.open(template.source_file, "rb") as handle:
            return handle.read()
    if run.requested_by_id is None:
        raise RunAborted(
            "A Google Sheet is read with the requesting person's Google account.",
            code="google_not_connected",
        )
    refresh = secret_store().get_optional(credentials.google_refresh_token(run.requested_by_id))
    if refresh is None:
        raise RunAborted(
            "Connect your Google account (Sign in with Google) to publish from a Google Sheet.",
            code="google_not_connected",
        )
    access = refresh_access_token(refresh.reveal())
    return export_sheet_xlsx(template.google_sheet_url, access_token=access)


# --- versions --------------------------------------------------------------------------


def _version_number(version: str, day: str) -> int:
    prefix = f"{day}-v"
    if version and version.startswith(prefix) and version[len(prefix) :].isdigit():
        return int(version[len(prefix) :])
    return 0


def next_version(
    template: FormTemplate, central_versions: list[str], today: date | None = None
) -> str:
    """``YYYY-MM-DD-vN``: N after this template's own versions of the day and the
    versions Central holds for exactly the form ids this template owns."""
    day = (today or timezone.now().date()).isoformat()
    own = template.versions.filter(version__startswith=f"{day}-v").values_list("version", flat=True)
    highest = max([_version_number(v, day) for v in [*own, *central_versions]], default=0)
    return f"{day}-v{highest + 1}"


def _specs(template: FormTemplate, items: list[PublishRunItem], version: str) -> list[VariantSpec]:
    app_users = [i.app_user for i in items if i.app_user is not None]
    values = values_for_app_users(template.project, app_users)
    return [
        VariantSpec(
            app_user=a.name,
            title_base=template.title_base,
            form_id_base=template.form_id_base,
            version=version,
            variables=values[a.pk],
        )
        for a in app_users
    ]


def _render(template, items, version, source) -> tuple[list, list]:
    validated, issues = render_all(source, _specs(template, items, version))
    return validated, issues


def prepare_version(run: PublishRun, client) -> dict[str, PreparedVariant]:
    """Render and validate every variant, then store the version (once per run)."""
    template = run.template
    items = list(run.items.select_related("app_user"))
    emit(run, step="download", state="started", message="Reading the template's source")
    try:
        source_bytes = download_source(template, run)
        source = load_source(source_bytes)
    except GoogleError as exc:
        raise RunAborted(exc.message, code=exc.code) from exc
    except TemplateError as exc:
        _abort_with_issues(run, items, exc.issues)
        raise RunAborted("The template could not be read.", code="template_invalid") from exc
    emit(run, step="download", state="done", data={"bytes": len(source_bytes)})
    day = timezone.now().date()
    version = next_version(template, [], day)
    emit(run, step="validate", state="started", message=f"Rendering {len(items)} variants")
    validated, issues = _render(template, items, version, source)
    if issues:
        _abort_with_issues(run, items, issues)
        raise RunAborted(
            "The form has errors; nothing was sent to Central.", code="validation_failed"
        )
    emit(
        run,
        step="validate",
        state="done",
        data={"warnings": sum(len(v.warnings) for v in validated)},
    )
    # Only now talk to Central: versions of exactly the forms this template owns.
    form_ids = {v.form_id for v in validated}
    central_versions = [
        f.get("version") or ""
        for f in client.list_forms(template.project.central_project_id)
        if f.get("xmlFormId") in form_ids
    ]
    final = next_version(template, central_versions, day)
    if final != version:
        validated, issues = _render(template, items, final, source)
        if issues:  # pragma: no cover - same form, other version string
            _abort_with_issues(run, items, issues)
            raise RunAborted("The form has errors.", code="validation_failed")
    return _store_version(run, final, source_bytes, validated)


def _store_version(
    run: PublishRun, version: str, source_bytes: bytes, validated
) -> dict[str, PreparedVariant]:
    template = run.template
    source_name, source_sha = store_source(template.pk, source_bytes)
    rows = []
    for variant in validated:
        folder = f"templates/{template.pk}/versions/{version}"
        workbook = variant.rendered.xlsx()
        workbook_name = default_storage.save(
            tenant_path(f"{folder}/{variant.form_id}.xlsx"), ContentFile(workbook)
        )
        xform_name = default_storage.save(
            tenant_path(f"{folder}/{variant.form_id}.xml"), ContentFile(variant.xform_xml)
        )
        rows.append((variant, workbook_name, hashlib.sha256(workbook).hexdigest(), xform_name))
    app_users = {a.name: a for a in AppUser.objects.filter(project=template.project)}
    with transaction.atomic():
        stored = FormTemplateVersion.objects.create(
            template=template,
            version=version,
            source_file=source_name,
            source_sha256=source_sha,
            published_by_id=run.requested_by_id,
            published_by_label=run.requested_by_label,
            app_user_names=sorted(v.rendered.app_user for v, *_ in rows),
        )
        FormVariant.objects.bulk_create(
            [
                FormVariant(
                    version=stored,
                    app_user=app_users.get(v.rendered.app_user),
                    app_user_name=v.rendered.app_user,
                    form_id=v.form_id,
                    workbook_file=wb,
                    workbook_sha256=wb_sha,
                    xform_file=xf,
                    xform_sha256=hashlib.sha256(v.xform_xml).hexdigest(),
                    attachments=list(v.rendered.attachments),
                    warnings=list(v.warnings),
                )
                for v, wb, wb_sha, xf in rows
            ]
        )
        PublishRun.objects.filter(pk=run.pk).update(version=stored)
        run.version = stored
    emit(
        run,
        step="version",
        state="done",
        message=f"Version {version} stored",
        data={"version": version},
    )
    return {
        v.rendered.app_user: PreparedVariant(
            v.rendered.app_user,
            v.form_id,
            v.xform_xml,
            list(v.rendered.attachments),
            list(v.warnings),
        )
        for v, *_ in rows
    }


def load_stored_version(run: PublishRun) -> dict[str, PreparedVariant]:
    prepared = {}
    for variant in run.version.variants.all():
        with default_storage.open(variant.xform_file, "rb") as handle:
            xml = handle.read()
        prepared[variant.app_user_name] = PreparedVariant(
            variant.app_user_name,
            variant.form_id,
            xml,
            list(variant.attachments),
            list(variant.warnings),
        )
    return prepared


def _abort_with_issues(run: PublishRun, items: list[PublishRunItem], issues) -> None:
    by_user: dict[str, list[dict]] = {}
    records = []
    for issue in issues:
        record = {
            "app_user": issue.app_user,
            "sheet": issue.sheet,
            "row": issue.row,
            "column": getattr(issue, "column", None),
            "message": issue.message,
        }
        records.append(record)
        by_user.setdefault(issue.app_user or "", []).append(record)
    PublishRun.objects.filter(pk=run.pk).update(issues=records)
    for item in items:
        mine = by_user.get(item.app_user_name, []) + by_user.get("", [])
        status = ItemStatus.FAILED if mine else ItemStatus.SKIPPED
        text = "; ".join(_issue_text(r) for r in mine) or "Not published: other variants failed."
        PublishRunItem.objects.filter(pk=item.pk).update(status=status, error=text, step="validate")
        emit(run, item=item, step="validate", state=status, message=text, data={"issues": mine})


def _issue_text(record: dict) -> str:
    # No sheet: the workbook as a whole (unreadable, or too large when unpacked).
    where = (record["sheet"] or "") + (f" row {record['row']}" if record.get("row") else "")
    return f"{where.strip()}: {record['message']}" if where else record["message"]


# --- publishing one app user ---------------------------------------------------------------


@dataclass
class PublishContext:
    run: PublishRun
    client: object
    role_id: int
    version: str
    remote_users: dict[str, dict]
    attachments: dict[str, tuple[str, str]]  # name → (storage name, content type)


def _step(context: PublishContext, item: PublishRunItem, step: str) -> None:
    PublishRunItem.objects.filter(pk=item.pk).update(step=step)
    emit(context.run, item=item, step=step, state="started")


def publish_item(context: PublishContext, item: PublishRunItem, variant: PreparedVariant) -> str:
    """Publish one variant to Central; returns the item's final status."""
    client, run = context.client, context.run
    project = run.template.project
    central_project = project.central_project_id
    PublishRunItem.objects.filter(pk=item.pk).update(
        status=ItemStatus.RUNNING, started_at=timezone.now(), attempts=item.attempts + 1
    )
    started = time.perf_counter()
    try:
        if item.app_user is None:
            raise RunAborted("The app user was deleted.", code="app_user_deleted")
        _step(context, item, "app_user")
        actor_id, _ = app_user_ensure_central(
            item.app_user, client, remote_users=context.remote_users
        )
        _queue_qr_refresh(item.app_user)
        _step(context, item, "form")
        form = client.get_form(central_project, variant.form_id)
        # A form that was never published reports its draft's version: only a
        # published form with our version means this step already happened.
        already_live = (
            form is not None
            and form.get("publishedAt") is not None
            and form.get("version") == context.version
        )
        if form is None:
            client.create_form(central_project, variant.xform_xml)
        elif not already_live:
            client.create_draft(central_project, variant.form_id, variant.xform_xml)
        if not already_live:
            _step(context, item, "attachments")
            missing = _upload_attachments(context, central_project, variant)
            if missing:
                emit(
                    run,
                    item=item,
                    step="attachments",
                    state="warning",
                    message="No file uploaded for: " + ", ".join(missing),
                )
            _step(context, item, "publish")
            try:
                client.publish_draft(central_project, variant.form_id, context.version)
            except CentralConflict:
                current = client.get_form(central_project, variant.form_id) or {}
                if current.get("publishedAt") is None or current.get("version") != context.version:
                    raise
        _step(context, item, "assign")
        assigned = client.list_form_assignments(central_project, variant.form_id, context.role_id)
        if not any(a.get("id") == actor_id for a in assigned):
            client.assign_form(central_project, variant.form_id, context.role_id, actor_id)
    except (CentralError, ServiceError) as exc:
        body = getattr(exc, "body", None)
        PublishRunItem.objects.filter(pk=item.pk).update(
            status=ItemStatus.FAILED,
            error=exc.message[:4000],
            central_error=body if isinstance(body, dict) else None,
            finished_at=timezone.now(),
        )
        emit(
            run,
            item=item,
            step=PublishRunItem.objects.get(pk=item.pk).step,
            state="failed",
            message=exc.message,
            data={"central": body if isinstance(body, dict) else None},
        )
        return ItemStatus.FAILED
    PublishRunItem.objects.filter(pk=item.pk).update(
        status=ItemStatus.PUBLISHED,
        error="",
        central_error=None,
        finished_at=timezone.now(),
        step="done",
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


def _queue_qr_refresh(app_user: AppUser) -> None:
    """The QR code is CPU work the publish does not wait for: a job redraws it
    if the app user's inputs changed (a new Central token, typically)."""
    if app_user.qr_inputs_sha256 and app_user.central_id:
        return
    from tenants.publishing.tasks import sync_app_user

    sync_app_user.defer(schema_name=connection.schema_name, app_user_id=app_user.pk)


def _upload_attachments(
    context: PublishContext, central_project: int, variant: PreparedVariant
) -> list[str]:
    missing = []
    for name in variant.attachments:
        found = context.attachments.get(name)
        if found is None:
            missing.append(name)
            continue
        storage_name, content_type = found
        with default_storage.open(storage_name, "rb") as handle:
            context.client.upload_draft_attachment(
                central_project, variant.form_id, name, handle.read(), content_type
            )
    return missing


def _in_tenant_thread(organization, function, *args):
    """Run ``function`` in a pool thread on its own connection, in the run's tenant."""
    connection.set_tenant(organization)
    try:
        return function(*args)
    finally:
        connection.close()


# --- the run ---------------------------------------------------------------------------------


def publish_run_execute(run_id: int, *, pool_size: int | None = None) -> PublishRun:
    run = PublishRun.objects.select_related("template__project__server", "version").get(pk=run_id)
    if run.status not in ACTIVE_RUN_STATUSES:
        return run
    PublishRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    emit(run, step="run", state="started", data={"attempt": run.attempt})
    organization_notice("run.started", {"run": run.pk, "template": run.template_id})
    pool_size = pool_size or settings.PUBLISH_POOL_SIZE
    try:
        client = central_client_for(run.template.project.server, max_concurrency=pool_size)
        prepared = load_stored_version(run) if run.version_id else prepare_version(run, client)
        role_id = client.app_user_role_id()
        remote_users = remote_app_users(client, run.template.project.central_project_id)
    except RunAborted as exc:
        return _finish(run, forced=RunStatus.FAILED, error=exc.message, code=exc.code)
    except CentralError as exc:
        return _finish(run, forced=RunStatus.FAILED, error=exc.message, code="central_error")
    template = run.template
    context = PublishContext(
        run=run,
        client=client,
        role_id=role_id,
        version=run.version.version,
        remote_users=remote_users,
        attachments={a.name: (a.file, a.content_type) for a in template.attachments.all()},
    )
    items = list(run.items.exclude(status=ItemStatus.PUBLISHED).select_related("app_user__project"))
    organization = connection.tenant
    with ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="publish") as pool:
        futures = [
            pool.submit(
                _in_tenant_thread,
                organization,
                publish_item,
                context,
                item,
                prepared[item.app_user_name],
            )
            for item in items
            if item.app_user_name in prepared
        ]
        for future in futures:
            future.result()
    return _finish(run)


def _finish(
    run: PublishRun, *, forced: str | None = None, error: str = "", code: str = ""
) -> PublishRun:
    statuses = list(run.items.values_list("status", flat=True))
    if forced:
        run.items.filter(status__in=[ItemStatus.PENDING, ItemStatus.RUNNING]).update(
            status=ItemStatus.SKIPPED, error=error
        )
        status = forced
    elif all(s == ItemStatus.PUBLISHED for s in statuses):
        status = RunStatus.SUCCEEDED
    elif any(s == ItemStatus.PUBLISHED for s in statuses):
        status = RunStatus.PARTIALLY_FAILED
    else:
        status = RunStatus.FAILED
    PublishRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), error=error[:4000], error_code=code
    )
    run.refresh_from_db()
    from tenants.publishing.services.publish import run_summary

    summary = run_summary(run)
    emit(run, step="run", state=status, message=error, data={"summary": summary})
    organization_notice(
        "run.finished",
        {"run": run.pk, "template": run.template_id, "status": status, "summary": summary},
    )
    log.info("publish.run_finished", run=run.pk, status=status, **summary)
    return run
