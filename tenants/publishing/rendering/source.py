"""Read an XLSForm workbook once into the in-memory form that every variant is made from.

The rows are read the way pyxform reads an .xlsx (same openpyxl read-only mode, same
header and cell clean-up, same stop after a run of empty rows), so converting a variant
from memory gives the XForm that converting its .xlsx would give. Row ``i`` of a sheet
is spreadsheet row ``i + 2``: empty rows stay in the list, as in pyxform, so that
pyxform's row numbers are the spreadsheet's.

Headers are classified with pyxform's own header parser, so aliases (``calculate`` for
``calculation``, ``media::image::English (en)``, ``form_id``/``id_string``...) mean here
what they mean to pyxform.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from pyxform import aliases
from pyxform import constants as pc
from pyxform.errors import PyXFormError
from pyxform.parsing.sheet_headers import process_header
from pyxform.question import MultipleChoiceQuestion, Option
from pyxform.survey import Survey
from pyxform.xls2json_backends import (
    get_excel_column_headers,
    get_excel_rows,
    is_empty,
    xlsx_value_to_str,
)

from control_plane.archives import ArchiveRefused, check_zip

from .errors import Issue, TemplateError

Tokens = tuple[str, ...]

_HEADER_RULES: dict[str, tuple[dict, frozenset[str]]] = {
    pc.SURVEY: (aliases.survey_header, frozenset(MultipleChoiceQuestion.get_slot_names())),
    pc.CHOICES: (aliases.list_header, frozenset(Option.get_slot_names())),
    pc.EXTERNAL_CHOICES: (aliases.list_header, frozenset(Option.get_slot_names())),
    pc.OSM: (aliases.list_header, frozenset(Option.get_slot_names())),
    pc.SETTINGS: (aliases.settings_header, frozenset(Survey.get_slot_names())),
    pc.ENTITIES: (
        aliases.entities_header,
        frozenset(i.value for i in pc.EntityColumns.value_list()),
    ),
}


@dataclass(frozen=True, slots=True)
class Sheet:
    """One XLSForm sheet as pyxform sees it. Treat ``rows`` as read-only: variants share them."""

    key: str  # pyxform's (lower-case) sheet name
    title: str  # the name in the workbook
    headers: tuple[str | None, ...]  # by column, 0-based; None where the header cell is empty
    rows: tuple[dict[str, str], ...]  # rows[i] is spreadsheet row i + 2
    tokens: dict[str, Tokens]  # header -> pyxform's meaning of it, e.g. ("bind", "calculate")

    def header_for(self, *meaning: str) -> str | None:
        """The first header whose pyxform meaning starts with ``meaning``."""
        for header, tokens in self.tokens.items():
            if tokens[: len(meaning)] == meaning:
                return header
        return None

    def headers_for(self, *meaning: str) -> list[str]:
        return [h for h, t in self.tokens.items() if t[: len(meaning)] == meaning]

    def column_of(self, header: str) -> int:
        """0-based column index of an existing header."""
        return self.headers.index(header)

    def pyxform_header(self, extra: list[str] | tuple[str, ...] = ()) -> list[dict[str, None]]:
        names = [h for h in self.headers if h is not None]
        return [dict.fromkeys([*names, *extra])]


@dataclass(frozen=True, slots=True)
class SourceForm:
    """A parsed template: read once, rendered into any number of variants."""

    data: bytes = field(repr=False)  # the original .xlsx, patched per variant
    sheet_names: tuple[str, ...]  # every sheet title, in workbook order
    sheets: dict[str, Sheet]  # XLSForm sheets by pyxform key ("survey", "settings"...)
    # Derived indexes worked out once by the renderer (where edits go, the zip's parts).
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def survey(self) -> Sheet:
        return self.sheets[pc.SURVEY]


def classify_headers(key: str, headers: list[str | None] | tuple[str | None, ...]) -> dict:
    """Map each header to pyxform's meaning of it (dealiased, split on ``::``)."""
    header_aliases, columns = _HEADER_RULES[key]
    names = [h for h in headers if h is not None]
    double_colon = any("::" in h for h in names)
    return {
        h: process_header(
            header=h,
            use_double_colon=double_colon,
            header_aliases=header_aliases,
            header_columns=columns,
        )[1]
        for h in names
    }


def _clean_cell(cell: Any, _row_n: int, _key: str) -> str | None:
    # Exactly pyxform's xlsx_clean_cell.
    value = cell.value
    if isinstance(value, str):
        value = value.strip()
    return None if is_empty(value) else xlsx_value_to_str(value)


def _read_sheet(key: str, worksheet: Any) -> Sheet:
    first_row = (c.value for c in next(worksheet.rows, []))
    try:
        headers = get_excel_column_headers(first_row=first_row)
    except PyXFormError as exc:
        raise TemplateError([Issue(sheet=key, row=1, message=str(exc))]) from exc
    rows = get_excel_rows(
        headers=headers,
        rows=worksheet.iter_rows(min_row=2, max_col=len(headers)),
        cell_func=_clean_cell,
    )
    return Sheet(
        key=key,
        title=worksheet.title,
        headers=tuple(headers),
        rows=tuple(rows),
        tokens=classify_headers(key, headers),
    )


def _unreadable(reason: str) -> TemplateError:
    return TemplateError(
        [
            Issue(
                sheet=None, row=None, message=f"The file is not a readable .xlsx workbook: {reason}"
            )
        ]
    )


NOT_XLSX = "This file is not an Excel workbook (.xlsx)."


def _is_xlsx_package(data: bytes) -> bool:
    """A zip holding a workbook part: what Excel, LibreOffice and Google Sheets export."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names and any(n.startswith("xl/workbook") for n in names)


def read_workbook(data: bytes) -> SourceForm:
    """Parse an .xlsx template. Raises TemplateError for unreadable or broken workbooks.

    Something else altogether (a CSV, an old .xls, a PDF, a Word file) is told so in
    words, not with the zip library's “File is not a zip file”.
    """
    if not _is_xlsx_package(data):
        raise TemplateError([Issue(sheet=None, row=None, message=NOT_XLSX)])
    try:
        check_zip(data)  # before openpyxl unpacks anything (zip bombs)
    except ArchiveRefused as exc:
        raise TemplateError([Issue(sheet=None, row=None, message=exc.message)]) from None
    except zipfile.BadZipFile as exc:
        raise _unreadable(str(exc) or "not a zip archive") from exc
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise _unreadable(str(exc) or type(exc).__name__) from exc
    try:
        titles = tuple(workbook.sheetnames)
        sheets: dict[str, Sheet] = {}
        for title in titles:
            key = title.lower()
            if key not in pc.SUPPORTED_SHEET_NAMES:
                # pyxform reads a lone sheet of any name as the survey.
                if len(titles) != 1:
                    continue
                key = pc.SURVEY
            sheets[key] = _read_sheet(key, workbook[title])
    except TemplateError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on damaged parts
        raise _unreadable(f"{type(exc).__name__}: {exc}") from exc
    finally:
        workbook.close()
    source = SourceForm(data=data, sheet_names=titles, sheets=sheets)
    issues = _structure_issues(source)
    if issues:
        raise TemplateError(issues)
    return source


def _structure_issues(source: SourceForm) -> list[Issue]:
    """Problems that make every variant impossible, reported once at load time."""
    survey = source.sheets.get(pc.SURVEY)
    if survey is None:
        return [
            Issue(
                sheet=pc.SURVEY,
                row=None,
                message="The workbook has no sheet named 'survey'. "
                f"Sheets found: {', '.join(repr(t) for t in source.sheet_names) or 'none'}.",
            )
        ]
    issues = []
    for meaning in (pc.TYPE, pc.NAME):
        if survey.header_for(meaning) is None:
            issues.append(
                Issue(
                    sheet=pc.SURVEY,
                    row=1,
                    column=meaning,
                    message=f"The 'survey' sheet has no '{meaning}' column.",
                )
            )
    return issues
