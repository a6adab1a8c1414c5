"""Rendering and validating per-app-user variants: values, settings, errors, warnings."""

from __future__ import annotations

import copy
import hashlib
import re
import xml.etree.ElementTree as ET

import pytest

from tenants.publishing.rendering import (
    Issue,
    TemplateError,
    VariantSpec,
    load_source,
    render_all,
    render_variant,
    template_variables,
    validate_variant,
    xpath_string_literal,
)
from tests.xlsforms import YES_NO, make_xlsform, two_hundred_row_form

XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
_LITERAL = re.compile(r"""'[^']*'|"[^"]*\"""")


def evaluate_literal(expr: str) -> str:
    """Evaluate an XPath string literal or concat() of literals, strictly."""
    expr = expr.strip()
    if expr.startswith("concat(") and expr.endswith(")"):
        inner = expr[len("concat(") : -1]
        parts = _LITERAL.findall(inner)
        assert ", ".join(parts) == inner, f"not only literals: {expr!r}"
        assert len(parts) >= 2
        return "".join(p[1:-1] for p in parts)
    assert _LITERAL.fullmatch(expr), f"not a literal: {expr!r}"
    return expr[1:-1]


def calculate_of(xform: bytes, name: str) -> str:
    root = ET.fromstring(xform)  # noqa: S314 - our own pyxform output
    for bind in root.iter(f"{XF}bind"):
        if bind.get("nodeset") == f"/data/{name}":
            return bind.get("calculate")
    raise AssertionError(f"no bind for {name}")


def spec(app_user: str = "alice", **variables: str) -> VariantSpec:
    return VariantSpec(
        app_user=app_user,
        title_base="Household survey",
        form_id_base="household",
        version="2024061501",
        variables=variables,
    )


VARIABLE_ROWS = [
    {"type": "calculate", "name": "token", "calculation": "''"},
    {"type": "calculate", "name": "server", "calculation": "''"},
    {"type": "text", "name": "q1", "label": "Name"},
    {"type": "note", "name": "n1", "label": "Token ${token}"},
]


@pytest.fixture(scope="module")
def simple_source():
    return load_source(make_xlsform(VARIABLE_ROWS, settings={"form_title": "X", "form_id": "x"}))


# --- literals ------------------------------------------------------------------------

NASTY = [
    "",
    "plain",
    "it's",
    'say "hi"',
    """both ' and " kinds""",
    """'"'"'""",
    "two  spaces   and more",
    " leading and trailing ",
    "${token} is not a reference",
    "$ { $${ }",
    "<tag attr='x'> & ampersand &amp;",
    "unicode é 中文 🙂",
    "concat('a', 'b')",
    "x" * 5000,
]


@pytest.mark.parametrize("value", NASTY)
def test_xpath_string_literal_round_trips(value):
    assert evaluate_literal(xpath_string_literal(value)) == value


def test_xpath_string_literal_shapes():
    assert xpath_string_literal("abc") == "'abc'"
    assert xpath_string_literal("it's") == '"it\'s"'
    assert xpath_string_literal("""a'b"c""") == """concat("a'b", '"c')"""


@pytest.mark.parametrize(
    "value", ["a\nb", "tab\there", "it’s", "“quoted”", "nb\u00a0sp", "bell\x07"]
)
def test_xpath_string_literal_refuses_values_that_cannot_arrive_unchanged(value):
    with pytest.raises(ValueError, match="contains"):
        xpath_string_literal(value)


@pytest.mark.parametrize("value", NASTY)
def test_values_reach_the_xform_exactly(simple_source, value):
    variant = validate_variant(render_variant(simple_source, spec(token=value, server="s")))
    assert evaluate_literal(calculate_of(variant.xform_xml, "token")) == value


def test_sha256_values(simple_source):
    digest = hashlib.sha256(b"secret").hexdigest()
    variant = validate_variant(render_variant(simple_source, spec(token=digest, server=digest)))
    assert calculate_of(variant.xform_xml, "token") == f"'{digest}'"
    assert calculate_of(variant.xform_xml, "server") == f"'{digest}'"


def test_value_too_long_for_a_cell(simple_source):
    with pytest.raises(TemplateError, match="too long"):
        render_variant(simple_source, spec(token="x" * 40000))


def test_unrepresentable_value_is_an_issue_at_its_row(simple_source):
    with pytest.raises(TemplateError) as caught:
        render_variant(simple_source, spec(token="line\nbreak"))
    [issue] = caught.value.issues
    assert (issue.sheet, issue.row, issue.column, issue.app_user) == (
        "survey",
        2,
        "calculation",
        "alice",
    )
    assert "token" in issue.message and "line break" in issue.message


# --- variables and settings ------------------------------------------------------------


def test_missing_variable_names_the_variable_and_the_sheet(simple_source):
    with pytest.raises(TemplateError) as caught:
        render_variant(simple_source, spec(token="t", nope="1", other="2"))
    messages = [i.message for i in caught.value.issues]
    assert len(messages) == 2
    assert all("'survey' sheet" in m for m in messages)
    assert any("'nope'" in m for m in messages) and any("'other'" in m for m in messages)
    assert {i.app_user for i in caught.value.issues} == {"alice"}


def test_template_variables_are_calculate_rows(simple_source):
    assert template_variables(simple_source) == {"token", "server"}


def test_title_form_id_and_version(simple_source):
    rendered = render_variant(simple_source, spec(token="t"))
    assert rendered.form_id == "household_alice"
    assert rendered.title == "Household survey [alice]"
    assert rendered.version == "2024061501"
    root = ET.fromstring(validate_variant(rendered).xform_xml)  # noqa: S314 - our own output
    assert root.find(f"{H}head/{H}title").text == "Household survey [alice]"
    data = root.find(f"{H}head/{XF}model/{XF}instance/{XF}data")
    assert data.get("id") == "household_alice"
    assert data.get("version") == "2024061501"


def test_missing_settings_sheet_is_created():
    source = load_source(make_xlsform(VARIABLE_ROWS))
    assert "settings" not in source.sheets
    rendered = render_variant(source, spec(token="t"))
    assert rendered.workbook_dict()["settings"] == [
        {
            "form_title": "Household survey [alice]",
            "form_id": "household_alice",
            "version": "2024061501",
        }
    ]
    root = ET.fromstring(validate_variant(rendered).xform_xml)  # noqa: S314 - our own output
    assert root.find(f"{H}head/{XF}model/{XF}instance/{XF}data").get("id") == "household_alice"


def test_legacy_settings_columns_are_reused():
    source = load_source(
        make_xlsform(VARIABLE_ROWS, settings={"title": "Old", "id_string": "old", "style": "pages"})
    )
    settings = render_variant(source, spec(token="t")).workbook_dict()["settings"]
    assert settings == [
        {
            "title": "Household survey [alice]",
            "id_string": "household_alice",
            "style": "pages",
            "version": "2024061501",
        }
    ]


def test_survey_without_calculation_column_gets_one():
    rows = [{"type": "calculate", "name": "token"}, {"type": "text", "name": "q", "label": "Q"}]
    rendered = render_variant(load_source(make_xlsform(rows)), spec(token="v"))
    assert rendered.workbook_dict()["survey"][0] == {
        "type": "calculate",
        "name": "token",
        "calculation": "'v'",
    }
    assert calculate_of(validate_variant(rendered).xform_xml, "token") == "'v'"


def test_template_rows_are_shared_and_never_modified(simple_source):
    before = copy.deepcopy(simple_source.sheets)
    for user in ("alice", "bob"):
        validate_variant(render_variant(simple_source, spec(user, token=user, server="s")))
    assert simple_source.sheets == before


def test_variants_differ_only_in_their_values(simple_source):
    alice = validate_variant(render_variant(simple_source, spec("alice", token="a")))
    bob = validate_variant(render_variant(simple_source, spec("bob", token="b")))
    assert alice.xform_xml.replace(b"alice", b"bob").replace(b"'a'", b"'b'") == bob.xform_xml


# --- errors and warnings -----------------------------------------------------------------


def test_bad_choice_list_is_located_and_attributed():
    rows = [*VARIABLE_ROWS, {"type": "select_one colours", "name": "c", "label": "Colour"}]
    source = load_source(make_xlsform(rows, choices=YES_NO))
    with pytest.raises(TemplateError) as caught:
        validate_variant(render_variant(source, spec(token="t")))
    [issue] = caught.value.issues
    assert (issue.sheet, issue.row, issue.app_user) == ("survey", 6, "alice")
    assert "colours" in issue.message


def test_invalid_name_is_located():
    rows = [*VARIABLE_ROWS, {"type": "text", "name": "bad name", "label": "Q"}]
    with pytest.raises(TemplateError) as caught:
        validate_variant(render_variant(load_source(make_xlsform(rows)), spec(token="t")))
    [issue] = caught.value.issues
    assert (issue.sheet, issue.row, issue.column) == ("survey", 6, "name")
    assert "Names must begin with a letter" in issue.message


def test_choices_sheet_error_is_located_on_the_choices_sheet():
    choices = [*YES_NO, {"list_name": "yes_no", "name": "yes", "label": "Again"}]
    rows = [*VARIABLE_ROWS, {"type": "select_one yes_no", "name": "c", "label": "C"}]
    with pytest.raises(TemplateError) as caught:
        validate_variant(
            render_variant(load_source(make_xlsform(rows, choices=choices)), spec(token="t"))
        )
    [issue] = caught.value.issues
    assert (issue.sheet, issue.row) == ("choices", 4)


def test_error_naming_an_element_is_located_by_name():
    rows = [*VARIABLE_ROWS, {"type": "note", "name": "pic", "label": "x", "big-image": "b.png"}]
    with pytest.raises(TemplateError) as caught:
        validate_variant(render_variant(load_source(make_xlsform(rows)), spec(token="t")))
    assert caught.value.issues[0].row == 6


def test_warnings_are_kept_not_fatal():
    rows = [*VARIABLE_ROWS, {"type": "text", "name": "q2", "label::English": "Q"}]
    variant = validate_variant(render_variant(load_source(make_xlsform(rows)), spec(token="t")))
    assert any("machine-readable codes" in w for w in variant.warnings)
    assert variant.xform_xml.startswith(b"<?xml")
    assert all(isinstance(i, Issue) for i in variant.warning_issues())


def test_render_all_collects_every_issue_per_app_user(simple_source):
    specs = [
        spec("alice", token="a"),
        spec("bob", token="b", missing="x"),
        spec("carol", token="bad\tvalue"),
        spec("dave smith", token="d"),
        spec("alice", token="again"),
    ]
    variants, issues = render_all(simple_source, specs)
    assert [v.app_user for v in variants] == ["alice", "alice"]
    by_user = {}
    for issue in issues:
        by_user.setdefault(issue.app_user, []).append(issue)
    assert set(by_user) == {"alice", "bob", "carol", "dave smith"}
    assert "Duplicate" in by_user["alice"][0].message
    assert "'missing'" in by_user["bob"][0].message
    assert by_user["carol"][0].row == 2
    assert "letters, digits" in by_user["dave smith"][0].message


def test_pyxform_errors_for_each_app_user_are_all_reported():
    rows = [*VARIABLE_ROWS, {"type": "select_one nope", "name": "c", "label": "C"}]
    source = load_source(make_xlsform(rows, choices=YES_NO))
    variants, issues = render_all(source, [spec(u, token=u) for u in ("a", "b", "c")])
    assert variants == []
    assert [(i.app_user, i.row) for i in issues] == [("a", 6), ("b", 6), ("c", 6)]


# --- broken workbooks -----------------------------------------------------------------------


def test_not_an_xlsx():
    with pytest.raises(TemplateError) as caught:
        load_source(b"this is not a workbook")
    assert caught.value.issues[0].sheet is None


def test_no_survey_sheet():
    data = make_xlsform(
        [{"type": "text", "name": "q"}], survey_title="surveys", extra_sheets={"choices": YES_NO}
    )
    with pytest.raises(TemplateError) as caught:
        load_source(data)
    assert caught.value.issues[0].sheet == "survey"
    assert "'surveys'" in caught.value.issues[0].message


def test_invalid_headers_are_located_on_row_one():
    data = make_xlsform(
        [{"type": "text", "name": "q", "label": "Q", "label::English": "Q"}],
        choices=[
            {
                "list_name": "l",
                "name": "a",
                "label": "A",
                "label::English": "A",
                "Label::English": "B",
            }
        ],
    )
    source = load_source(data)
    with pytest.raises(TemplateError) as caught:
        validate_variant(render_variant(source, spec()))
    [issue] = caught.value.issues
    assert (issue.sheet, issue.row) == ("choices", 1)


def test_lone_sheet_of_any_name_is_the_survey():
    source = load_source(make_xlsform(VARIABLE_ROWS, survey_title="Sheet1"))
    assert source.survey.title == "Sheet1"


def test_missing_name_column():
    with pytest.raises(TemplateError) as caught:
        load_source(make_xlsform([{"type": "text", "label": "Q"}]))
    [issue] = caught.value.issues
    assert (issue.sheet, issue.row, issue.column) == ("survey", 1, "name")


def test_duplicate_header():
    data = make_xlsform([["type", "name", "label", "label"], ["text", "q", "a", "b"]])
    with pytest.raises(TemplateError) as caught:
        load_source(data)
    assert caught.value.issues[0].row == 1
    assert "Duplicate column header" in caught.value.issues[0].message


def test_two_hundred_row_form_renders_and_validates():
    source = load_source(two_hundred_row_form(["v1", "v2", "v3", "v4", "v5"]))
    assert len(source.survey.rows) == 200
    variants, issues = render_all(source, [spec(f"user{i}", v1="a'b\"c", v5="x") for i in range(3)])
    assert issues == []
    assert [v.form_id for v in variants] == [
        "household_user0",
        "household_user1",
        "household_user2",
    ]
    assert evaluate_literal(calculate_of(variants[0].xform_xml, "v1")) == "a'b\"c"
