"""Projects: created in Central or imported from it; their language and variable values."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from control_plane.errors import ServiceError
from frontend.current import set_current_project
from frontend.explain import central_exception
from frontend.forms import (
    ProjectCreateForm,
    ProjectImportForm,
    ProjectValuesForm,
    apply_errors,
)
from frontend.navigation import safe_next_url
from frontend.permissions import EDITOR, role_required
from frontend.values import project_values
from tenants.publishing.central.errors import CentralError
from tenants.publishing.models import CentralServer, Project, TemplateVariable
from tenants.publishing.services.projects import (
    central_projects,
    project_create,
    project_import,
    project_update,
)
from tenants.publishing.services.variables import project_value_set


def _central_failure(form, exc: CentralError) -> None:
    explanation = central_exception(exc)
    form.add_error(None, f"{explanation.summary} {explanation.advice} (Central: {exc.message})")


def projects(request):
    rows = Project.objects.select_related("server").annotate(
        n_app_users=Count("app_users", distinct=True),
        n_templates=Count("templates", distinct=True),
    )
    return render(
        request,
        "frontend/projects.html",
        {"rows": rows, "has_servers": CentralServer.objects.exists()},
    )


@role_required(EDITOR)
def project_new(request):
    servers = CentralServer.objects.all()
    initial = {"server": request.GET.get("server")} if request.GET.get("server") else None
    form = ProjectCreateForm(request.POST or None, servers=servers, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        except CentralError as exc:
            _central_failure(form, exc)
        else:
            set_current_project(request, project)
            messages.success(request, f"Project “{project.name}” created in Central.")
            return redirect("/app-users/")
    return render(
        request, "frontend/project_form.html", {"form": form, "has_servers": servers.exists()}
    )


def _choices(server: CentralServer | None) -> dict:
    if server is None:
        return {"choices": None}
    try:
        return {"choices": central_projects(server), "server": server}
    except CentralError as exc:
        return {
            "choices": None,
            "server": server,
            "error": central_exception(exc),
            "raw": str(exc),
        }


@role_required(EDITOR)
def project_import_view(request):
    servers = CentralServer.objects.all()
    form = ProjectImportForm(request.POST or None, servers=servers)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_import(actor=request.user, **form.cleaned_data)
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        except CentralError as exc:
            _central_failure(form, exc)
        else:
            set_current_project(request, project)
            messages.success(
                request,
                f"Project “{project.name}” imported with {project.app_users.count()} app users "
                f"and {project.templates.count()} templates.",
            )
            return redirect("/app-users/")
    selected = form["server"].value() or (servers.first().pk if servers.exists() else None)
    server = servers.filter(pk=selected).first() if selected else None
    context = {"form": form, "has_servers": servers.exists(), **_choices(server)}
    context["chosen"] = str(form["central_project_id"].value() or "")
    return render(request, "frontend/project_import.html", context)


@role_required(EDITOR)
def project_import_choices(request):
    """The project picker, filled from the chosen server (htmx partial)."""
    raw = request.GET.get("server", "")
    server = get_object_or_404(CentralServer, pk=int(raw)) if raw.isdigit() else None
    return render(request, "frontend/partials/central_choices.html", _choices(server))


@role_required(EDITOR)
def project_edit(request, pk: int):
    project = get_object_or_404(Project.objects.select_related("server"), pk=pk)
    current, secret_set = project_values(project)
    form = ProjectValuesForm(
        request.POST or None,
        initial={"name": project.name, "app_language": project.app_language},
    )
    form.add_variable_fields(TemplateVariable.objects.all(), current, secret_set)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                project_update(
                    project,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    app_language=form.cleaned_data["app_language"],
                )
                for variable, value in form.value_changes(current):
                    project_value_set(project, variable, value, actor=request.user)
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Project “{project.name}” saved.")
            return redirect("/projects/")
    return render(request, "frontend/project_edit.html", {"form": form, "project": project})


@require_POST
def project_switch(request):
    raw = request.POST.get("project", "")
    project = get_object_or_404(Project, pk=int(raw) if raw.isdigit() else 0)
    set_current_project(request, project)
    back = request.POST.get("next") or request.META.get("HTTP_REFERER")
    return redirect(safe_next_url(request, back, "/"))
