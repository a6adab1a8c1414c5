"""App users of the current project: list, add, edit values, QR codes, import and export."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from control_plane.errors import ServiceError
from control_plane.storage import tenant_path
from frontend.current import current_project
from frontend.forms import AppUserCreateForm, AppUserEditForm, ImportForm, apply_errors
from frontend.listing import listing
from frontend.permissions import EDITOR, has_role, require, role_required
from frontend.values import app_user_values, inherited_values, preview_rows
from frontend.views.common import confirm_page, confirmed, partial_or_page, stored_file
from tenants.publishing.models import AppUser, FormTemplate, TemplateVariable
from tenants.publishing.services.app_user_import import (
    app_users_export,
    app_users_import_apply,
    app_users_import_plan,
    export_columns,
)
from tenants.publishing.services.app_user_revoke import open_revocations
from tenants.publishing.services.app_users import (
    app_user_create,
    app_user_delete,
    app_user_qr_refresh,
    app_user_settings,
)
from tenants.publishing.services.variables import ADMIN_PASSWORD, app_user_value_set

IMPORT_SESSION_KEY = "app_user_import"


def _app_user(pk: int) -> AppUser:
    return get_object_or_404(AppUser.objects.select_related("project__server"), pk=pk)


def app_users(request):
    project = current_project(request)
    context = {"project": project}
    if project is not None:
        queryset = AppUser.objects.filter(project=project).prefetch_related(
            Prefetch("templates", queryset=FormTemplate.objects.only("pk", "title_base"))
        )
        status = request.GET.get("status", "")
        if status == "pending":
            queryset = queryset.filter(central_id__isnull=True)
        elif status == "ready":
            queryset = queryset.filter(central_id__isnull=False)
        context["status"] = status
        context["list"] = listing(
            request,
            queryset,
            search=("name",),
            sorts={"name": ("Name", "name"), "created": ("Added", "created_at")},
            default_sort="name",
        )
        context["total"] = AppUser.objects.filter(project=project).count()
        if has_role(request, EDITOR):
            context["revocations"] = open_revocations(project)
    return partial_or_page(
        request, "frontend/app_users.html", "frontend/partials/app_user_rows.html", context
    )


@role_required(EDITOR)
def app_user_new(request):
    project = current_project(request)
    if project is None:
        messages.info(request, "Create or import a project first: app users belong to one.")
        return redirect("/projects/")
    form = AppUserCreateForm(request.POST or None)
    form.add_variable_fields(
        TemplateVariable.objects.all(), {}, set(), inherited=inherited_values(project)
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                app_user = app_user_create(
                    actor=request.user, project=project, name=form.cleaned_data["name"]
                )
                for variable, value in form.value_changes({}):
                    app_user_value_set(app_user, variable, value, actor=request.user)
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"App user {app_user.name} added. Its QR code appears here once Central "
                "has created it.",
            )
            if request.POST.get("another"):
                return redirect("/app-users/new/")
            return redirect(f"/app-users/{app_user.pk}/")
    return render(request, "frontend/app_user_new.html", {"form": form, "project": project})


def app_user_detail(request, pk: int):
    app_user = _app_user(pk)
    can_edit = has_role(request, EDITOR)
    form = None
    if can_edit:
        current, secret_set = app_user_values(app_user)
        form = AppUserEditForm(request.POST or None)
        form.add_variable_fields(
            TemplateVariable.objects.all(),
            current,
            secret_set,
            inherited=inherited_values(app_user.project),
        )
        if request.method == "POST" and form.is_valid():
            changes = form.value_changes(current)
            try:
                with transaction.atomic():
                    for variable, value in changes:
                        app_user_value_set(app_user, variable, value, actor=request.user)
            except (ValidationError, ServiceError) as exc:
                apply_errors(form, exc)
            else:
                if any(v.name == ADMIN_PASSWORD for v, _ in changes):
                    app_user_qr_refresh(app_user)  # the admin password is in the QR code
                messages.success(request, f"App user {app_user.name} saved.")
                return redirect(f"/app-users/{app_user.pk}/")
    elif request.method == "POST":
        require(request, EDITOR)
    return render(
        request,
        "frontend/app_user_detail.html",
        {
            "app_user": app_user,
            "form": form,
            "templates": app_user.templates.filter(archived_at__isnull=True).order_by("title_base"),
            **_qr_context(request, app_user),
        },
    )


def _qr_context(request, app_user: AppUser) -> dict:
    if not has_role(request, EDITOR):
        return {"show_qr": False}
    settings_dict = app_user_settings(app_user) if app_user.central_id else None
    return {
        "show_qr": True,
        "settings_json": json.dumps(settings_dict, indent=2) if settings_dict else "",
    }


@role_required(EDITOR)
def app_user_qr_panel(request, pk: int):
    """The QR code panel; refreshes itself (htmx) until the QR code exists."""
    app_user = _app_user(pk)
    return render(
        request,
        "frontend/partials/qr_panel.html",
        {"app_user": app_user, **_qr_context(request, app_user)},
    )


@role_required(EDITOR)
def app_user_qr_png(request, pk: int):
    app_user = _app_user(pk)
    if not app_user.qr_code:
        raise Http404("No QR code yet.")
    response = stored_file(
        app_user.qr_code, f"{app_user.name}-qr.png", inline=not request.GET.get("download")
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
@role_required(EDITOR)
def app_user_qr_regenerate(request, pk: int):
    app_user = _app_user(pk)
    if app_user.central_id is None:
        from tenants.publishing.tasks import sync_app_user

        sync_app_user.defer(schema_name=connection.schema_name, app_user_id=app_user.pk)
        messages.info(request, f"Creating {app_user.name} in Central again; the QR code follows.")
    elif app_user_qr_refresh(app_user, force=True):
        messages.success(request, f"New QR code for {app_user.name}.")
    else:
        messages.error(request, f"{app_user.name} has no Central token yet; try again shortly.")
    return redirect(f"/app-users/{app_user.pk}/")


@require_POST
@role_required(EDITOR)
def app_users_qr_regenerate(request):
    project = current_project(request)
    if project is None:
        raise Http404
    from tenants.publishing.tasks import refresh_project_qr_codes, sync_app_user

    schema = connection.schema_name
    for app_user_id in project.app_users.filter(central_id__isnull=True).values_list(
        "pk", flat=True
    ):
        sync_app_user.defer(schema_name=schema, app_user_id=app_user_id)
    refresh_project_qr_codes.defer(schema_name=schema, project_id=project.pk)
    messages.success(
        request,
        "QR codes are being regenerated in the background: any whose settings changed "
        "(server, language, admin password) update in a moment.",
    )
    return redirect("/app-users/")


@require_POST
@role_required(EDITOR)
def app_user_delete_view(request, pk: int):
    app_user = _app_user(pk)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Delete the app user {app_user.name}?",
            message="It is removed here with its values, QR code and form assignments, and "
            "deleted in Central in the background: tablets set up with its QR code can then no "
            "longer download forms or send submissions. Submissions already sent stay in "
            "Central. The audit trail records the outcome.",
            action="Delete app user",
            cancel_url=f"/app-users/{app_user.pk}/",
        )
    revocation = app_user_delete(app_user, actor=request.user)
    if revocation is not None:
        messages.success(
            request,
            f"App user {app_user.name} deleted. Its access in Central is being revoked in the "
            "background.",
        )
    else:
        messages.success(request, f"App user {app_user.name} deleted.")
    return redirect("/app-users/")


# --- import and export -------------------------------------------------------------------


def app_users_export_view(request):
    project = current_project(request)
    if project is None:
        raise Http404
    file_format = request.GET.get("format", "csv")
    if file_format not in ("csv", "xlsx"):
        raise Http404
    data = app_users_export(project, file_format)
    content_type = (
        "text/csv; charset=utf-8"
        if file_format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(data, content_type=content_type)
    filename = f"app-users-{project.name}.{file_format}".replace(" ", "-").replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _forget_import(request) -> None:
    pending = request.session.pop(IMPORT_SESSION_KEY, None)
    if pending and default_storage.exists(pending["name"]):
        default_storage.delete(pending["name"])


@role_required(EDITOR)
def app_users_import(request):
    """Upload a file and see, row by row, what importing it would change."""
    project = current_project(request)
    if project is None:
        return redirect("/projects/")
    form = ImportForm(request.POST or None, request.FILES or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            plan = app_users_import_plan(project, data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            _forget_import(request)
            name = default_storage.save(
                tenant_path(f"imports/{uuid.uuid4().hex}.bin"), ContentFile(data)
            )
            request.session[IMPORT_SESSION_KEY] = {
                "name": name,
                "project": project.pk,
                "sha256": plan.sha256,
                "filename": upload.name,
                "schema": connection.schema_name,
            }
    return render(
        request,
        "frontend/app_users_import.html",
        {
            "form": form,
            "plan": plan,
            "rows": preview_rows(project, plan) if plan else [],
            "project": project,
            "columns": export_columns(),
        },
    )


@require_POST
@role_required(EDITOR)
def app_users_import_confirm(request):
    project = current_project(request)
    pending = request.session.get(IMPORT_SESSION_KEY)
    if (
        project is None
        or not pending
        or pending.get("project") != project.pk
        or pending.get("schema") != connection.schema_name
        or not default_storage.exists(pending["name"])
    ):
        messages.error(request, "Upload the file again: the preview expired.")
        return redirect("/app-users/import/")
    with default_storage.open(pending["name"], "rb") as handle:
        data = handle.read()
    try:
        result = app_users_import_apply(
            project, data, actor=request.user, expected_sha256=pending["sha256"]
        )
    except ValidationError:
        messages.error(request, "Some rows have errors; nothing was imported.")
        return redirect("/app-users/import/")
    _forget_import(request)
    messages.success(
        request,
        f"Imported {pending['filename']}: {len(result.created)} app users added, "
        f"{len(result.updated)} updated.",
    )
    return redirect("/app-users/")
