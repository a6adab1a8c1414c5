"""``POST /realtime/ticket/`` on an organization's host: a ticket for ``/ws/?ticket=...``.

Reached only by members (``TenantMembershipMiddleware`` runs first, and the
session's CSRF protection applies). See ``realtime.tickets``.
"""

from __future__ import annotations

import structlog
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from realtime.tickets import ticket_issue

log = structlog.get_logger(__name__)


@never_cache
@require_POST
def ticket_view(request: HttpRequest) -> JsonResponse:
    membership = getattr(request, "membership", None)
    if membership is None:  # the middleware answers first; this guards a misconfiguration
        return JsonResponse({"error": "not_member"}, status=404)
    ticket = ticket_issue(schema=request.tenant.schema_name, user_id=request.user.pk)
    log.info("realtime.ticket_issued")
    return JsonResponse(
        {"ticket": ticket, "expires_in": settings.REALTIME_TICKET_TTL, "url": "/ws/"}
    )
