"""The organization's audit trail: append-only in the database, readable by admins."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from tenants.audit.models import AuditEvent
from tenants.audit.services import audit_record


@pytest.fixture
def event(org_a):
    return audit_record("test.recorded", data={"n": 1}, schema_name=org_a.schema_name)


def test_audit_events_cannot_be_updated(org_a, event):
    with schema_context(org_a.schema_name):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(code="test.rewritten")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            event.actor_label = "someone else"
            event.save()
        assert AuditEvent.objects.get(pk=event.pk).code == "test.recorded"


def test_audit_events_cannot_be_deleted(org_a, event):
    with schema_context(org_a.schema_name):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM audit_auditevent")
        assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_recording_outside_an_organization_is_refused(db):
    with pytest.raises(RuntimeError, match="outside any organization"):
        audit_record("test.nowhere")


def test_events_carry_the_request_id_of_the_request(org_a, member_of, client_on):
    admin = member_of(org_a, "admin")

    client_on(org_a, admin).post(
        "/members/", {"email": "traced@example.org", "role": "viewer"}, HTTP_X_REQUEST_ID="req-42"
    )

    with schema_context(org_a.schema_name):
        event = AuditEvent.objects.get(code="organization.member.invited")
    assert (event.request_id, event.actor_id, event.actor_label) == (
        "req-42",
        admin.pk,
        admin.email,
    )


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("admin", 200), ("editor", 403), ("viewer", 403)]
)
def test_audit_page_is_for_admins_and_owners(role, status, org_a, member_of, client_on, event):
    response = client_on(org_a, member_of(org_a, role)).get("/audit/")

    assert response.status_code == status
    if status == 200:
        assert "test.recorded" in response.content.decode()


def test_audit_page_filters_by_code_prefix(org_a, member_of, client_on, event):
    audit_record("other.thing", schema_name=org_a.schema_name)
    client = client_on(org_a, member_of(org_a, "admin"))

    html = client.get("/audit/", {"code": "test."}).content.decode()

    assert "test.recorded" in html and "other.thing" not in html


def test_dashboard_shows_recent_activity_to_admins_only(org_a, member_of, client_on, event):
    admin_view = client_on(org_a, member_of(org_a, "admin")).get("/").content.decode()
    viewer_view = client_on(org_a, member_of(org_a, "viewer")).get("/").content.decode()

    assert "test.recorded" in admin_view
    assert "test.recorded" not in viewer_view
