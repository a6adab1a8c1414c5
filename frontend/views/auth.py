"""Logging in and out; served on the control plane and on every organization host."""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from frontend.forms import EmailLoginForm
from frontend.navigation import safe_next_url


def login_view(request):
    default = "/" if getattr(request, "tenant", None) else "/organizations/"
    next_url = safe_next_url(request, request.POST.get("next") or request.GET.get("next"), default)
    form = EmailLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        return redirect(next_url)
    return render(request, "frontend/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
    logout(request)
    return redirect("/login/")
