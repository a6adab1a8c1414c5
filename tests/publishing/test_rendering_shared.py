"""The shared conversion gives every app user the same XForm a full conversion would."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from tenants.publishing.rendering import VariantSpec, load_source, render_all
from tests.publishing.test_rendering import evaluate_literal
from tests.xlsforms import YES_NO, make_xlsform, two_hundred_row_form

TRICKY = [
    "plain",
    "it's",
    'say "hi"',
    """both ' and " here""",
    "a  b",
    "${not_a_ref}",
    "x < y & z > w",
    "ünïcødé ✓",
    "a" * 300,
]


def _specs(values: list[str]) -> list[VariantSpec]:
    return [
        VariantSpec(
            app_user=f"user_{i}",
            title_base="Survey",
            form_id_base="survey",
            version="2026-11-25-v3",
            variables={"district": value, "team": f"t{i}"},
        )
        for i, value in enumerate(values)
    ]


def _calculates(xml: bytes) -> dict[str, str]:
    root = ElementTree.fromstring(xml)
    found = {}
    for bind in root.iter("{http://www.w3.org/2002/xforms}bind"):
        nodeset, calculate = bind.get("nodeset", ""), bind.get("calculate")
        if calculate is not None and nodeset.rsplit("/", 1)[-1] in {"district", "team"}:
            found[nodeset.rsplit("/", 1)[-1]] = evaluate_literal(calculate)
    return found


def _comparable(xml: bytes) -> str:
    # Same document apart from how each literal is quoted.
    root = ElementTree.fromstring(xml)
    for bind in root.iter("{http://www.w3.org/2002/xforms}bind"):
        if bind.get("nodeset", "").rsplit("/", 1)[-1] in {"district", "team"}:
            bind.set("calculate", evaluate_literal(bind.get("calculate")))
    return ElementTree.tostring(root, encoding="unicode")


def test_shared_and_full_conversions_agree_for_tricky_values():
    source = load_source(two_hundred_row_form(("district", "team")))
    specs = _specs(TRICKY)
    shared, shared_issues = render_all(source, specs)
    full, full_issues = render_all(source, specs, shared=False)
    assert shared_issues == full_issues == []
    for fast, slow, value in zip(shared, full, TRICKY, strict=True):
        assert _calculates(fast.xform_xml) == _calculates(slow.xform_xml)
        assert _calculates(fast.xform_xml)["district"] == value
        assert _comparable(fast.xform_xml) == _comparable(slow.xform_xml)
        assert fast.attachments == slow.attachments
        assert fast.form_id == slow.form_id and fast.warnings == slow.warnings


def test_values_an_xform_cannot_carry_are_still_refused_per_app_user():
    source = load_source(two_hundred_row_form(("district", "team")))
    specs = _specs(["fine", "tab\there", "fine too"])
    variants, issues = render_all(source, specs)
    assert [v.app_user for v in variants] == ["user_0", "user_2"]
    assert [i.app_user for i in issues] == ["user_1"]


def test_a_broken_template_is_reported_for_every_app_user():
    source = load_source(
        make_xlsform(
            [
                {"type": "calculate", "name": "district", "calculation": "''"},
                {"type": "calculate", "name": "team", "calculation": "''"},
                {"type": "select_one nowhere", "name": "bad", "label": "Bad"},
            ],
            choices=YES_NO,
        )
    )
    variants, issues = render_all(source, _specs(["a", "b"]))
    assert variants == []
    assert sorted({i.app_user for i in issues}) == ["user_0", "user_1"]
    assert all(i.sheet == "survey" and i.row == 4 for i in issues)


@pytest.mark.parametrize("shared", [True, False])
def test_app_user_lists_are_rewritten_in_both_paths(shared):
    source = load_source(two_hundred_row_form(("district", "team")))
    variants, _ = render_all(source, _specs(["a", "b"]), shared=shared)
    assert b"_APP_USER" not in variants[1].xform_xml
    assert b"user_1" in variants[1].xform_xml and b"user_0" not in variants[1].xform_xml
