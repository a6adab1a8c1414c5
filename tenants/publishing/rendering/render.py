"""Make one app user's variant of a template: the cells that differ, nothing else.

A variant is a small set of edits over the shared, parsed template (variables' values,
settings, per-app-user list names). Its pyxform input and its .xlsx are both built from
those edits on demand, so a variant costs a few dicts until it is validated or stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyxform import constants as pc

from . import references, xlsx_patch
from .errors import Issue, TemplateError
from .literals import XML_ILLEGAL, xpath_string_literal
from .source import Sheet, SourceForm, read_workbook

APP_USER_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
MAX_CELL_CHARS = 32767  # Excel's limit for one cell's text
_NEW_HEADERS = {"title": "form_title", "id_string": "form_id", "version": "version"}

Edits = dict[str, dict[int, dict[str, str]]]  # sheet key -> row index -> header -> value


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """What makes one app user's form: final values, already hashed by the caller if need be."""

    app_user: str
    title_base: str
    form_id_base: str
    version: str
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where edits go, worked out once per template."""

    rewrite_cells: tuple[tuple[str, int, str], ...]  # (sheet key, row index, header)
    rows_by_name: dict[str, tuple[int, ...]]
    calculate_names: frozenset[str]
    calc_header: str | None
    settings_headers: dict[str, str | None]  # pyxform meaning -> existing header
    xlsx: xlsx_patch.XlsxTemplate | None


def load_source(data: bytes) -> SourceForm:
    """Parse an .xlsx template once and prepare everything variants share.

    Raises TemplateError (sheet, row, reason) for unreadable or structurally broken
    workbooks: not an .xlsx, no survey sheet, no type or name column, duplicate headers.
    """
    source = read_workbook(data)
    _plan(source)
    return source


def _plan(source: SourceForm) -> _Plan:
    plan = source.cache.get("plan")
    if plan is not None:
        return plan
    survey = source.survey
    name_h = survey.header_for(pc.NAME)
    type_h = survey.header_for(pc.TYPE)
    rows_by_name: dict[str, list[int]] = {}
    calculate = set()
    for index, row in enumerate(survey.rows):
        name = row.get(name_h)
        if name:
            rows_by_name.setdefault(name, []).append(index)
            if row.get(type_h) == "calculate":
                calculate.add(name)
    rewrite = []
    for key in (pc.SURVEY, pc.ENTITIES):
        sheet = source.sheets.get(key)
        if sheet is None:
            continue
        for index, row in enumerate(sheet.rows):
            rewrite.extend((key, index, h) for h, v in row.items() if references.may_rewrite(v))
    settings = source.sheets.get(pc.SETTINGS)
    plan = _Plan(
        rewrite_cells=tuple(rewrite),
        rows_by_name={k: tuple(v) for k, v in rows_by_name.items()},
        calculate_names=frozenset(calculate),
        calc_header=survey.header_for("bind", "calculate"),
        settings_headers={meaning: _settings_header(settings, meaning) for meaning in _NEW_HEADERS},
        xlsx=xlsx_patch.prepare(source.data),
    )
    source.cache["plan"] = plan
    return plan


def _settings_header(settings: Sheet | None, meaning: str) -> str | None:
    """The settings column pyxform reads ``meaning`` from (form_id wins over id_string)."""
    if settings is None:
        return None
    headers = settings.headers_for(meaning)
    preferred = [h for h in headers if h != "id_string"]
    return (preferred or headers or [None])[0]


def template_variables(source: SourceForm) -> set[str]:
    """Names of the survey's ``calculate`` rows: the rows a variable can be written into."""
    return set(_plan(source).calculate_names)


@dataclass(eq=False)
class RenderedVariant:
    """One app user's form before validation: identity, attachments and its two outputs."""

    app_user: str
    form_id: str
    title: str
    version: str
    attachments: tuple[str, ...]  # sorted file names the form refers to
    entity_lists: tuple[str, ...]  # entity lists the form declares (entities sheet)
    renamed: dict[str, str]  # per-app-user names: template name -> this variant's
    _source: SourceForm | None = field(repr=False)
    _edits: Edits = field(repr=False)
    _new_headers: dict[str, list[str]] = field(repr=False)
    _xlsx: bytes | None = field(default=None, repr=False)

    def workbook_dict(self) -> dict[str, Any]:
        """The variant as pyxform's workbook dict (``xls2xform.convert`` accepts it)."""
        source = self._require_source()
        result: dict[str, Any] = {"sheet_names": list(source.sheet_names)}
        for key, sheet in source.sheets.items():
            result[key] = _apply(sheet.rows, self._edits.get(key, {}))
            result[f"{key}_header"] = sheet.pyxform_header(self._new_headers.get(key, ()))
        if pc.SETTINGS not in source.sheets:
            renames = _renames(source)
            result["sheet_names"] = [renames.get(t, t) for t in result["sheet_names"]]
            result["sheet_names"].append(pc.SETTINGS)
            result[pc.SETTINGS] = _apply((), self._edits[pc.SETTINGS])
            result[f"{pc.SETTINGS}_header"] = [dict.fromkeys(self._new_headers[pc.SETTINGS])]
        return result

    def xlsx(self) -> bytes:
        """The variant's workbook: the template's file with this variant's cells changed."""
        if self._xlsx is None:
            source = self._require_source()
            edits, new_sheets = _cell_edits(source, self._edits, self._new_headers)
            self._xlsx = xlsx_patch.write(
                source.data, _plan(source).xlsx, edits, new_sheets, _renames(source)
            )
        return self._xlsx

    def detach(self) -> RenderedVariant:
        """Build the .xlsx now and drop the template, to send the variant to another process."""
        self.xlsx()
        self._source = None
        return self

    def row_of(self, name: str) -> int | None:
        """Spreadsheet row of the first survey row named ``name``, to locate pyxform errors."""
        source = self._require_source()
        indexes = _plan(source).rows_by_name.get(name)
        return indexes[0] + 2 if indexes else None

    def _require_source(self) -> SourceForm:
        if self._source is None:
            raise RuntimeError("This variant was detached from its template.")
        return self._source


def _renames(source: SourceForm) -> dict[str, str]:
    """A lone sheet of any name is the survey only while it is alone: once a settings
    sheet is added, it must be called "survey" for the stored workbook to convert."""
    title = source.survey.title
    if pc.SETTINGS in source.sheets or title.lower() == pc.SURVEY:
        return {}
    return {title: pc.SURVEY}


def _apply(rows: Iterable[dict[str, str]], edits: dict[int, dict[str, str]]) -> list[dict]:
    """Rows with edits applied; unchanged rows are shared, changed rows are new dicts."""
    out = list(rows)
    for index, changes in edits.items():
        while len(out) <= index:
            out.append({})
        out[index] = {**out[index], **changes}
    return out


def _cell_edits(
    source: SourceForm, edits: Edits, new_headers: dict[str, list[str]]
) -> tuple[dict[str, xlsx_patch.CellEdits], dict[str, xlsx_patch.CellEdits]]:
    """Translate (row index, header) edits into (spreadsheet row, column) cells by sheet title."""
    existing: dict[str, xlsx_patch.CellEdits] = {}
    created: dict[str, xlsx_patch.CellEdits] = {}
    for key, rows in edits.items():
        sheet: Sheet | None = source.sheets.get(key)
        headers = [*(sheet.headers if sheet else ()), *new_headers.get(key, ())]
        cells = {(1, headers.index(h)): h for h in new_headers.get(key, ())}
        for index, changes in rows.items():
            for header, value in changes.items():
                cells[(index + 2, headers.index(header))] = value
        (existing if sheet else created)[sheet.title if sheet else pc.SETTINGS] = cells
    return existing, created


def _spec_issues(spec: VariantSpec) -> list[Issue]:
    issues = []
    if not APP_USER_PATTERN.match(spec.app_user):
        issues.append(
            Issue(
                sheet=None,
                row=None,
                message=f"App user name {spec.app_user!r} cannot be used in form ids and list "
                "names: use letters, digits, '_' and '-' only.",
            )
        )
    for label, value in (("form id", spec.form_id_base), ("version", spec.version)):
        if not value.strip():
            issues.append(Issue(sheet=pc.SETTINGS, row=2, message=f"The {label} is empty."))
    for label, value in (
        ("title", spec.title_base),
        ("form id", spec.form_id_base),
        ("version", spec.version),
    ):
        if XML_ILLEGAL.search(value):
            issues.append(
                Issue(
                    sheet=pc.SETTINGS, row=2, message=f"The {label} contains a control character."
                )
            )
    return issues


def render_variant(source: SourceForm, spec: VariantSpec) -> RenderedVariant:
    """Apply one app user's values to the template. Raises TemplateError listing every problem."""
    plan = _plan(source)
    survey = source.survey
    issues = _spec_issues(spec)
    edits: Edits = {}
    new_headers: dict[str, list[str]] = {}
    renamed: dict[str, str] = {}
    type_h = survey.header_for(pc.TYPE)

    def put(key: str, index: int, header: str, value: str) -> None:
        edits.setdefault(key, {}).setdefault(index, {})[header] = value

    for key, index, header in plan.rewrite_cells:
        sheet = source.sheets[key]
        row = sheet.rows[index]
        new, names = references.rewrite_cell(
            key, sheet.tokens.get(header, ()), row[header], row.get(type_h, ""), spec.app_user
        )
        renamed.update(names)
        if new != row[header]:
            put(key, index, header, new)

    calc_h = plan.calc_header or "calculation"
    for name in sorted(spec.variables):
        indexes = plan.rows_by_name.get(name)
        if not indexes:
            issues.append(
                Issue(
                    sheet=pc.SURVEY,
                    row=None,
                    column="name",
                    message=f"Variable {name!r} has no row named {name!r} on the 'survey' sheet.",
                )
            )
            continue
        try:
            literal = xpath_string_literal(spec.variables[name])
            if len(literal) > MAX_CELL_CHARS:
                raise ValueError(
                    f"the value is too long for a spreadsheet cell ({len(literal)} characters)"
                )
        except ValueError as exc:
            for index in indexes:
                issues.append(
                    Issue(
                        sheet=pc.SURVEY,
                        row=index + 2,
                        column=calc_h,
                        message=f"Variable {name!r} cannot be written: {exc}.",
                    )
                )
            continue
        for index in indexes:
            put(pc.SURVEY, index, calc_h, literal)
        if plan.calc_header is None:
            new_headers[pc.SURVEY] = [calc_h]

    title = f"{spec.title_base.strip()} [{spec.app_user}]"
    form_id = f"{spec.form_id_base.strip()}_{spec.app_user}"
    version = spec.version.strip()
    for meaning, value in (("title", title), ("id_string", form_id), ("version", version)):
        header = plan.settings_headers[meaning]
        if header is None:
            header = _NEW_HEADERS[meaning]
            new_headers.setdefault(pc.SETTINGS, []).append(header)
        put(pc.SETTINGS, 0, header, value)

    if issues:
        raise TemplateError(issue.for_app_user(spec.app_user) for issue in issues)

    def row_value(key: str, index: int, row: dict, header: str) -> str | None:
        changed = edits.get(key, {}).get(index)
        return changed[header] if changed and header in changed else row.get(header)

    attachments = references.find_attachments(source.sheets, row_value)
    entity_lists: list[str] = []
    entities = source.sheets.get(pc.ENTITIES)
    if entities is not None:
        dataset_h = entities.header_for("dataset")
        for index, row in enumerate(entities.rows):
            value = row_value(pc.ENTITIES, index, row, dataset_h) if dataset_h else None
            if value:
                entity_lists.append(value)
    return RenderedVariant(
        app_user=spec.app_user,
        form_id=form_id,
        title=title,
        version=version,
        attachments=tuple(sorted(attachments)),
        entity_lists=tuple(sorted(set(entity_lists))),
        renamed=renamed,
        _source=source,
        _edits=edits,
        _new_headers=new_headers,
    )
