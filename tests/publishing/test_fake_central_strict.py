"""The fake Central answers like central-backend: codes, messages, ``details``, fields.

Each fact comes from central-backend's source (``lib/util/problem.js``,
``lib/resources/*.js``, ``lib/model/frames*``); a test here fails when the fake
drifts back to a friendlier answer than the real server gives.
"""

from __future__ import annotations

import hashlib
import re

import pytest
import requests

from tests.publishing.fake_central_api import EMAIL, PASSWORD, Api, problem, xform

TOKEN = re.compile(r"^[A-Za-z0-9!$]{64}$")


@pytest.fixture
def api(fake_central):
    fake_central.add_account(EMAIL, PASSWORD)
    return Api(fake_central)


# --- form intake -------------------------------------------------------------------------


def test_unreadable_xml_is_400_2_form_id_missing(api):
    """Central's forgiving SAX parser finds no form id in a body that is not XML."""
    pid = api.project()
    body = problem(api.form(pid, b"<not xml"))
    assert body == {
        "message": "Required parameter formId missing.",
        "code": 400.2,
        "details": {"field": "formId"},
    }


def test_a_form_without_meta_is_400_27(api):
    pid = api.project()
    xml = xform().replace(b"<meta>", b"<other>").replace(b"</meta>", b"</other>")
    assert problem(api.form(pid, xml))["code"] == 400.27


def test_duplicate_form_is_409_3_with_fields_values_and_table(api):
    pid = api.project()
    api.ok(
        "POST",
        f"/v1/projects/{pid}/forms",
        data=xform(),
        headers={"Content-Type": "application/xml"},
    )
    body = problem(api.form(pid, xform()))
    assert body == {
        "message": f"A resource already exists with projectId,xmlFormId value(s) of {pid},household.",
        "code": 409.3,
        "details": {
            "fields": ["projectId", "xmlFormId"],
            "values": [str(pid), "household"],
            "table": "forms",
        },
    }


def test_a_draft_with_another_form_id_is_400_8_with_field_value_reason(api):
    pid = api.project()
    api.form(pid, xform())
    body = problem(api.draft(pid, "household", xform("other")))
    assert body == {
        "message": "Unexpected xmlFormId value other; does not match the form you are updating",
        "code": 400.8,
        "details": {
            "field": "xmlFormId",
            "value": "other",
            "reason": "does not match the form you are updating",
        },
    }


def test_a_form_id_ending_in_xml_is_400_8(api):
    pid = api.project()
    body = problem(api.form(pid, xform("survey.xml")))
    assert body["code"] == 400.8
    assert body["details"]["field"] == "formId" and body["details"]["value"] == "survey.xml"
    assert body["message"].startswith("Unexpected formId value survey.xml; The Form ID cannot end")


# --- publishing ----------------------------------------------------------------------------


def test_rejected_publish_is_409_6_with_details_and_the_draft_keeps_its_version(api, fake_central):
    pid = api.project()
    api.form(pid, xform(version="1"))
    assert api.publish(pid, "household").status_code == 200
    assert api.draft(pid, "household", xform(version="2")).status_code == 200
    before = api.ok("GET", f"/v1/projects/{pid}/forms/household/draft")

    body = problem(api.publish(pid, "household", version="1"))
    assert body == {
        "message": "You tried to publish the form 'household' with version '1', but a published "
        "form has already existed in this project with those identifiers.",
        "code": 409.6,
        "details": {"xmlFormId": "household", "version": "1"},
    }
    after = api.ok("GET", f"/v1/projects/{pid}/forms/household/draft")
    assert after["version"] == "2" and after["sha256"] == before["sha256"]
    (form,) = fake_central.forms(pid)
    assert 'version="2"' in form.draft.xml
    assert api.publish(pid, "household", version="3").status_code == 200
    assert fake_central.published_versions(pid, "household") == ["1", "3"]
    (form,) = fake_central.forms(pid)
    assert 'version="3"' in form.current.xml
    assert form.current.sha256 == hashlib.sha256(form.current.xml.encode()).hexdigest()


def test_forms_carry_centrals_fields(api):
    pid = api.project()
    xml = xform()
    draft = api.form(pid, xml).json()
    assert set(draft) == {
        "projectId", "xmlFormId", "state", "enketoId", "enketoOnceId", "createdAt", "updatedAt",
        "webformsEnabled", "keyId", "version", "hash", "sha", "sha256", "draftToken",
        "publishedAt", "name",
    }  # fmt: skip
    assert draft["hash"] == hashlib.md5(xml, usedforsecurity=False).hexdigest()
    assert draft["sha"] == hashlib.sha1(xml, usedforsecurity=False).hexdigest()
    assert draft["sha256"] == hashlib.sha256(xml).hexdigest()
    assert TOKEN.match(draft["draftToken"]) and draft["enketoId"]
    assert draft["enketoOnceId"] is None and draft["publishedAt"] is None

    api.publish(pid, "household")
    published = api.ok("GET", f"/v1/projects/{pid}/forms/household")
    assert published["draftToken"] is None and published["publishedAt"]
    assert published["enketoId"] and published["enketoOnceId"]
    assert published["sha256"] == draft["sha256"]


def test_attachments_carry_hash_and_size_once_uploaded(api):
    pid = api.project()
    api.form(pid, xform())
    path = f"/v1/projects/{pid}/forms/household/draft/attachments"
    (empty,) = api.ok("GET", path)
    assert empty == {
        "name": "logo.png",
        "type": "image",
        "exists": False,
        "blobExists": False,
        "datasetExists": False,
    }
    uploaded = api.ok(
        "POST", f"{path}/logo.png", data=b"\x89PNG-1", headers={"Content-Type": "image/png"}
    )
    assert uploaded["hash"] == hashlib.md5(b"\x89PNG-1", usedforsecurity=False).hexdigest()
    assert uploaded["size"] == 6 and uploaded["exists"] and uploaded["updatedAt"]
    assert api.ok("GET", path) == [uploaded]


# --- roles, projects, app users, assignments -------------------------------------------------


def test_role_ids_are_those_of_a_fresh_central(api):
    roles = {r["system"]: r["id"] for r in api.ok("GET", "/v1/roles")}
    # 4 was "initbkup", deleted by a 2023 migration: ids are not consecutive.
    assert roles == {
        "admin": 1, "app-user": 2, "pwreset": 3, "manager": 5, "viewer": 6, "formview": 7,
        "formfill": 8, "pub-link": 9,
    }  # fmt: skip


def test_a_created_project_has_an_actee_id_a_read_one_does_not(api):
    created = api.ok("POST", "/v1/projects", json={"name": "P"})
    assert re.match(r"^[0-9a-f-]{36}$", created["acteeId"])
    assert created["archived"] is None
    read = api.ok("GET", f"/v1/projects/{created['id']}")
    assert "acteeId" not in read and read["name"] == "P"
    assert ["acteeId" in p for p in api.ok("GET", "/v1/projects")] == [False]


def test_a_created_app_user_carries_its_sessions_csrf_and_expiry(api):
    pid = api.project()
    user = api.ok("POST", f"/v1/projects/{pid}/app-users", json={"displayName": "Tablet"})
    assert TOKEN.match(user["token"]) and user["csrf"]
    assert user["expiresAt"] == "9999-12-31T23:59:59.000Z"
    (listed,) = api.ok("GET", f"/v1/projects/{pid}/app-users")
    assert listed["token"] == user["token"]
    assert "csrf" not in listed and "expiresAt" not in listed


def test_a_repeated_assignment_is_409_3_with_the_forms_actee(api):
    pid = api.project()
    api.form(pid, xform())
    api.publish(pid, "household")
    user = api.ok("POST", f"/v1/projects/{pid}/app-users", json={"displayName": "Tablet"})
    path = f"/v1/projects/{pid}/forms/household/assignments/app-user/{user['id']}"
    assert api.call("POST", path).status_code == 200
    body = problem(api.call("POST", path))
    assert body["code"] == 409.3
    details = body["details"]
    assert details["fields"] == ["actorId", "roleId", "acteeId"]
    assert details["values"][:2] == [str(user["id"]), "2"] and details["table"] == "assignments"
    assert body["message"] == (
        "A resource already exists with actorId,roleId,acteeId value(s) of "
        f"{user['id']},2,{details['values'][2]}."
    )


# --- sign-in problems ------------------------------------------------------------------------


def test_sign_in_without_password_is_400_3_naming_what_was_given(fake_central):
    url = f"{fake_central.base_url}/v1/sessions"
    response = requests.post(url, json={"email": "a@b.org"}, timeout=5)
    body = problem(response)
    assert body == {
        "message": "Required parameters missing. Expected (email, password), got (email: 'a@b.org', "
        "password: undefined).",
        "code": 400.3,
        "details": {"expected": ["email", "password"], "got": {"email": "a@b.org"}},
    }


def test_not_found_has_no_details(api):
    body = problem(api.call("GET", "/v1/projects/999"))
    assert body == {"message": "Could not find the resource you were looking for.", "code": 404.1}
