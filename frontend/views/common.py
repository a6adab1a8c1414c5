"""Small helpers shared by the workspace views (confirmation, downloads, partials)."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import render

from control_plane.storage import owned_by_active_tenant, tenant_file_response


def confirmed(request) -> bool:
    """Destructive POSTs carry ``confirm=yes`` (added by the confirmation dialog or page)."""
    return request.POST.get("confirm") == "yes"


def confirm_page(request, *, title: str, message: str, action: str, cancel_url: str):
    """Asked when a destructive POST arrives without confirmation (no JavaScript, say)."""
    return render(
        request,
        "frontend/confirm.html",
        {"title": title, "message": message, "action": action, "cancel_url": cancel_url},
    )


def stored_file(name: str, download_name: str | None = None, *, inline: bool = False):
    """Download a file of the organization's storage (names come from its own rows).

    A signed-URL redirect on S3, a stream locally (``tenant_file_response``). Images
    shown in the page itself (``inline``) are always streamed from our own host, so
    the CSP keeps ``img-src 'self'``.
    """
    filename = download_name or PurePosixPath(name or "").name
    if inline:
        if not owned_by_active_tenant(name) or not default_storage.exists(name):
            raise Http404("No such file.")
        return FileResponse(
            default_storage.open(name, "rb"),
            filename=filename,
            content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
        )
    return tenant_file_response(name, filename=filename)


def partial_or_page(request, page_template: str, partial_template: str, context: dict):
    """htmx requests get just the part of the page they replace."""
    template = partial_template if getattr(request, "htmx", False) else page_template
    return render(request, template, context)
