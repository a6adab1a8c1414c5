"""The variant workbooks kept in storage: same form as the XForm sent, author's formatting kept."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl.styles import Font
from pyxform.xls2xform import convert

from tenants.publishing.rendering import (
    VariantSpec,
    load_source,
    render_all,
    render_variant,
    validate_variant,
    xlsx_patch,
)
from tests.xlsforms import YES_NO, make_xlsform, two_hundred_row_form

from .test_rendering import NASTY, VARIABLE_ROWS


@pytest.fixture
def fallbacks(monkeypatch):
    """Count the variants written by the slow openpyxl path instead of patching."""
    calls = []
    real = xlsx_patch._write_with_openpyxl

    def spy(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(xlsx_patch, "_write_with_openpyxl", spy)
    return calls


SPEC = VariantSpec("alice", "Survey", "survey", "3", {"token": """a'b"c  d ${x} <&>"""})


def assert_round_trip(data: bytes, spec: VariantSpec = SPEC) -> bytes:
    """Converting the stored .xlsx gives exactly the XForm that was validated and sent."""
    variant = validate_variant(render_variant(load_source(data), spec))
    workbook = variant.xlsx()
    assert convert(workbook).xform.encode() == variant.xform_xml
    return workbook


def test_round_trip_with_settings(fallbacks):
    assert_round_trip(make_xlsform(VARIABLE_ROWS, settings={"form_title": "X", "form_id": "x"}))
    assert fallbacks == []


def test_round_trip_creates_settings_sheet(fallbacks):
    workbook = openpyxl.load_workbook(io.BytesIO(assert_round_trip(make_xlsform(VARIABLE_ROWS))))
    assert fallbacks == []
    assert workbook.sheetnames == ["survey", "settings"]
    assert [c.value for c in workbook["settings"][1]] == ["form_title", "form_id", "version"]
    assert [c.value for c in workbook["settings"][2]] == ["Survey [alice]", "survey_alice", "3"]


def test_lone_sheet_is_renamed_survey_when_settings_are_added():
    workbook = openpyxl.load_workbook(
        io.BytesIO(assert_round_trip(make_xlsform(VARIABLE_ROWS, survey_title="Sheet1")))
    )
    assert workbook.sheetnames == ["survey", "settings"]


def test_same_variant_same_bytes():
    source = load_source(make_xlsform(VARIABLE_ROWS))
    assert render_variant(source, SPEC).xlsx() == render_variant(source, SPEC).xlsx()


def test_round_trip_adds_calculation_column():
    rows = [{"type": "calculate", "name": "token"}, {"type": "text", "name": "q", "label": "Q"}]
    workbook = openpyxl.load_workbook(io.BytesIO(assert_round_trip(make_xlsform(rows))))
    assert [c.value for c in workbook["survey"][1]] == ["type", "name", "label", "calculation"]


def test_round_trip_adds_missing_settings_columns():
    data = make_xlsform(VARIABLE_ROWS, settings={"style": "pages"})
    workbook = openpyxl.load_workbook(io.BytesIO(assert_round_trip(data)))
    assert [c.value for c in workbook["settings"][1]] == [
        "style",
        "form_title",
        "form_id",
        "version",
    ]


@pytest.mark.parametrize("value", NASTY)
def test_round_trip_values(value):
    data = make_xlsform(VARIABLE_ROWS)
    assert_round_trip(data, VariantSpec("bob", "T", "t", "1", {"token": value, "server": value}))


def test_round_trip_two_hundred_rows_and_lists():
    assert_round_trip(two_hundred_row_form(["token", "b"]))


def test_formatting_and_other_sheets_are_kept():
    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "calculation"])
    for row in VARIABLE_ROWS:
        survey.append([row.get("type"), row.get("name"), row.get("label"), row.get("calculation")])
    for cell in survey[1]:
        cell.font = Font(bold=True)
    survey.column_dimensions["C"].width = 42
    survey.freeze_panes = "A2"
    survey["D2"].font = Font(italic=True)
    notes = workbook.create_sheet("notes")
    notes["A1"] = "Written by the author"
    out = io.BytesIO()
    workbook.save(out)

    result = openpyxl.load_workbook(io.BytesIO(assert_round_trip(out.getvalue())))
    survey = result["survey"]
    assert all(cell.font.bold for cell in survey[1])
    assert survey.column_dimensions["C"].width == 42
    assert survey.freeze_panes == "A2"
    assert survey["D2"].font.italic  # the changed cell keeps its style
    assert survey["D2"].value == """concat("a'b", '"c ', ' d $', '{x} <&>')"""
    assert result["notes"]["A1"].value == "Written by the author"


def _rewrite_part(data: bytes, part: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            target.writestr(info, change(body) if info.filename == part else body)
    return out.getvalue()


def test_cells_without_references_fall_back_to_openpyxl(fallbacks):
    data = make_xlsform(VARIABLE_ROWS)
    data = _rewrite_part(
        data, "xl/worksheets/sheet1.xml", lambda b: re.sub(rb'<c r="[A-Z]+\d+"', b"<c", b)
    )
    assert_round_trip(data)
    assert len(fallbacks) == 1


def test_formula_in_a_changed_cell_falls_back_to_openpyxl(fallbacks):
    rows = [{**VARIABLE_ROWS[0], "calculation": "=\"'x'\""}, *VARIABLE_ROWS[1:]]
    workbook = openpyxl.load_workbook(io.BytesIO(assert_round_trip(make_xlsform(rows))))
    assert len(fallbacks) == 1
    assert workbook["survey"]["C2"].data_type == "s"


def test_render_all_in_processes_matches_one_process():
    source = load_source(make_xlsform(VARIABLE_ROWS, choices=YES_NO))
    specs = [VariantSpec(f"u{i}", "T", "t", "1", {"token": str(i)}) for i in range(4)]
    specs.append(VariantSpec("bad", "T", "t", "1", {"missing": "x"}))
    serial, serial_issues = render_all(source, specs)
    pooled, pooled_issues = render_all(source, specs, processes=2)
    assert serial_issues == pooled_issues and len(serial_issues) == 1
    assert [v.xform_xml for v in serial] == [v.xform_xml for v in pooled]
    assert [v.xlsx() for v in serial] == [v.xlsx() for v in pooled]
    assert [v.attachments for v in serial] == [v.attachments for v in pooled]
