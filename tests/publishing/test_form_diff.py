"""The version diff as a pure function: survey rows, choices and settings (no database)."""

from __future__ import annotations

from tenants.publishing.form_diff import (
    KeyedRow,
    diff_rows,
    form_diff,
    survey_rows,
)
from tenants.publishing.rendering import load_source
from tests.xlsforms import YES_NO, make_xlsform

SURVEY = [
    {"type": "text", "name": "respondent", "label": "Name"},
    {"type": "begin group", "name": "household", "label": "Household"},
    {"type": "integer", "name": "size", "label": "People"},
    {"type": "select_one yes_no", "name": "water", "label": "Water?"},
    {"type": "end group"},
    {"type": "note", "label": "Thanks"},
]
SETTINGS = {"form_title": "Household", "form_id": "household", "version": "1"}


def _diff(
    old_rows,
    new_rows,
    *,
    old_settings=SETTINGS,
    new_settings=SETTINGS,
    old_choices=YES_NO,
    new_choices=YES_NO,
):
    old = load_source(make_xlsform(old_rows, settings=old_settings, choices=old_choices))
    new = load_source(make_xlsform(new_rows, settings=new_settings, choices=new_choices))
    return form_diff(old, new)


def _keys(changes):
    return [c.key for c in changes]


def test_the_same_form_is_identical():
    diff = _diff(SURVEY, SURVEY)

    assert diff.identical
    assert diff.as_dict()["survey"] == {"added": [], "removed": [], "changed": []}


def test_survey_rows_added_removed_and_changed_are_matched_by_name():
    new = [dict(r) for r in SURVEY]
    new[2]["label"] = "People living here"  # size: changed label
    new[2]["constraint"] = ". > 0"  # and a new cell
    del new[3]  # water: removed
    new.insert(1, {"type": "date", "name": "visit_date", "label": "Date"})  # added, shifts rows

    survey = _diff(SURVEY, new).survey

    assert _keys(survey.added) == ["visit_date"]
    assert survey.added[0].new_row == 3 and survey.added[0].old_row is None
    assert _keys(survey.removed) == ["water"]
    assert survey.removed[0].old_row == 5 and survey.removed[0].new is None
    assert _keys(survey.changed) == ["size"]
    size = survey.changed[0]
    assert (size.old_row, size.new_row) == (4, 5)
    assert {(c.column, c.old, c.new) for c in size.cells} == {
        ("label", "People", "People living here"),
        ("constraint", None, ". > 0"),
    }
    assert not size.moved  # shifted by an insertion, not reordered


def test_nameless_rows_are_matched_by_type_and_occurrence():
    new = [dict(r) for r in SURVEY]
    new[-1]["label"] = "Thank you"

    survey = _diff(SURVEY, new).survey

    assert _keys(survey.changed) == ["note#1"]
    assert not survey.added and not survey.removed  # "end group#1" matched, unchanged


def test_a_reordered_row_is_marked_moved():
    new = [SURVEY[0], SURVEY[1], SURVEY[3], SURVEY[2], *SURVEY[4:]]  # water before size

    survey = _diff(SURVEY, new).survey

    assert len(survey.changed) == 1 and survey.changed[0].moved
    assert survey.changed[0].cells == ()
    assert survey.changed[0].key in ("size", "water")


def test_formatting_and_column_order_are_not_changes():
    padded = [{"label": r.get("label"), **r} for r in SURVEY]  # label column first
    padded[0] = {**padded[0], "label": "  Name  "}  # pyxform trims cells

    assert _diff(SURVEY, padded).identical


def test_choices_are_matched_by_list_name_and_name():
    old_choices = [*YES_NO, {"list_name": "other", "name": "yes", "label": "Yes!"}]
    new_choices = [
        {"list_name": "yes_no", "name": "yes", "label": "Yes"},
        {"list_name": "yes_no", "name": "no", "label": "No way"},
        {"list_name": "yes_no", "name": "dk", "label": "Don't know"},
    ]

    choices = _diff(SURVEY, SURVEY, old_choices=old_choices, new_choices=new_choices).choices

    assert [(c.list_name, c.key) for c in choices.added] == [("yes_no", "dk")]
    assert [(c.list_name, c.key) for c in choices.removed] == [("other", "yes")]
    assert [(c.list_name, c.key) for c in choices.changed] == [("yes_no", "no")]
    assert [(c.column, c.old, c.new) for c in choices.changed[0].cells] == [
        ("label", "No", "No way")
    ]


def test_settings_added_removed_and_changed_by_column():
    new_settings = {"version": "2", "form_id": "household", "default_language": "English"}

    settings = _diff(SURVEY, SURVEY, new_settings=new_settings).settings

    assert _keys(settings.added) == ["default_language"]
    assert _keys(settings.removed) == ["form_title"]
    assert _keys(settings.changed) == ["version"]
    assert settings.changed[0].cells[0].old == "1" and settings.changed[0].cells[0].new == "2"
    assert not any(c.moved for c in settings.changed)  # column order means nothing


def test_repeated_names_are_matched_by_occurrence():
    old = [KeyedRow("age", 2, {"name": "age", "label": "A"})]
    new = [
        KeyedRow("age", 2, {"name": "age", "label": "A"}),
        KeyedRow("age#2", 3, {"name": "age", "label": "B"}),
    ]
    keyed = survey_rows([{"type": "integer", "name": "age"}, {"type": "text", "name": "age"}])

    assert [k.key for k in keyed] == ["age", "age#2"]
    assert _keys(diff_rows(old, new).added) == ["age#2"]


def test_entries_read_in_sheet_order_with_removed_rows_where_they_were():
    old = [KeyedRow(k, i + 2, {"name": k}) for i, k in enumerate(["a", "b", "c", "d"])]
    new = [
        KeyedRow("a", 2, {"name": "a", "label": "changed"}),
        KeyedRow("x", 3, {"name": "x"}),
        KeyedRow("c", 4, {"name": "c"}),
        KeyedRow("d", 5, {"name": "d", "label": "changed"}),
    ]

    entries = diff_rows(old, new).entries()

    assert [(e.key, e.status) for e in entries] == [
        ("a", "changed"),
        ("b", "removed"),  # was after a, which is first in the new sheet
        ("x", "added"),
        ("d", "changed"),
    ]
