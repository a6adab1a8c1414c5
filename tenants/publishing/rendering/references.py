"""Per-app-user list names, and the files a form needs attached.

What is rewritten
-----------------
A *list name* is a name that ends in ``_APP_USER`` (upper case) and has at least one
character before it (letters, digits, ``_``, ``-``). In a variant for app user
``alice`` it becomes the same prefix followed by ``_alice``:
``households_APP_USER`` -> ``households_alice``, and with a file extension
``households_APP_USER.csv`` -> ``households_alice.csv``. List names are rewritten only
where they name an entity list or an external data file:

* ``entities`` sheet, ``list_name`` column: the whole cell;
* ``survey`` sheet, ``type`` column: the file of ``select_one_from_file`` /
  ``select_multiple_from_file`` (``.csv``, ``.xml``, ``.geojson``);
* ``survey`` sheet, ``name`` column of ``csv-external`` / ``xml-external`` rows (the
  instance name, whose file is ``<name>.csv`` / ``<name>.xml``);
* in any other cell of the ``survey`` and ``entities`` sheets, the quoted first
  argument of ``pulldata(...)``, ``instance(...)`` and ``search(...)``.

Anything else that merely ends in ``_APP_USER`` (a question name, a label, a media
file) is left alone: renaming it would change the form's data, not its lists.

What is attached
----------------
Media columns (``image``, ``big-image``, ``audio``, ``video``, with or without
``media::`` and a language) on the survey and choices sheets, the ``default`` of image
questions, ``select_*_from_file`` files, ``csv-external``/``xml-external`` instances,
``pulldata('x', ...)`` (``x.csv``) in the columns where pyxform creates its instance,
``search('x')`` appearances (``x.csv``), and ``itemsets.csv`` when the form uses
``select_one_external``. Values holding a ``${...}`` reference are dynamic and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from pyxform import aliases
from pyxform import constants as pc

from .source import Sheet

SUFFIX = "_APP_USER"
_LIST = r"[A-Za-z0-9_-]+?" + SUFFIX
_FILE_EXT = r"\.(?:csv|xml|geojson)"
_FROM_FILE_TYPES = "|".join(re.escape(t) for t in aliases.select_from_file)
_RE_FROM_FILE = re.compile(rf"^(?P<cmd>{_FROM_FILE_TYPES})\s+(?P<file>\S+)\s*$")
_RE_FROM_FILE_LIST = re.compile(rf"^((?:{_FROM_FILE_TYPES})\s+)({_LIST})({_FILE_EXT})(\s*)$")
_RE_LIST_EXACT = re.compile(rf"^{_LIST}$")
_RE_CALL_LIST = re.compile(
    rf"""((?<![\w.:-])(?:pulldata|instance|search)\s*\(\s*(['"]))({_LIST})(\2)"""
)
_RE_PULLDATA = re.compile(r"""pulldata\s*\(\s*(['"])([^'"]+)\1""")
_RE_SEARCH = re.compile(r"""(?<![\w-])search\s*\(\s*(['"])([^'"]+)\1""")
EXTERNAL_INSTANCE_FILES = {"csv-external": ".csv", "xml-external": ".xml"}
ITEMSETS_FILE = "itemsets.csv"


def for_app_user(name: str, app_user: str) -> str:
    """``households_APP_USER`` -> ``households_alice`` (the caller checked the suffix)."""
    return name[: -len(SUFFIX)] + "_" + app_user


def rewrite_cell(
    sheet_key: str, meaning: tuple[str, ...], value: str, row_type: str, app_user: str
) -> tuple[str, dict[str, str]]:
    """Return the cell's value for ``app_user`` and the names it renamed (old -> new)."""
    renamed: dict[str, str] = {}

    def rename(name: str) -> str:
        renamed[name] = for_app_user(name, app_user)
        return renamed[name]

    head = meaning[0] if meaning else ""
    if sheet_key == pc.ENTITIES and head == "dataset":
        return (rename(value) if _RE_LIST_EXACT.match(value) else value), renamed
    if sheet_key == pc.SURVEY and head == pc.TYPE:
        found = _RE_FROM_FILE_LIST.match(value)
        if found:
            cmd, name, ext, tail = found.groups()
            renamed[name + ext] = for_app_user(name, app_user) + ext
            return cmd + rename(name) + ext + tail, renamed
        return value, renamed
    if sheet_key == pc.SURVEY and head == pc.NAME:
        if row_type in EXTERNAL_INSTANCE_FILES and _RE_LIST_EXACT.match(value):
            ext = EXTERNAL_INSTANCE_FILES[row_type]
            renamed[value + ext] = for_app_user(value, app_user) + ext
            return rename(value), renamed
        return value, renamed
    new = _RE_CALL_LIST.sub(lambda m: m.group(1) + rename(m.group(3)) + m.group(4), value)
    return new, renamed


def may_rewrite(value: str) -> bool:
    """Cheap pre-filter run once per cell at load time."""
    return SUFFIX in value


def _static(value: str) -> bool:
    return "${" not in value


def _media_values(sheet: Sheet | None) -> Iterable[str]:
    if sheet is None:
        return
    headers = sheet.headers_for("media")
    for row in sheet.rows:
        for header in headers:
            value = row.get(header)
            if value:
                yield value


def find_attachments(
    sheets: dict[str, Sheet], row_value: Callable[[str, int, dict, str], str | None]
) -> set[str]:
    """Names of the files the form refers to; ``row_value`` reads a (rewritten) cell."""
    found = {v for v in _media_values(sheets.get(pc.CHOICES)) if _static(v)}
    survey = sheets[pc.SURVEY]
    media = survey.headers_for("media")
    type_h = survey.header_for(pc.TYPE)
    name_h = survey.header_for(pc.NAME)
    default_h = survey.header_for("default")
    appearance_h = survey.header_for("control", "appearance")
    pulldata_hs = [
        h
        for h, t in survey.tokens.items()
        if (t[0] == "bind" and len(t) > 1 and t[1] in pc.EXTERNAL_INSTANCES)
        or t[0] in (pc.CHOICE_FILTER, "default")
    ]

    def get(index: int, row: dict, header: str | None) -> str:
        return (row_value(pc.SURVEY, index, row, header) or "") if header else ""

    for index, row in enumerate(survey.rows):
        if not row:
            continue
        row_type = get(index, row, type_h)
        found.update(v for h in media if (v := row.get(h)) and _static(v))
        from_file = _RE_FROM_FILE.match(row_type)
        if from_file:
            found.add(from_file.group("file"))
        elif row_type in EXTERNAL_INSTANCE_FILES:
            found.add(get(index, row, name_h) + EXTERNAL_INSTANCE_FILES[row_type])
        elif row_type == "select_one_external":
            found.add(ITEMSETS_FILE)
        elif aliases._type_alias_map.get(row_type, row_type) == "photo":
            default = get(index, row, default_h)
            if default and _static(default):
                found.add(default.removeprefix("jr://images/"))
        for header in pulldata_hs:
            found.update(
                m.group(2).strip() + ".csv" for m in _RE_PULLDATA.finditer(get(index, row, header))
            )
        appearance = get(index, row, appearance_h)
        found.update(m.group(2).strip() + ".csv" for m in _RE_SEARCH.finditer(appearance))
    found.discard("")
    found.discard(".csv")
    return found
