"""Template variables: names, the sha256 transform, overrides, admin_pw."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from control_plane.errors import InvalidState
from tenants.publishing.models import AppUser
from tenants.publishing.services.variables import (
    app_user_value_set,
    project_value_set,
    values_for_app_users,
    variable_create,
    variable_update,
)


@pytest.mark.parametrize("name", ["1abc", "has-dash", "", "with space", "é"])
def test_bad_names_are_refused(in_org_a, name):
    with pytest.raises(ValidationError):
        variable_create(actor=None, name=name)


def test_names_are_unique(in_org_a):
    variable_create(actor=None, name="district")
    with pytest.raises(ValidationError):
        variable_create(actor=None, name="district")


def test_sha256_values_are_stored_as_digests_only(project):
    secret = variable_create(actor=None, name="national_id", transform="sha256")
    project_value_set(project, secret, "ID-12345", actor=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM publishing_projectvariablevalue")
        stored = [row[0] for row in cursor.fetchall()]
    assert stored == [hashlib.sha256(b"ID-12345").hexdigest()]


def test_app_user_values_override_project_values(project):
    district = variable_create(actor=None, name="district")
    project_value_set(project, district, "North", actor=None)
    alice = AppUser.objects.create(project=project, name="alice")
    bob = AppUser.objects.create(project=project, name="bob")
    app_user_value_set(bob, district, "South", actor=None)
    values = values_for_app_users(project, [alice, bob])
    assert values[alice.pk] == {"district": "North"}
    assert values[bob.pk] == {"district": "South"}


def test_admin_pw_is_kept_out_of_forms_and_tables(project):
    admin = variable_create(actor=None, name="admin_pw")
    project_value_set(project, admin, "tablet-lock", actor=None)
    alice = AppUser.objects.create(project=project, name="alice")
    assert values_for_app_users(project, [alice])[alice.pk] == {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM publishing_projectvariablevalue")
        assert cursor.fetchone()[0] == 0


def test_admin_pw_cannot_be_digested(in_org_a):
    with pytest.raises(ValidationError):
        variable_create(actor=None, name="admin_pw", transform="sha256")


def test_switching_to_sha256_digests_existing_values_and_back_is_refused(project):
    variable = variable_create(actor=None, name="code")
    project_value_set(project, variable, "abc", actor=None)
    variable_update(variable, actor=None, transform="sha256", description="")
    assert values_for_app_users(project, [AppUser.objects.create(project=project, name="a")])
    with pytest.raises(InvalidState):
        variable_update(variable, actor=None, transform="", description="")
