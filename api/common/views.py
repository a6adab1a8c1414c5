"""The request pipeline every API view shares, whichever host it serves.

``ApiViewMixin.initial`` differs from DRF's in two ways, both on purpose:

- the body's declared size is checked first, so an oversized upload is
  refused with 413 before anything reads it;
- throttles run before permissions, and also after a failed authentication,
  so that guessing tokens is rate-limited like everything else (DRF checks
  throttles last, after the 401 that a bad token already caused).
"""

from __future__ import annotations

from typing import Any

from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.request import Request

from api.common.errors import PayloadTooLarge, error_response
from api.common.parsers import body_limit_for


def enforce_body_limit(request: Request) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = body_limit_for(request.META.get("CONTENT_TYPE", ""))
    if length > limit:
        raise PayloadTooLarge(f"This request body is limited to {limit} bytes (got {length}).")


class ApiViewMixin:
    """Mix into every APIView/ViewSet of the API (before DRF's classes)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.format_kwarg = self.get_format_suffix(**kwargs)
        renderer, media_type = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = renderer, media_type
        version, scheme = self.determine_version(request, *args, **kwargs)
        request.version, request.versioning_scheme = version, scheme
        enforce_body_limit(request)
        try:
            self.perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)
            raise
        self.check_throttles(request)
        self.check_permissions(request)


@csrf_exempt
def not_found_view(request: Any, *args: Any, **kwargs: Any):
    """JSON 404 for unknown paths under an API prefix (instead of an HTML page)."""
    from rest_framework.renderers import JSONRenderer

    response = error_response(404, "not_found", "No API endpoint at this address.")
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = "application/json"
    response.renderer_context = {}
    response.render()
    return response
