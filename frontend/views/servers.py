"""Central servers: everyone reads the list; admins add, edit and remove them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from control_plane.errors import ServiceError
from frontend.forms import CentralServerForm, apply_errors
from frontend.permissions import ADMIN, role_required
from frontend.views.common import confirm_page, confirmed
from tenants.publishing.models import CentralServer
from tenants.publishing.services.servers import central_server_delete, central_server_save


def servers(request):
    return render(
        request,
        "frontend/servers.html",
        {"servers": CentralServer.objects.prefetch_related("projects")},
    )


def _save(request, server: CentralServer | None):
    initial = {"name": server.name, "base_url": server.base_url} if server else None
    form = CentralServerForm(request.POST or None, initial=initial, editing=server is not None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = central_server_save(actor=request.user, server=server, **form.cleaned_data)
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            verb = "updated" if server else "added"
            messages.success(request, f"Central server “{saved.name}” {verb}; the login works.")
            return redirect("/servers/" if server else f"/projects/new/?server={saved.pk}")
    return render(request, "frontend/server_form.html", {"form": form, "server": server})


@role_required(ADMIN)
def server_new(request):
    return _save(request, None)


@role_required(ADMIN)
def server_edit(request, pk: int):
    return _save(request, get_object_or_404(CentralServer, pk=pk))


@require_POST
@role_required(ADMIN)
def server_delete(request, pk: int):
    server = get_object_or_404(CentralServer, pk=pk)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Remove the server “{server.name}”?",
            message="Its stored username and password are deleted. Nothing changes in Central.",
            action="Remove server",
            cancel_url="/servers/",
        )
    try:
        central_server_delete(server, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Central server “{server.name}” removed.")
    return redirect("/servers/")
