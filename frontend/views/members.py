"""The members page of an organization: list, invite, change roles, remove, leave."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from control_plane.accounts.models import Invitation, Membership
from control_plane.accounts.roles import Role
from control_plane.accounts.services.invitations import (
    invitation_create,
    invitation_resend,
    invitation_revoke,
    open_invitations,
)
from control_plane.accounts.services.memberships import (
    membership_change_role,
    membership_leave,
    membership_remove,
    memberships_of,
    removal_refusal,
)
from control_plane.errors import ServiceError
from control_plane.urls_helpers import base_url
from frontend.forms import InviteForm
from frontend.listing import listing
from frontend.permissions import ADMIN, require
from frontend.views.common import confirm_page, confirmed


def _require_manager(request) -> None:
    # Viewers and editors may not manage members (403 says which role is needed).
    require(request, ADMIN)


def members(request):
    _require_manager(request)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = invitation_create(
                organization=request.tenant, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Invitation sent to {issued.invitation.email}.")
            return redirect("/members/")
    page = listing(
        request,
        memberships_of(request.tenant).select_related("user"),
        search=("user__email", "user__full_name"),
        sorts={
            "email": ("Email", "user__email"),
            "role": ("Role", "role"),
            "joined": ("Joined", "created_at"),
        },
        default_sort="email",
        per_page=50,
    )
    # Say up front what the service would refuse, instead of offering the button.
    owner_count = memberships_of(request.tenant).filter(role=Role.OWNER).count()
    for membership in page.page:
        membership.removal_refusal = removal_refusal(
            membership,
            actor_id=request.user.pk,
            actor_role=request.membership.role,
            owner_count=owner_count,
        )
        membership.last_owner = membership.role == Role.OWNER and owner_count == 1
    return render(
        request,
        "frontend/members.html",
        {"list": page, "invitations": open_invitations(request.tenant), "form": form},
    )


def _membership(request, pk: int) -> Membership:
    return get_object_or_404(Membership, pk=pk, organization=request.tenant)


def _invitation(request, pk: int) -> Invitation:
    return get_object_or_404(Invitation, pk=pk, organization=request.tenant)


def _run(request, action, success: str):
    try:
        action()
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("/members/")


@require_POST
def member_role(request, pk: int):
    _require_manager(request)
    membership = _membership(request, pk)
    role = request.POST.get("role", "")
    return _run(
        request,
        lambda: membership_change_role(membership, role, actor=request.user),
        f"{membership.user.email} is now {role}.",
    )


@require_POST
def member_remove(request, pk: int):
    _require_manager(request)
    membership = _membership(request, pk)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Remove {membership.user.email}?",
            message="They lose access to this organization at once. You can invite them again.",
            action="Remove member",
            cancel_url="/members/",
        )
    return _run(
        request,
        lambda: membership_remove(membership, actor=request.user),
        f"{membership.user.email} was removed.",
    )


@require_POST
def leave(request):
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Leave {request.tenant.name}?",
            message="You lose access at once; someone must invite you to come back.",
            action="Leave organization",
            cancel_url="/",
        )
    try:
        membership_leave(request.membership)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("/")
    return redirect(base_url("/organizations/"))


@require_POST
def invitation_revoke_view(request, pk: int):
    _require_manager(request)
    invitation = _invitation(request, pk)
    if not confirmed(request):
        return confirm_page(
            request,
            title=f"Revoke the invitation to {invitation.email}?",
            message="The link in their email stops working.",
            action="Revoke invitation",
            cancel_url="/members/",
        )
    return _run(
        request,
        lambda: invitation_revoke(invitation, actor=request.user),
        f"Invitation to {invitation.email} revoked.",
    )


@require_POST
def invitation_resend_view(request, pk: int):
    _require_manager(request)
    invitation = _invitation(request, pk)
    return _run(
        request,
        lambda: invitation_resend(invitation, actor=request.user),
        f"Invitation to {invitation.email} sent again.",
    )
