"""API tokens of the organization (admins): list, create (shown once), revoke."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from control_plane.accounts.models import ApiToken
from control_plane.accounts.services.api_tokens import api_token_create, api_token_revoke
from control_plane.errors import ServiceError
from frontend.forms import TokenForm, apply_errors
from frontend.permissions import ADMIN, role_required
from frontend.views.common import confirm_page, confirmed


@role_required(ADMIN)
def tokens(request):
    form = TokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in"]
        try:
            issued = api_token_create(
                organization=request.tenant,
                actor=request.user,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                expires_at=timezone.now() + timedelta(days=int(days)) if days else None,
            )
        except (ValidationError, ServiceError) as exc:
            apply_errors(form, exc)
        else:
            form = TokenForm()
    tokens_ = (
        ApiToken.objects.filter(organization=request.tenant)
        .select_related("created_by")
        .order_by("revoked_at", "-created_at")
    )
    return render(
        request,
        "frontend/tokens.html",
        {"form": form, "issued": issued, "tokens": tokens_, "now": timezone.now()},
    )


@require_POST
@role_required(ADMIN)
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, organization=request.tenant)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Revoke the token “{token.name}”?",
            message="Anything using it stops working at once. This cannot be undone.",
            action="Revoke token",
            cancel_url="/tokens/",
        )
    try:
        api_token_revoke(token, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("/tokens/")
