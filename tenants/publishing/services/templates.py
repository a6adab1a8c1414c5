"""Form templates: their source (Google Sheet or upload), attachments and app users."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from control_plane.errors import Conflict, InvalidState
from control_plane.storage import tenant_path
from tenants.audit.services import audit_record
from tenants.publishing.google import sheet_id_from_url
from tenants.publishing.models import (
    ACTIVE_RUN_STATUSES,
    FORM_ID_BASE,
    AppUser,
    FormTemplate,
    FormTemplateAppUser,
    FormTemplateAttachment,
    Project,
    SourceKind,
)
from tenants.publishing.rendering import TemplateError, load_source

MAX_SOURCE_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024


def _schema() -> str:
    from django.db import connection

    return connection.schema_name


def store_source(template_id: int, data: bytes) -> tuple[str, str]:
    """Keep a source workbook under its hash (immutable); returns (storage name, sha256)."""
    sha = hashlib.sha256(data).hexdigest()
    name = tenant_path(f"templates/{template_id}/sources/{sha}.xlsx")
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return name, sha


def check_source(data: bytes) -> None:
    """Refuse an upload that is not a readable XLSForm, with sheet/row/reason."""
    if len(data) > MAX_SOURCE_BYTES:
        raise ValidationError({"source": "The workbook is larger than 10 MB."})
    try:
        load_source(data)
    except TemplateError as exc:
        raise ValidationError(
            {"source": [str(issue) for issue in exc.issues] or [str(exc)]}
        ) from exc


def check_active(template: FormTemplate) -> None:
    """Archived templates are read-only until an admin restores them."""
    if template.archived_at is not None:
        raise InvalidState(
            "This template is archived; an admin can restore it.", code="template_archived"
        )


def _check_fields(form_id_base: str, source_kind: str, google_sheet_url: str) -> None:
    errors: dict[str, list[str]] = {}
    try:
        FORM_ID_BASE(form_id_base)
    except ValidationError as exc:
        errors["form_id_base"] = exc.messages
    if source_kind not in SourceKind.values:
        errors["source_kind"] = ["Choose a Google Sheet or an uploaded .xlsx."]
    if source_kind == SourceKind.GOOGLE_SHEET:
        try:
            sheet_id_from_url(google_sheet_url)
        except Exception as exc:  # GoogleError
            errors["google_sheet_url"] = [getattr(exc, "message", str(exc))]
    if errors:
        raise ValidationError(errors)


def template_create(
    *,
    actor: Any,
    project: Project,
    title_base: str,
    form_id_base: str,
    source_kind: str,
    google_sheet_url: str = "",
    source: bytes | None = None,
    app_user_ids: list[int] | None = None,
) -> FormTemplate:
    title_base, form_id_base = (title_base or "").strip(), (form_id_base or "").strip()
    if not title_base:
        raise ValidationError({"title_base": "Give the template a title."})
    _check_fields(form_id_base, source_kind, google_sheet_url)
    if source_kind == SourceKind.UPLOAD and source is not None:
        check_source(source)
    try:
        with transaction.atomic():
            template = FormTemplate.objects.create(
                project=project,
                title_base=title_base,
                form_id_base=form_id_base,
                source_kind=source_kind,
                google_sheet_url=google_sheet_url if source_kind == SourceKind.GOOGLE_SHEET else "",
            )
            if source is not None and source_kind == SourceKind.UPLOAD:
                template.source_file, template.source_sha256 = store_source(template.pk, source)
                template.save(update_fields=["source_file", "source_sha256"])
            _set_app_users(template, app_user_ids or [])
            audit_record(
                "publishing.template.created",
                actor=actor,
                target=template,
                data={"form_id_base": form_id_base, "source_kind": source_kind},
            )
    except IntegrityError as exc:
        archived = FormTemplate.all_objects.filter(
            project=project, form_id_base__iexact=form_id_base, archived_at__isnull=False
        ).exists()
        raise Conflict(
            f"An archived template uses form id {form_id_base}; an admin can restore it, "
            "or choose another form id."
            if archived
            else f"A template with form id {form_id_base} already exists in this project.",
            code="template_exists",
            field="form_id_base",
        ) from exc
    return template


def template_update(
    template: FormTemplate,
    *,
    actor: Any,
    title_base: str,
    source_kind: str,
    google_sheet_url: str = "",
) -> FormTemplate:
    """Title and source may change; the form id base may not (it names forms in Central)."""
    check_active(template)
    title_base = (title_base or "").strip() or template.title_base
    _check_fields(template.form_id_base, source_kind, google_sheet_url)
    with transaction.atomic():
        template.title_base, template.source_kind = title_base, source_kind
        template.google_sheet_url = (
            google_sheet_url if source_kind == SourceKind.GOOGLE_SHEET else ""
        )
        template.save()
        audit_record("publishing.template.updated", actor=actor, target=template)
    return template


def template_upload_source(template: FormTemplate, data: bytes, *, actor: Any) -> FormTemplate:
    check_active(template)
    check_source(data)
    with transaction.atomic():
        template.source_file, template.source_sha256 = store_source(template.pk, data)
        template.source_kind = SourceKind.UPLOAD
        template.save(update_fields=["source_file", "source_sha256", "source_kind", "updated_at"])
        audit_record(
            "publishing.template.source_uploaded",
            actor=actor,
            target=template,
            data={"sha256": template.source_sha256, "bytes": len(data)},
        )
    return template


def template_attachment_put(
    template: FormTemplate,
    *,
    actor: Any,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
) -> FormTemplateAttachment:
    check_active(template)
    name = (name or "").strip()
    if not name or "/" in name or name.startswith("."):
        raise ValidationError({"name": "Use the file name the form refers to, e.g. villages.csv."})
    limit = FormTemplateAttachment._meta.get_field("name").max_length
    if len(name) > limit:
        raise ValidationError({"name": f"File names are limited to {limit} characters."})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": "Attachments are limited to 50 MB."})
    sha = hashlib.sha256(data).hexdigest()
    path = tenant_path(f"templates/{template.pk}/attachments/{sha}/{name}")
    if not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(data))
    with transaction.atomic():
        attachment, _ = FormTemplateAttachment.objects.update_or_create(
            template=template,
            name=name,
            defaults={"file": path, "sha256": sha, "content_type": content_type},
        )
        audit_record(
            "publishing.template.attachment_set",
            actor=actor,
            target=template,
            data={"name": name, "sha256": sha},
        )
    return attachment


def _set_app_users(template: FormTemplate, app_user_ids: list[int]) -> list[AppUser]:
    wanted = list(AppUser.objects.filter(project=template.project, pk__in=app_user_ids))
    if len(wanted) != len(set(app_user_ids)):
        raise ValidationError({"app_users": "Choose app users of this template's project."})
    current = set(template.app_users.values_list("pk", flat=True))
    removed = [pk for pk in current if pk not in {a.pk for a in wanted}]
    FormTemplateAppUser.objects.filter(template=template, app_user_id__in=removed).delete()
    FormTemplateAppUser.objects.bulk_create(
        [FormTemplateAppUser(template=template, app_user=a) for a in wanted if a.pk not in current]
    )
    return list(AppUser.objects.filter(pk__in=removed))


def template_set_app_users(
    template: FormTemplate, app_user_ids: list[int], *, actor: Any
) -> FormTemplate:
    """Assign exactly these app users; those removed lose access to the form in Central."""
    check_active(template)
    with transaction.atomic():
        removed = _set_app_users(template, app_user_ids)
        audit_record(
            "publishing.template.app_users_set",
            actor=actor,
            target=template,
            data={"app_users": sorted(app_user_ids), "removed": [a.name for a in removed]},
        )
        if removed:
            from tenants.publishing.tasks import revoke_form_access

            for app_user in removed:
                revoke_form_access.defer(
                    schema_name=_schema(), template_id=template.pk, app_user_id=app_user.pk
                )
    return template


def template_archive(template: FormTemplate, *, actor: Any) -> FormTemplate:
    """What deleting a template does: hide it, keep its versions, files and runs.

    Forms already in Central stay there. Refused while a run is queued or
    running (the row lock serializes this with ``publish_start``); archiving
    an archived template changes nothing.
    """
    with transaction.atomic():
        locked = FormTemplate.all_objects.select_for_update().get(pk=template.pk)
        if locked.archived_at is not None:
            return locked
        if locked.runs.filter(status__in=ACTIVE_RUN_STATUSES).exists():
            raise Conflict(
                "This template is being published; archive it once the run ends.",
                code="publish_in_progress",
            )
        locked.archived_at = timezone.now()
        locked.save(update_fields=["archived_at", "updated_at"])
        audit_record(
            "publishing.template.archived",
            actor=actor,
            target=locked,
            data={"versions": locked.versions.count()},
        )
    template.archived_at, template.updated_at = locked.archived_at, locked.updated_at
    return template


def template_restore(template: FormTemplate, *, actor: Any) -> FormTemplate:
    """Bring an archived template back, with its versions and history (admins)."""
    with transaction.atomic():
        locked = FormTemplate.all_objects.select_for_update().get(pk=template.pk)
        if locked.archived_at is None:
            raise InvalidState("This template is not archived.", code="template_not_archived")
        locked.archived_at = None
        locked.save(update_fields=["archived_at", "updated_at"])
        audit_record("publishing.template.restored", actor=actor, target=locked)
    template.archived_at, template.updated_at = None, locked.updated_at
    return template
