"""Entity lists (datasets) in the fake Central, as central-backend creates and guards them."""

from __future__ import annotations

import pytest

from tests.publishing.fake_central_api import EMAIL, PASSWORD, Api, entity_xform, problem


@pytest.fixture
def api(fake_central):
    fake_central.add_account(EMAIL, PASSWORD)
    return Api(fake_central)


def test_a_form_with_entities_creates_its_dataset_when_published(api):
    pid = api.project()
    assert api.form(pid, entity_xform()).status_code == 200
    assert api.ok("GET", f"/v1/projects/{pid}/datasets") == []  # a draft dataset is not listed
    assert problem(api.call("GET", f"/v1/projects/{pid}/datasets/households"))["code"] == 404.1

    assert api.publish(pid, "register").status_code == 200
    (listed,) = api.ok("GET", f"/v1/projects/{pid}/datasets")
    assert listed["name"] == "households" and listed["projectId"] == pid
    assert listed["approvalRequired"] is False
    dataset = api.ok("GET", f"/v1/projects/{pid}/datasets/households")
    assert [p["name"] for p in dataset["properties"]] == ["hh_name", "Size"]
    assert dataset["properties"][0]["forms"] == [{"xmlFormId": "register", "name": "register"}]
    assert dataset["sourceForms"] == [{"name": "register", "xmlFormId": "register"}]
    assert dataset["draftSourceForms"] == []


def test_datasets_and_properties_created_through_the_api(api):
    pid = api.project()
    created = api.ok("POST", f"/v1/projects/{pid}/datasets", json={"name": "trees"})
    assert created["name"] == "trees" and created["properties"] == []
    assert api.ok(
        "POST", f"/v1/projects/{pid}/datasets/trees/properties", json={"name": "height"}
    ) == {"success": True}
    dataset = api.ok("GET", f"/v1/projects/{pid}/datasets/trees")
    assert [(p["name"], p["odataName"]) for p in dataset["properties"]] == [("height", "height")]


def test_an_existing_dataset_is_409_3(api):
    pid = api.project()
    api.ok("POST", f"/v1/projects/{pid}/datasets", json={"name": "trees"})
    body = problem(api.call("POST", f"/v1/projects/{pid}/datasets", json={"name": "trees"}))
    assert body == {
        "message": f"A resource already exists with name,projectId value(s) of trees,{pid}.",
        "code": 409.3,
        "details": {"fields": ["name", "projectId"], "values": ["trees", pid], "table": "datasets"},
    }


def test_a_dataset_name_differing_only_by_case_is_409_16(api):
    pid = api.project()
    api.ok("POST", f"/v1/projects/{pid}/datasets", json={"name": "households"})
    body = problem(api.call("POST", f"/v1/projects/{pid}/datasets", json={"name": "Households"}))
    assert body == {
        "message": "A dataset named 'households' exists and you provided 'Households' with the "
        "same name but different capitalization.",
        "code": 409.16,
        "details": {"current": "households", "provided": "Households"},
    }
    # A form declaring that name is refused the same way, and nothing is created.
    form = problem(api.form(pid, entity_xform(dataset="Households")))
    assert form["code"] == 409.16
    assert problem(api.call("GET", f"/v1/projects/{pid}/forms/register"))["code"] == 404.1


def test_bad_names_are_400_8(api):
    pid = api.project()
    body = problem(api.call("POST", f"/v1/projects/{pid}/datasets", json={"name": "a.b"}))
    assert body["code"] == 400.8
    assert body["details"] == {
        "field": "name",
        "value": "a.b",
        "reason": "This is not a valid dataset name.",
    }
    api.ok("POST", f"/v1/projects/{pid}/datasets", json={"name": "trees"})
    prop = problem(
        api.call("POST", f"/v1/projects/{pid}/datasets/trees/properties", json={"name": "label"})
    )
    assert (
        prop["code"] == 400.8 and prop["details"]["reason"] == "This is not a valid property name."
    )


def test_a_property_differing_only_by_case_is_409_3_through_the_api(api):
    pid = api.project()
    api.ok("POST", f"/v1/projects/{pid}/datasets", json={"name": "trees"})
    api.ok("POST", f"/v1/projects/{pid}/datasets/trees/properties", json={"name": "Height"})
    body = problem(
        api.call("POST", f"/v1/projects/{pid}/datasets/trees/properties", json={"name": "height"})
    )
    assert body["code"] == 409.3
    assert body["details"]["table"] == "ds_properties"
    assert body["details"]["values"][0] == "Height"


def test_a_form_adding_a_property_differing_only_by_case_is_409_17(api, fake_central):
    pid = api.project()
    api.form(pid, entity_xform())
    api.publish(pid, "register")
    body = problem(api.form(pid, entity_xform("census", properties=("hh_name", "size"))))
    assert body == {
        "message": "This form attempts to create new Entity properties that match with existing "
        "ones except for capitalization.",
        "code": 409.17,
        "details": {"duplicateProperties": [{"current": "Size", "provided": "size"}]},
    }
    assert [f.xml_form_id for f in fake_central.forms(pid)] == ["register"]


def test_a_conflicting_property_published_meanwhile_refuses_the_publish(api):
    """409.17 at publish leaves the form a draft with its version (Central rolls back)."""
    pid = api.project()
    api.ok("POST", f"/v1/projects/{pid}/datasets", json={"name": "households"})
    assert api.form(pid, entity_xform(properties=("hh_name", "size"))).status_code == 200
    api.ok("POST", f"/v1/projects/{pid}/datasets/households/properties", json={"name": "Size"})
    body = problem(api.publish(pid, "register", version="2"))
    assert body["code"] == 409.17
    assert body["details"] == {"duplicateProperties": [{"provided": "size", "current": "Size"}]}
    draft = api.ok("GET", f"/v1/projects/{pid}/forms/register/draft")
    assert draft["publishedAt"] is None and draft["version"] == "1"
    dataset = api.ok("GET", f"/v1/projects/{pid}/datasets/households")
    assert [p["name"] for p in dataset["properties"]] == ["Size"]


def test_two_fields_saving_to_one_property_is_400_25(api):
    pid = api.project()
    body = problem(api.form(pid, entity_xform(properties=("hh_name", "Hh_Name"))))
    assert body == {
        "message": "The entity definition within the form is invalid. Multiple Form Fields "
        "cannot be saved to a single property.",
        "code": 400.25,
        "details": {"reason": "Multiple Form Fields cannot be saved to a single property."},
    }


def test_a_missing_entities_version_is_400_25(api):
    pid = api.project()
    xml = entity_xform().replace(b' entities:entities-version="2024.1.0"', b"")
    body = problem(api.form(pid, xml))
    assert body["code"] == 400.25
    assert body["details"] == {"reason": "Entities specification version is missing."}


def test_a_new_forms_csv_named_after_a_dataset_is_linked_to_it(api):
    """Central links a new form's ``<dataset>.csv`` to the published dataset of that name."""
    pid = api.project()
    api.ok("POST", f"/v1/projects/{pid}/datasets", json={"name": "villages"})
    from pyxform.xls2xform import convert

    md = """
| survey |
| | type | name | label |
| | select_one_from_file villages.csv | village | Village |
| settings |
| | form_id |
| | visit |
"""
    api.form(pid, convert(xlsform=md, file_type=".md").xform.encode())
    (attachment,) = api.ok("GET", f"/v1/projects/{pid}/forms/visit/draft/attachments")
    assert attachment["exists"] and attachment["datasetExists"] and not attachment["blobExists"]
    dataset = api.ok("GET", f"/v1/projects/{pid}/datasets/villages")
    assert dataset["draftLinkedForms"] == [{"name": "visit", "xmlFormId": "visit"}]
