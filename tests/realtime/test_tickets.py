"""Tickets: signed, short-lived, bound to one organization; issued to members only."""

from __future__ import annotations

import pytest

from realtime.tickets import TicketProblem, ticket_check, ticket_issue


def test_ticket_names_its_user_and_only_works_on_its_organization(settings):
    ticket = ticket_issue(schema="org_acme", user_id=7)

    assert ticket_check(ticket, schema="org_acme").user_id == 7
    assert ticket_check(ticket, schema="org_globex").problem is TicketProblem.INVALID
    assert ticket_check(ticket + "x", schema="org_acme").problem is TicketProblem.INVALID
    assert ticket_check("", schema="org_acme").problem is TicketProblem.INVALID


def test_ticket_expires(settings):
    ticket = ticket_issue(schema="org_acme", user_id=7)
    settings.REALTIME_TICKET_TTL = -1

    assert ticket_check(ticket, schema="org_acme").problem is TicketProblem.EXPIRED


def test_tickets_are_not_signed_like_other_values():
    """A value signed elsewhere in the product with the same key is no ticket."""
    from django.core import signing

    other = signing.dumps({"s": "org_acme", "u": 7, "n": "x"})

    assert ticket_check(other, schema="org_acme").problem is TicketProblem.INVALID


@pytest.mark.django_db
def test_ticket_endpoint_is_for_members_and_posts_only(client_on, org_a, org_b, member_of):
    outsider = member_of(org_b, "owner")
    member = member_of(org_a, "viewer")

    response = client_on(org_a, member).post("/realtime/ticket/")

    assert response.status_code == 200
    body = response.json()
    assert ticket_check(body["ticket"], schema=org_a.schema_name).user_id == member.pk
    assert body["expires_in"] == 30 and body["url"] == "/ws/"
    assert client_on(org_a, outsider).post("/realtime/ticket/").status_code == 404
    assert client_on(org_a).post("/realtime/ticket/").status_code == 302  # to the login page
    assert client_on(org_a, member).get("/realtime/ticket/").status_code == 405
