"""Variables apply to a template only where it has a matching calculate row (issue 11, defect 6)."""

from __future__ import annotations

from django.core.files.storage import default_storage

from tenants.publishing.models import PublishEvent, RunStatus
from tenants.publishing.services.variables import app_user_value_set, variable_create
from tests.publishing.publishing_helpers import (
    app_users,
    publish,
    simple_form,
    template_for,
    with_district,
)


def _xform(run, app_user: str) -> bytes:
    variant = run.version.variants.get(app_user_name=app_user)
    with default_storage.open(variant.xform_file, "rb") as handle:
        return handle.read()


def test_a_template_without_the_variables_row_publishes_normally(tx_project, central):
    with_district(tx_project, "North")
    users = app_users(tx_project, ["ana", "ben"])
    other = variable_create(actor=None, name="team")
    app_user_value_set(users[0], other, "Blue", actor=None)
    template = template_for(tx_project, users, source=simple_form(variables=()))

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED, (run.error, run.issues)
    assert b"North" not in _xform(run, "ana") and b"Blue" not in _xform(run, "ana")
    assert not PublishEvent.objects.filter(run=run, state="warning").exists()


def test_missing_values_are_reported_once_naming_the_variable_and_app_users(tx_project, central):
    district = variable_create(actor=None, name="district")
    users = app_users(tx_project, ["ana", "ben", "cat"])
    app_user_value_set(users[0], district, "North", actor=None)
    template = template_for(tx_project, users, source=simple_form(variables=("district",)))

    run = publish(template)

    assert run.status == RunStatus.SUCCEEDED
    (warning,) = PublishEvent.objects.filter(run=run, state="warning")
    assert warning.step == "validate" and warning.app_user_name == ""
    assert "district (no value for ben, cat)" in warning.message
    assert warning.data == {"missing_values": {"district": ["ben", "cat"]}}
    assert b"North" in _xform(run, "ana") and b"North" not in _xform(run, "ben")
