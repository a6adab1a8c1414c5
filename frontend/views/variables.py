"""Template variables of the organization: named values forms receive per app user."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from control_plane.errors import ServiceError
from frontend.forms import VariableForm, apply_errors
from frontend.permissions import EDITOR, require, role_required
from frontend.views.common import confirm_page, confirmed
from tenants.publishing.models import TemplateVariable
from tenants.publishing.services.variables import (
    ADMIN_PASSWORD,
    variable_create,
    variable_delete,
    variable_update,
)


def variables(request):
    form = VariableForm(request.POST or None)
    if request.method == "POST":
        require(request, EDITOR)
        if form.is_valid():
            try:
                variable = variable_create(actor=request.user, **form.cleaned_data)
            except (ValidationError, ServiceError) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Variable {variable.name} added.")
                return redirect("/variables/")
    return render(
        request,
        "frontend/variables.html",
        {
            "variables": TemplateVariable.objects.all(),
            "form": form,
            "admin_password": ADMIN_PASSWORD,
        },
    )


@role_required(EDITOR)
def variable_edit(request, pk: int):
    variable = get_object_or_404(TemplateVariable, pk=pk)
    form = VariableForm(
        request.POST or None,
        editing=True,
        initial={"transform": variable.transform, "description": variable.description},
    )
    if request.method == "POST" and form.is_valid():
        try:
            variable_update(variable, actor=request.user, **form.cleaned_data)
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Variable {variable.name} saved.")
            return redirect("/variables/")
    return render(request, "frontend/variable_edit.html", {"form": form, "variable": variable})


@require_POST
@role_required(EDITOR)
def variable_delete_view(request, pk: int):
    variable = get_object_or_404(TemplateVariable, pk=pk)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Delete the variable {variable.name}?",
            message="Its values in every project and app user are deleted too. Forms that use "
            "it will fail to publish until it is added again.",
            action="Delete variable",
            cancel_url="/variables/",
        )
    variable_delete(variable, actor=request.user)
    messages.success(request, f"Variable {variable.name} deleted.")
    return redirect("/variables/")
