"""Logging in and out (both hosts), and password reset (control plane)."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from control_plane.accounts.services.login_guard import (
    login_blocked,
    login_failed,
    login_succeeded,
)
from control_plane.middleware import request_hostname
from control_plane.urls_helpers import base_url, host_url
from frontend.forms import EmailLoginForm
from frontend.google_auth import google_enabled
from frontend.navigation import safe_next_url
from frontend.ratelimit import address_of, limited, over_limit


def google_return_to(request, next_url: str) -> str:
    """Sign in with Google starts on the control plane, then comes back to ``next_url``
    (built with the configured scheme and port, which the control plane accepts)."""
    if urlsplit(next_url).netloc:
        return next_url
    return host_url(request_hostname(request), next_url)


def login_view(request):
    # By host name, not by organization: a host with no organization must look the same.
    on_control_plane = request_hostname(request) == settings.BASE_DOMAIN
    default = "/organizations/" if on_control_plane else "/"
    next_url = safe_next_url(request, request.POST.get("next") or request.GET.get("next"), default)
    form = EmailLoginForm(request, data=request.POST or None)
    blocked = None
    if request.method == "POST":
        email, address = request.POST.get("username", ""), address_of(request)
        blocked = login_blocked(email, address)
        if blocked is not None:
            # The password is not checked at all while the account or address is locked.
            form = EmailLoginForm(request, initial={"username": email})
        elif form.is_valid():
            login_succeeded(email)
            login(request, form.get_user())
            return redirect(next_url)
        elif form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            login_failed(email, address)
    response = render(
        request,
        "frontend/login.html",
        {
            "form": form,
            "blocked": blocked.message if blocked else "",
            "next": next_url,
            "google_return_to": google_return_to(request, next_url) if google_enabled() else "",
        },
        status=429 if blocked else 200,
    )
    if blocked:
        response["Retry-After"] = str(blocked.retry_after)
    return response


@require_POST
def logout_view(request):
    logout(request)
    return redirect("/login/")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view, limited per address and per account (each request sends an email)."""

    template_name = "frontend/password_reset.html"
    email_template_name = "frontend/email/password_reset.txt"
    subject_template_name = "frontend/email/password_reset_subject.txt"
    success_url = "/password-reset/sent/"

    def post(self, request, *args, **kwargs):
        wait = over_limit(
            f"password-reset:address:{address_of(request)}",
            settings.RATE_LIMIT_PASSWORD_RESET_ADDRESS,
        )
        if wait is not None:
            return limited(request, wait, "password reset requests")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # Links in the email use the configured address, never the request's Host header
        # (which anyone can set: the link would carry the reset token to their server).
        self.extra_email_context = {"reset_url": base_url("/reset/")}
        self.domain_override = settings.BASE_DOMAIN
        email = form.cleaned_data["email"].strip().lower()
        digest = hashlib.sha256(email.encode()).hexdigest()
        # Past the limit the page says "sent" as always (it must not tell whether the
        # account exists) but no more emails go to this address for a while.
        if over_limit(
            f"password-reset:account:{digest}", settings.RATE_LIMIT_PASSWORD_RESET_ACCOUNT
        ):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


password_reset = PasswordResetView.as_view()
password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="frontend/password_reset_sent.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="frontend/password_reset_confirm.html", success_url="/reset/done/"
)
password_reset_done = auth_views.PasswordResetCompleteView.as_view(
    template_name="frontend/password_reset_done.html"
)
