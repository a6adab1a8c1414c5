"""Logging in and out (both hosts), and password reset (control plane)."""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from frontend.forms import EmailLoginForm
from frontend.google_auth import google_enabled
from frontend.navigation import safe_next_url


def google_return_to(request, next_url: str) -> str:
    """Sign in with Google starts on the control plane, then comes back to ``next_url``."""
    return request.build_absolute_uri(next_url)


def login_view(request):
    default = "/" if getattr(request, "tenant", None) else "/organizations/"
    next_url = safe_next_url(request, request.POST.get("next") or request.GET.get("next"), default)
    form = EmailLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        return redirect(next_url)
    return render(
        request,
        "frontend/login.html",
        {
            "form": form,
            "next": next_url,
            "google_return_to": google_return_to(request, next_url) if google_enabled() else "",
        },
    )


@require_POST
def logout_view(request):
    logout(request)
    return redirect("/login/")


password_reset = auth_views.PasswordResetView.as_view(
    template_name="frontend/password_reset.html",
    email_template_name="frontend/email/password_reset.txt",
    subject_template_name="frontend/email/password_reset_subject.txt",
    success_url="/password-reset/sent/",
)
password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="frontend/password_reset_sent.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="frontend/password_reset_confirm.html", success_url="/reset/done/"
)
password_reset_done = auth_views.PasswordResetCompleteView.as_view(
    template_name="frontend/password_reset_done.html"
)
