"""Short-lived signed tickets: how a browser page authenticates a socket without headers.

Browsers cannot set ``Authorization`` on a WebSocket, and a custom domain may
not receive the session cookie. A page that is logged in over HTTP asks
``POST /realtime/ticket/`` for a ticket and opens ``/ws/?ticket=<ticket>``.

A ticket is ``django.core.signing`` over ``{schema, user, nonce}`` with a
salt of its own, valid for ``REALTIME_TICKET_TTL`` seconds (30 by default)
and only on the organization it was issued for. It grants nothing by itself:
the socket middleware still requires a current membership, so removing a
member takes effect even inside the ticket's lifetime. Tickets are not
single-use; their short life and tenant binding bound the damage of one
leaking into a log through the query string.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SALT = "realtime.ticket.v1"


class TicketProblem(enum.Enum):
    INVALID = "invalid"  # forged, truncated, or for another organization
    EXPIRED = "expired"


@dataclass(frozen=True)
class TicketCheck:
    user_id: int | None
    problem: TicketProblem | None = None


def ticket_issue(*, schema: str, user_id: int) -> str:
    """A ticket for ``user_id`` on the organization whose schema is ``schema``."""
    return signing.dumps({"s": schema, "u": user_id, "n": secrets.token_hex(8)}, salt=SALT)


def ticket_check(raw: str, *, schema: str) -> TicketCheck:
    """Whose ticket this is on ``schema``'s host, or why it is refused."""
    try:
        body = signing.loads(raw, salt=SALT, max_age=settings.REALTIME_TICKET_TTL)
    except signing.SignatureExpired:
        return TicketCheck(None, TicketProblem.EXPIRED)
    except signing.BadSignature:
        return TicketCheck(None, TicketProblem.INVALID)
    if not isinstance(body, dict) or body.get("s") != schema:
        return TicketCheck(None, TicketProblem.INVALID)
    user_id = body.get("u")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return TicketCheck(None, TicketProblem.INVALID)
    return TicketCheck(user_id)
