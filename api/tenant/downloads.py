"""Streaming stored files (sources, rendered variants, QR codes) to API clients.

Files are read from the organization's storage by the name recorded on the
row; nothing from the request ever becomes part of a path. With S3 the answer
is a 302 to a presigned URL that expires (``control_plane.storage``).
"""

from __future__ import annotations

from django.http import HttpResponse

from control_plane.storage import tenant_file_response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XML = "application/xml"


def file_response(name: str, *, content_type: str, filename: str) -> HttpResponse:
    """The file itself (local storage), or a redirect to its signed URL (S3)."""
    return tenant_file_response(name, filename=filename, content_type=content_type)
