"""Control-plane pages: landing, signup, organization picker and creation, invitations."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from rest_framework.settings import api_settings

from control_plane.accounts.models import Membership
from control_plane.accounts.services.invitations import (
    InvitationInvalid,
    invitation_accept,
    invitation_lookup,
)
from control_plane.accounts.services.signup import signup, user_create
from control_plane.errors import Conflict
from control_plane.organizations.models import Organization, OrganizationStatus
from control_plane.organizations.services.provisioning import (
    organization_create,
    provisioning_progress,
)
from control_plane.urls_helpers import organization_url
from frontend.forms import AccountForm, OrganizationForm, SignupForm
from frontend.google_auth import google_enabled
from frontend.ratelimit import address_of, limited, over_limit
from frontend.views.auth import google_return_to


def _apply_errors(form, error: ValidationError) -> None:
    for field, messages_ in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages_:
            form.add_error(target, message)


def landing(request):
    if request.user.is_authenticated:
        return redirect("/organizations/")
    return render(request, "frontend/landing.html")


def signup_view(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Each signup creates an account and a schema: one budget per address, shared
        # with the control-plane API's signup.
        wait = over_limit(
            f"throttle:signup:{address_of(request)}",
            api_settings.DEFAULT_THROTTLE_RATES.get("signup"),
        )
        if wait is not None:
            return limited(request, wait, "signups")
        try:
            result = signup(**form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            login(request, result.user, backend="control_plane.accounts.backends.EmailBackend")
            return redirect(f"/organizations/{result.organization.slug}/setup/")
    return_to = google_return_to(request, "/organizations/new/") if google_enabled() else ""
    return render(request, "frontend/signup.html", {"form": form, "google_return_to": return_to})


@login_required
def organization_list(request):
    memberships = (
        Membership.objects.filter(user=request.user)
        .exclude(organization__status=OrganizationStatus.ARCHIVED)
        .select_related("organization")
        .order_by("organization__name")
    )
    rows = [
        {"membership": m, "organization": m.organization, "url": organization_url(m.organization)}
        for m in memberships
    ]
    pending = Organization.objects.filter(
        created_by=request.user,
        status__in=[
            OrganizationStatus.PENDING,
            OrganizationStatus.PROVISIONING,
            OrganizationStatus.FAILED,
        ],
    )
    return render(request, "frontend/organization_list.html", {"rows": rows, "pending": pending})


@login_required
def organization_new(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = organization_create(
                name=form.cleaned_data["name"], slug=form.cleaned_data["slug"], actor=request.user
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                _apply_errors(form, exc)
            else:
                form.add_error("slug", exc)
        except Conflict as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            return redirect(f"/organizations/{organization.slug}/setup/")
    return render(request, "frontend/organization_new.html", {"form": form})


@login_required
def organization_setup(request, slug: str):
    """Follows provisioning; refreshes itself until the organization is ready."""
    organization = Organization.objects.filter(slug=slug, created_by=request.user).first()
    if organization is None:
        raise Http404
    if organization.status == OrganizationStatus.ACTIVE:
        if request.GET.get("poll"):
            return render(
                request,
                "frontend/organization_setup.html",
                {
                    "organization": organization,
                    "steps": [],
                    "ready_url": organization_url(organization),
                },
            )
        return redirect(organization_url(organization))
    return render(
        request,
        "frontend/organization_setup.html",
        {"organization": organization, "steps": provisioning_progress(organization)},
    )


def invitation_view(request, token: str):
    """Accept when logged in as the invitee; otherwise log in or create the account first."""
    # Every look-up counts, so invitation tokens cannot be guessed at speed either.
    wait = over_limit(
        f"invitation:address:{address_of(request)}", settings.RATE_LIMIT_INVITATION_ADDRESS
    )
    if wait is not None:
        return limited(request, wait, "invitation requests")
    try:
        invitation = invitation_lookup(token)
    except InvitationInvalid as exc:
        return render(
            request, "frontend/invitation_invalid.html", {"error": exc.message}, status=410
        )
    organization = invitation.organization
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                invitation_accept(token, user=request.user)
            except InvitationInvalid as exc:
                return render(
                    request, "frontend/invitation_invalid.html", {"error": exc.message}, status=409
                )
            messages.success(request, f"You joined {organization.name}.")
            return redirect(organization_url(organization))
        return render(request, "frontend/invitation.html", {"invitation": invitation})
    from control_plane.accounts.models import User

    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    form = AccountForm(request.POST or None)
    if request.method == "POST" and not has_account and form.is_valid():
        try:
            with transaction.atomic():
                user = user_create(email=invitation.email, **form.cleaned_data)
                invitation_accept(token, user=user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            login(request, user, backend="control_plane.accounts.backends.EmailBackend")
            return redirect(organization_url(organization))
    return render(
        request,
        "frontend/invitation.html",
        {"invitation": invitation, "form": form, "has_account": has_account},
    )
