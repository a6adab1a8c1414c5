"""Error pages that never read the request body.

Django's own 403 and 404 handlers run the CSRF check again
(``requires_csrf_token``), which reads a POST body: an oversized form posted
to a page that answers 404 (an unknown address, Google sign-in when it is
off) then failed a second time, inside the error handler, with a 500. These
render the same templates without touching the body; the CSRF cookie is still
set by the middleware when a page needs it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"exception": str(exception or "")}, status=403)
