"""Executing a publish run: download, render, validate, store, then publish concurrently.

The job is safe to run again at any point (a retry, or after a worker died):
- the version and its artifacts are created once per run and reused after;
- app users already ``published`` are skipped;
- every Central step checks before it creates (app user, form, assignment)
  and a 409 for a version Central already has counts as done;
- whatever fails, the run ends ``succeeded``, ``partially_failed`` or ``failed``
  with a final event and a message, never stays ``running``.
What Central is asked once per run (its forms of this template, its app users,
the project's form grants) is not asked again per app user: see ``publish_item``.
No database transaction is held open across a remote call.
"""

from __future__ import annotations

import hashlib
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
from tenants.publishing.central.errors import CentralError
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
from tenants.publishing.rendering import (
    TemplateError,
    VariantSpec,
    load_source,
    render_all,
    template_variables,
)
from tenants.publishing.services.clients import central_client_for
from tenants.publishing.services.publish_finish import publish_run_finish
from tenants.publishing.services.publish_item import publish_context_build, publish_item
from tenants.publishing.services.templates import store_source
from tenants.publishing.services.variables import template_values_for_app_users
from tenants.publishing.services.versions import ArtifactUnavailable, version_source
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
    if run.rollback_of_id is not None:
        # A rollback publishes the stored source of an old version, never Google's sheet.
        try:
            return version_source(run.rollback_of)
        except ArtifactUnavailable as exc:
            raise RunAborted(exc.message, code=exc.code) from exc
    if template.source_kind == SourceKind.UPLOAD:
        if not template.source_file or not default_storage.exists(template.source_file):
            raise RunAborted("The template has no uploaded .xlsx.", code="no_source")
        with default_storage.open(template.source_file, "rb") as handle:
            return handle.read()
    # A retry reads with the retrying person's Google connection, never the requester's.
    reader_id = run.retried_by_id if run.attempt > 1 else run.requested_by_id
    if reader_id is None:
        raise RunAborted(
            "A Google Sheet is read with the Google account of the person who publishes "
            "(or retries); this one was started without a person.",
            code="google_not_connected",
        )
    refresh = secret_store().get_optional(credentials.google_refresh_token(reader_id))
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


def _specs(
    template: FormTemplate, items: list[PublishRunItem], version: str, source
) -> list[VariantSpec]:
    app_users = [i.app_user for i in items if i.app_user is not None]
    values, _ = template_values_for_app_users(
        template.project, app_users, template_variables(source)
    )
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
    validated, issues = render_all(source, _specs(template, items, version, source))
    return validated, issues


def _report_value_gaps(run: PublishRun, items: list[PublishRunItem], source) -> None:
    """Say once per run which variables the template uses that some app users lack."""
    app_users = [i.app_user for i in items if i.app_user is not None]
    _, gaps = template_values_for_app_users(
        run.template.project, app_users, template_variables(source)
    )
    if not gaps:
        return
    parts = []
    for name, names in gaps.items():
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        parts.append(f"{name} (no value for {shown})")
    emit(
        run,
        step="validate",
        state="warning",
        message=(
            "The template uses variables some app users have no value for: "
            + "; ".join(parts)
            + ". Their forms keep the template's own calculation for these rows; set the "
            "values (for the project or the app users) and publish again to fill them."
        ),
        data={"missing_values": gaps},
    )


def template_forms(client, template: FormTemplate, form_ids: set[str]) -> dict[str, dict]:
    """Central's forms among ``form_ids`` (one list request), by form id."""
    return {
        f["xmlFormId"]: f
        for f in client.list_forms(template.project.central_project_id)
        if f.get("xmlFormId") in form_ids
    }


def prepare_version(run: PublishRun, client) -> tuple[dict[str, PreparedVariant], dict[str, dict]]:
    """Render and validate every variant, then store the version (once per run).

    Returns the variants by app user name and Central's forms of this template."""
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
    _report_value_gaps(run, items, source)
    # Only now talk to Central: versions of exactly the forms this template owns.
    central_forms = template_forms(client, template, {v.form_id for v in validated})
    central_versions = [f.get("version") or "" for f in central_forms.values()]
    final = next_version(template, central_versions, day)
    if final != version:
        validated, issues = _render(template, items, final, source)
        if issues:  # pragma: no cover - same form, other version string
            _abort_with_issues(run, items, issues)
            raise RunAborted("The form has errors.", code="validation_failed")
    return _store_version(run, final, source_bytes, validated), central_forms


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
            rollback_of_id=run.rollback_of_id,
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


# --- the run ---------------------------------------------------------------------------------


def _in_tenant_thread(organization, function, *args):
    """Run ``function`` in a pool thread on its own connection, in the run's tenant."""
    connection.set_tenant(organization)
    try:
        return function(*args)
    finally:
        connection.close()


def publish_run_execute(run_id: int, *, pool_size: int | None = None) -> PublishRun:
    """Do (or finish) one run. Whatever goes wrong, the run ends with a final state,
    event and message; unexpected errors are logged with their traceback."""
    run = PublishRun.objects.select_related("template__project__server", "version").get(pk=run_id)
    if run.status not in ACTIVE_RUN_STATUSES:
        return run
    PublishRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    emit(run, step="run", state="started", data={"attempt": run.attempt})
    organization_notice("run.started", {"run": run.pk, "template": run.template_id})
    pool_size = pool_size or settings.PUBLISH_POOL_SIZE
    stage = "connect"
    try:
        client = central_client_for(run.template.project.server, max_concurrency=pool_size)
        stage = "prepare"
        if run.version_id:
            prepared = load_stored_version(run)
            forms = template_forms(client, run.template, {p.form_id for p in prepared.values()})
        else:
            prepared, forms = prepare_version(run, client)
        stage = "central"
        context = publish_context_build(run, client, forms)
    except RunAborted as exc:
        return publish_run_finish(run, forced=RunStatus.FAILED, error=exc.message, code=exc.code)
    except CentralError as exc:
        return publish_run_finish(
            run, forced=RunStatus.FAILED, error=exc.message, code="central_error"
        )
    except ServiceError as exc:
        return publish_run_finish(run, forced=RunStatus.FAILED, error=exc.message, code=exc.code)
    except Exception as exc:  # noqa: BLE001 - the run must end, whatever happened
        log.exception("publish.run_crashed", run=run.pk, stage=stage)
        return publish_run_finish(
            run, forced=RunStatus.FAILED, error=_unexpected(run, stage, exc), code="internal_error"
        )
    items = list(run.items.exclude(status=ItemStatus.PUBLISHED).select_related("app_user__project"))
    organization = connection.tenant
    try:
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
    except Exception as exc:  # noqa: BLE001
        log.exception("publish.run_crashed", run=run.pk, stage="items")
        return publish_run_finish(run, interrupted=True, error=_unexpected(run, "items", exc))
    return publish_run_finish(run)


_STAGE_WORDS = {
    "connect": "connecting to Central",
    "prepare": "reading, checking and storing the form",
    "central": "reading the project's forms and app users in Central",
    "items": "publishing to the app users",
}


def _unexpected(run: PublishRun, stage: str, exc: Exception) -> str:
    return (
        f"Publishing stopped while {_STAGE_WORDS.get(stage, stage)}: unexpected "
        f"{type(exc).__name__}: {exc}. Retry; if it happens again, report publish run "
        f"{run.pk} (the worker's log has the details)."
    )[:4000]
