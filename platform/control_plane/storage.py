"""Per-organization storage prefixes (DESIGN.md §3), downloads and deletion.

Every file an organization owns lives under ``tenants/<schema>/`` in the
default storage (local files, or S3 when configured), and code reaches it only
through ``tenant_path`` so that no path can be built for another schema.
Downloads go through ``tenant_file_response``, which serves only names under
the active organization's prefix: on S3 as a redirect to a short-lived signed
URL for that one object, locally by streaming the file.
"""

from __future__ import annotations

import mimetypes
import shutil
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header
from django_tenants.utils import get_public_schema_name


def tenant_storage_prefix(schema_name: str) -> str:
    if not schema_name or schema_name == get_public_schema_name():
        raise ValueError("Files belong to an organization; no organization is active.")
    return f"tenants/{schema_name}"


def tenant_path(relative: str) -> str:
    """The storage name of ``relative`` for the organization active on this connection."""
    relative = relative.lstrip("/")
    if ".." in relative.split("/"):
        raise ValueError("Paths may not climb out of the organization's folder.")
    return f"{tenant_storage_prefix(connection.schema_name)}/{relative}"


def owned_by_active_tenant(name: str) -> bool:
    """Is ``name`` a file of the organization active on this connection?"""
    try:
        prefix = tenant_storage_prefix(connection.schema_name) + "/"
    except ValueError:
        return False
    return bool(name) and name.startswith(prefix) and ".." not in name.split("/")


def signs_urls() -> bool:
    """Does the storage hand out signed URLs (S3), or must we stream files ourselves?"""
    return bool(getattr(default_storage, "querystring_auth", False))


def tenant_file_response(
    name: str, *, filename: str, content_type: str | None = None, inline: bool = False
) -> HttpResponse:
    """Answer a download of the active organization's file ``name``.

    A name outside the organization's prefix is a 404 even if a row points at
    it: one organization's key never serves another's file. On S3 the answer
    is a redirect to a presigned URL for that object alone, which expires after
    ``S3_URL_EXPIRY`` seconds and names the file and its type; locally the
    file is streamed. Callers check access to the row first.
    """
    if not owned_by_active_tenant(name) or not default_storage.exists(name):
        raise Http404("The file is not available.")
    content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if signs_urls():
        url = default_storage.url(
            name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(not inline, filename),
                "ResponseContentType": content_type,
            },
        )
        response: HttpResponse = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"
        return response
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=not inline,
        filename=filename,
        content_type=content_type,
    )


def tenant_files_delete(schema_name: str) -> int:
    """Delete every file under the organization's prefix; returns how many.

    Lists the storage instead of asking whether the "folder" exists: S3 has
    no folders, only keys, and would answer that ``tenants/<schema>`` does not
    exist while thousands of keys start with it.
    """
    prefix = tenant_storage_prefix(schema_name)
    deleted = _delete_tree(prefix)
    try:
        local = Path(default_storage.path(prefix))
    except NotImplementedError:  # object storage: no folders to remove
        return deleted
    if local.is_dir():
        shutil.rmtree(local, ignore_errors=True)  # the empty folders left behind
    return deleted


def _delete_tree(prefix: str) -> int:
    try:
        directories, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return 0
    for file in files:
        default_storage.delete(f"{prefix}/{file}")
    return len(files) + sum(_delete_tree(f"{prefix}/{d}") for d in directories)
