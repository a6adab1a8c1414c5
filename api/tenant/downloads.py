"""Streaming stored files (sources, rendered variants, QR codes) to API clients.

Files are read from the organization's storage by the name recorded on the
row; nothing from the request ever becomes part of a path.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XML = "application/xml"


def file_response(name: str, *, content_type: str, filename: str) -> FileResponse:
    if not name or not default_storage.exists(name):
        raise Http404("The file is not available.")
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
