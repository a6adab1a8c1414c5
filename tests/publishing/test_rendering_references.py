"""Per-app-user list names (``_APP_USER``) and the attachments a variant needs."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

import pytest

from tenants.publishing.rendering import VariantSpec, load_source, render_variant, validate_variant
from tests.xlsforms import YES_NO, make_xlsform

XF = "{http://www.w3.org/2002/xforms}"
_JR = re.compile(r"^jr://(?:images|audio|video|file|file-csv)/([^/]+)$")
_SEARCH = re.compile(r"""^\s*(?:\w*\s+)?search\s*\(\s*(["'])(.+?)\1""")


def attachments_central_expects(xform: bytes) -> set[str]:
    """What ODK Central scans an XForm for: instance src, itext media, instance defaults,
    ``<input query>`` (itemsets.csv) and ``search()`` appearances."""
    root = ET.fromstring(xform)  # noqa: S314 - our own pyxform output
    found = set()
    for element in root.iter():
        candidates = [element.get("src") or ""]
        if element.tag == f"{XF}value" and element.get("form"):
            candidates.append(element.text or "")
        if element.text and element.text.startswith("jr://"):
            candidates.append(element.text)
        found.update(m.group(1) for c in candidates if (m := _JR.match(c.strip())))
        if element.tag == f"{XF}input" and element.get("query"):
            found.add("itemsets.csv")
        search = _SEARCH.match(element.get("appearance") or "")
        if search:
            found.add(search.group(2) + ".csv")
    return found


def spec(app_user: str = "alice") -> VariantSpec:
    return VariantSpec(app_user, "Lists", "lists", "7", {"token": "t"})


RICH_SURVEY = [
    {"type": "calculate", "name": "token", "calculation": "''"},
    {
        "type": "text",
        "name": "hh_name",
        "label": "Name",
        "save_to": "full_name",
        "image": "logo.png",
        "media::audio::English (en)": "hello.mp3",
        "label::English (en)": "Name",
    },
    {
        "type": "select_one_from_file households_APP_USER.csv",
        "name": "hh",
        "label": "HH",
        "label::English (en)": "HH",
    },
    {
        "type": "select_multiple_from_file places.xml",
        "name": "pl",
        "label": "P",
        "label::English (en)": "P",
    },
    {
        "type": "select_one_from_file areas.geojson",
        "name": "ar",
        "label": "A",
        "label::English (en)": "A",
    },
    {"type": "csv-external", "name": "crops_APP_USER"},
    {
        "type": "calculate",
        "name": "price",
        "calculation": "pulldata('prices_APP_USER', 'price', 'key', ${hh})",
    },
    {
        "type": "calculate",
        "name": "n_crops",
        "calculation": 'count(instance("crops_APP_USER")/root/item)',
    },
    {
        "type": "select_one yes_no",
        "name": "fruit",
        "label": "F",
        "label::English (en)": "F",
        "appearance": "search('fruits_APP_USER')",
    },
    {
        "type": "image",
        "name": "pic",
        "label": "Pic",
        "label::English (en)": "Pic",
        "default": "default.jpg",
        "parameters": "max-pixels=1024",
    },
    {
        "type": "note",
        "name": "keep_APP_USER",
        "label": "about households_APP_USER",
        "label::English (en)": "x",
        "image": "small.png",
        "big-image": "big.png",
        "video": "clip.mp4",
    },
    {
        "type": "select_one_external city",
        "name": "city",
        "label": "City",
        "label::English (en)": "City",
        "choice_filter": "state=${hh}",
    },
]


@pytest.fixture(scope="module")
def rich():
    data = make_xlsform(
        RICH_SURVEY,
        settings={"form_title": "Lists", "form_id": "lists", "default_language": "default"},
        choices=[{**YES_NO[0], "image": "yes.png"}, YES_NO[1]],
        entities=[{"list_name": "households_APP_USER", "label": "${hh_name}"}],
        extra_sheets={
            "external_choices": [{"list_name": "city", "name": "x", "label": "X", "state": "s"}]
        },
    )
    source = load_source(data)
    rendered = render_variant(source, spec())
    return source, rendered, validate_variant(rendered)


def test_list_names_are_rewritten_where_they_name_lists(rich):
    _, rendered, _ = rich
    survey = {row.get("name"): row for row in rendered.workbook_dict()["survey"]}
    assert survey["hh"]["type"] == "select_one_from_file households_alice.csv"
    assert "crops_alice" in survey and "crops_APP_USER" not in survey
    assert survey["price"]["calculation"] == "pulldata('prices_alice', 'price', 'key', ${hh})"
    assert survey["n_crops"]["calculation"] == 'count(instance("crops_alice")/root/item)'
    assert survey["fruit"]["appearance"] == "search('fruits_alice')"
    assert rendered.workbook_dict()["entities"][0]["list_name"] == "households_alice"


def test_other_app_user_suffixes_are_left_alone(rich):
    _, rendered, _ = rich
    survey = {row.get("name"): row for row in rendered.workbook_dict()["survey"]}
    assert survey["keep_APP_USER"]["label"] == "about households_APP_USER"


def test_renamed_and_entity_lists(rich):
    _, rendered, _ = rich
    assert rendered.entity_lists == ("households_alice",)
    assert rendered.renamed == {
        "households_APP_USER": "households_alice",
        "households_APP_USER.csv": "households_alice.csv",
        "crops_APP_USER": "crops_alice",
        "crops_APP_USER.csv": "crops_alice.csv",
        "prices_APP_USER": "prices_alice",
        "fruits_APP_USER": "fruits_alice",
    }


def test_xform_uses_the_app_users_lists(rich):
    _, _, variant = rich
    xml = variant.xform_xml.decode()
    assert 'dataset="households_alice"' in xml
    assert 'src="jr://file-csv/households_alice.csv"' in xml
    assert 'src="jr://file-csv/crops_alice.csv"' in xml
    assert 'src="jr://file-csv/prices_alice.csv"' in xml
    assert "_APP_USER.csv" not in xml


def test_attachments(rich):
    _, rendered, variant = rich
    assert rendered.attachments == (
        "areas.geojson",
        "big.png",
        "clip.mp4",
        "crops_alice.csv",
        "default.jpg",
        "fruits_alice.csv",
        "hello.mp3",
        "households_alice.csv",
        "itemsets.csv",
        "logo.png",
        "places.xml",
        "prices_alice.csv",
        "small.png",
        "yes.png",
    )
    assert variant.itemsets_csv is not None and b"city" in variant.itemsets_csv


def test_attachments_match_what_central_will_expect(rich):
    _, rendered, variant = rich
    assert set(rendered.attachments) == attachments_central_expects(variant.xform_xml)


def test_each_app_user_gets_its_own_lists(rich):
    source, _, _ = rich
    bob = render_variant(source, spec("bob"))
    assert "households_bob.csv" in bob.attachments
    assert bob.entity_lists == ("households_bob",)
    assert not any("alice" in name for name in bob.attachments)


def test_template_is_not_modified_by_variants(rich):
    source, _, _ = rich
    before = copy.deepcopy(source.sheets)
    for user in ("carol", "dave"):
        validate_variant(render_variant(source, spec(user))).xlsx()
    assert source.sheets == before


def test_select_multiple_from_file_list_is_rewritten():
    rows = [{"type": "select_multiple_from_file sites_APP_USER.xml", "name": "s", "label": "S"}]
    rendered = render_variant(load_source(make_xlsform(rows)), VariantSpec("u1", "T", "t", "1"))
    assert rendered.attachments == ("sites_u1.xml",)
    assert b'src="jr://file/sites_u1.xml"' in validate_variant(rendered).xform_xml


def test_dynamic_media_is_not_an_attachment():
    rows = [
        {"type": "note", "name": "n", "label": "x", "image": "${pic}.png"},
        {"type": "text", "name": "pic", "label": "p"},
    ]
    rendered = render_variant(load_source(make_xlsform(rows)), VariantSpec("u", "T", "t", "1"))
    assert rendered.attachments == ()
