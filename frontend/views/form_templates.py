"""Form templates of the current project: list, add, edit, detail with versions, downloads,
archive and restore, compare two versions, roll back to one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from control_plane.errors import ServiceError
from frontend.current import current_project
from frontend.forms import AttachmentForm, TemplateForm, apply_errors
from frontend.google_auth import google_connected, google_enabled, picker_enabled
from frontend.listing import listing
from frontend.permissions import ADMIN, EDITOR, role_required
from frontend.views.common import confirm_page, confirmed, stored_file
from tenants.publishing.models import (
    ACTIVE_RUN_STATUSES,
    AppUser,
    FormTemplate,
    FormTemplateAttachment,
    FormTemplateVersion,
    FormVariant,
    PublishRun,
    SourceKind,
)
from tenants.publishing.services.template_check import (
    TemplateCheckFailed,
    stored_source,
    template_check_or_refuse,
)
from tenants.publishing.services.templates import (
    template_archive,
    template_attachment_put,
    template_create,
    template_restore,
    template_set_app_users,
    template_update,
    template_upload_source,
)
from tenants.publishing.services.versions import version_diff, version_rollback


def _template(pk: int, *, archived: bool = False) -> FormTemplate:
    """A template of this organization; archived ones only where ``archived`` allows it
    (reading: detail, versions, downloads; restoring)."""
    manager = FormTemplate.all_objects if archived else FormTemplate.objects
    return get_object_or_404(manager.select_related("project__server"), pk=pk)


def form_templates(request):
    project = current_project(request)
    context = {"project": project}
    if project is not None:
        versions = FormTemplateVersion.objects.filter(template=OuterRef("pk")).order_by(
            "-created_at", "-id"
        )
        runs = PublishRun.objects.filter(template=OuterRef("pk")).order_by("-created_at", "-id")
        archived = request.GET.get("archived") == "1"
        context["archived"] = archived
        context["archived_count"] = FormTemplate.all_objects.filter(
            project=project, archived_at__isnull=False
        ).count()
        queryset = FormTemplate.all_objects.filter(
            project=project, archived_at__isnull=not archived
        ).annotate(
            latest_version=Subquery(versions.values("version")[:1]),
            latest_version_at=Subquery(versions.values("created_at")[:1]),
            latest_run_id=Subquery(runs.values("pk")[:1]),
            latest_run_status=Subquery(runs.values("status")[:1]),
            n_app_users=Count("app_users", distinct=True),
        )
        context["list"] = listing(
            request,
            queryset,
            search=("title_base", "form_id_base"),
            sorts={
                "title": ("Title", "title_base"),
                "updated": ("Updated", "updated_at"),
                "published": ("Last published", "latest_version_at"),
            },
            default_sort="title",
        )
    return render(request, "frontend/templates.html", context)


def _form(request, project, template: FormTemplate | None):
    initial = None
    if template is not None:
        initial = {
            "title_base": template.title_base,
            "source_kind": template.source_kind,
            "google_sheet_url": template.google_sheet_url,
            "app_users": list(template.app_users.values_list("pk", flat=True)),
        }
    return TemplateForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        app_users=AppUser.objects.filter(project=project).order_by("name"),
        editing=template is not None,
        google=google_enabled()
        or (template is not None and template.source_kind == SourceKind.GOOGLE_SHEET),
    )


def _form_context(request, form, project, template=None) -> dict:
    return {
        "form": form,
        "project": project,
        "template": template,
        "google_connected": google_connected(request.user),
        "google_option": SourceKind.GOOGLE_SHEET in dict(form.fields["source_kind"].choices),
        "picker": picker_enabled(),
    }


@role_required(EDITOR)
def template_new(request):
    project = current_project(request)
    if project is None:
        messages.info(request, "Create or import a project first: templates belong to one.")
        return redirect("/projects/")
    form = _form(request, project, None)
    issues = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.get("source")
        if data["source_kind"] == SourceKind.UPLOAD and upload is None:
            form.add_error("source", "Choose the .xlsx file of your form.")
        else:
            source = upload.read() if upload else None
            try:
                if data["source_kind"] == SourceKind.UPLOAD:
                    # Checked as a publish would, before anything is saved.
                    template_check_or_refuse(
                        project=project,
                        source=source,
                        title_base=data["title_base"],
                        form_id_base=data["form_id_base"],
                        app_users=data["app_users"],
                    )
                template = template_create(
                    actor=request.user,
                    project=project,
                    title_base=data["title_base"],
                    form_id_base=data["form_id_base"],
                    source_kind=data["source_kind"],
                    google_sheet_url=data.get("google_sheet_url") or "",
                    source=source,
                    app_user_ids=[a.pk for a in data["app_users"]],
                )
            except TemplateCheckFailed as exc:
                issues = exc.issues
                apply_errors(form, exc)
            except (ValidationError, ServiceError) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Template “{template.title_base}” added.")
                return redirect(f"/templates/{template.pk}/")
    return render(
        request,
        "frontend/template_form.html",
        {**_form_context(request, form, project), "issues": issues},
    )


@role_required(EDITOR)
def template_edit(request, pk: int):
    template = _template(pk)
    form = _form(request, template.project, template)
    issues = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.get("source")
        wanted = sorted(a.pk for a in data["app_users"])
        source = upload.read() if upload is not None else None
        try:
            if data["source_kind"] == SourceKind.UPLOAD:
                checked = source if source is not None else stored_source(template)
                if checked is not None:
                    template_check_or_refuse(
                        project=template.project,
                        source=checked,
                        title_base=data["title_base"],
                        form_id_base=template.form_id_base,
                        app_users=data["app_users"],
                    )
            with transaction.atomic():
                template_update(
                    template,
                    actor=request.user,
                    title_base=data["title_base"],
                    source_kind=data["source_kind"],
                    google_sheet_url=data.get("google_sheet_url") or "",
                )
                if source is not None:
                    template_upload_source(template, source, actor=request.user)
                if wanted != sorted(template.app_users.values_list("pk", flat=True)):
                    template_set_app_users(template, wanted, actor=request.user)
        except TemplateCheckFailed as exc:
            issues = exc.issues
            apply_errors(form, exc)
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Template “{template.title_base}” saved.")
            return redirect(f"/templates/{template.pk}/")
    return render(
        request,
        "frontend/template_form.html",
        {**_form_context(request, form, template.project, template), "issues": issues},
    )


def template_detail(request, pk: int):
    template = _template(pk, archived=True)
    versions = list(
        template.versions.select_related("rollback_of").prefetch_related(
            Prefetch("variants", queryset=FormVariant.objects.order_by("app_user_name"))
        )[:21]
    )
    for newer, older in zip(versions, versions[1:], strict=False):
        newer.previous = older  # "changes" links compare each version with the one before
    return render(
        request,
        "frontend/template_detail.html",
        {
            "template": template,
            "app_users": template.app_users.order_by("name"),
            "versions": versions[:20],
            "version_count": template.versions.count(),
            "attachments": template.attachments.order_by("name"),
            "runs": template.runs.order_by("-created_at", "-id")[:5],
            "active_run": template.runs.filter(status__in=ACTIVE_RUN_STATUSES).first(),
            "attachment_form": AttachmentForm(),
            "google_connected": google_connected(request.user),
        },
    )


@require_POST
@role_required(EDITOR)
def template_delete_view(request, pk: int):
    template = _template(pk)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Delete the template “{template.title_base}”?",
            message="It leaves the list of templates; its versions, downloads and publish "
            "history are kept, and an admin can restore it. The forms already published "
            "stay in Central.",
            action="Delete template",
            cancel_url=f"/templates/{template.pk}/",
        )
    try:
        template_archive(template, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(f"/templates/{template.pk}/")
    messages.success(
        request,
        f"Template “{template.title_base}” deleted. It is kept under archived templates, "
        "where an admin can restore it.",
    )
    return redirect("/templates/")


@require_POST
@role_required(ADMIN)
def template_restore_view(request, pk: int):
    template = _template(pk, archived=True)
    try:
        template_restore(template, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Template “{template.title_base}” restored.")
    return redirect(f"/templates/{template.pk}/")


# --- versions: compare, roll back ------------------------------------------------------------


def _versions_of(template: FormTemplate):
    return template.versions.order_by("-created_at", "-id")


def template_diff(request, pk: int):
    """Two versions side by side (``?from=<id>&to=<id>``; default: the last two)."""
    template = _template(pk, archived=True)
    versions = list(_versions_of(template))
    by_id = {str(v.pk): v for v in versions}
    wanted_from, wanted_to = request.GET.get("from"), request.GET.get("to")
    if (wanted_from and wanted_from not in by_id) or (wanted_to and wanted_to not in by_id):
        raise Http404("No such version of this template.")
    context = {"template": template, "versions": versions}
    if len(versions) >= 1:
        new = by_id.get(wanted_to) or versions[0]
        older = [v for v in versions if (v.created_at, v.pk) < (new.created_at, new.pk)]
        old = by_id.get(wanted_from) or (older[0] if older else new)
        context.update({"old": old, "new": new})
        try:
            diff = version_diff(old, new)
        except ServiceError as exc:
            context["error"] = exc.message
        else:
            context["diff"] = diff
            context["sections"] = [
                {"name": name, "diff": section, "entries": section.entries()}
                for name, section in diff.sections()
            ]
    return render(request, "frontend/template_diff.html", context)


@require_POST
@role_required(EDITOR)
def version_rollback_view(request, pk: int, version_pk: int):
    template = _template(pk)
    version = get_object_or_404(FormTemplateVersion, pk=version_pk, template_id=template.pk)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Roll back to version {version.version}?",
            message="Its source is published again, as a new version, to the app users of "
            "this template. The versions published since stay in the history.",
            action="Roll back",
            cancel_url=f"/templates/{template.pk}/",
        )
    try:
        run = version_rollback(version, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(f"/templates/{template.pk}/")
    messages.success(request, f"Publishing version {version.version} again as a new version.")
    return redirect(f"/runs/{run.pk}/")


@require_POST
@role_required(EDITOR)
def template_attachment_upload(request, pk: int):
    template = _template(pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            template_attachment_put(
                template,
                actor=request.user,
                name=upload.name,
                data=upload.read(),
                content_type=upload.content_type or "application/octet-stream",
            )
        except (ValidationError, ServiceError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"Attachment {upload.name} saved.")
    else:
        messages.error(request, "Choose a file to attach.")
    return redirect(f"/templates/{template.pk}/#attachments")


# --- downloads -------------------------------------------------------------------------


def template_source(request, pk: int):
    template = _template(pk, archived=True)
    return stored_file(template.source_file, f"{template.form_id_base}.xlsx")


def version_source(request, pk: int, version_pk: int):
    version = get_object_or_404(
        FormTemplateVersion.objects.select_related("template"), pk=version_pk, template_id=pk
    )
    return stored_file(
        version.source_file, f"{version.template.form_id_base}-{version.version}.xlsx"
    )


def variant_download(request, pk: int, variant_pk: int, kind: str):
    if kind not in ("xlsx", "xml"):
        raise Http404
    variant = get_object_or_404(
        FormVariant.objects.select_related("version"), pk=variant_pk, version__template_id=pk
    )
    if kind == "xlsx":
        return stored_file(
            variant.workbook_file, f"{variant.form_id}-{variant.version.version}.xlsx"
        )
    return stored_file(variant.xform_file, f"{variant.form_id}-{variant.version.version}.xml")


def attachment_download(request, pk: int, attachment_pk: int):
    attachment = get_object_or_404(FormTemplateAttachment, pk=attachment_pk, template_id=pk)
    return stored_file(attachment.file, attachment.name)
