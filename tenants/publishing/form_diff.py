"""What changed between two XLSForm workbooks: survey rows, choices and settings.

Pure functions: no Django, no database, no storage, so the API, the workspace
and tests compare versions the same way, from the stored source workbooks.

How rows are matched (a row keeps its identity while its cells change):

- survey rows by ``name``; rows without one (``end group``, an unnamed note) by
  their type and how many nameless rows of that type came before
  (``end group#2``), since nothing else identifies them;
- choices by ``list_name`` and ``name``;
- settings by column, in the first settings row (the only one pyxform reads).

A name found twice is matched by occurrence (``age``, ``age#2``). Cells are
compared as pyxform reads them (trimmed text, empty cells absent), so a change
of formatting or of column order is not a change. Among the rows both versions
share, a row whose order relative to the others changed is marked ``moved``
(the fewest such rows, by longest common subsequence).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pyxform import constants as pc

from tenants.publishing.rendering.source import Sheet, SourceForm

Status = Literal["added", "removed", "changed"]

# Spreadsheet row of ``rows[0]`` (row 1 holds the headers).
FIRST_ROW = 2


@dataclass(frozen=True, slots=True)
class KeyedRow:
    """One row with the identity it is matched by."""

    key: str
    row: int  # spreadsheet row number
    cells: Mapping[str, str]
    list_name: str | None = None


@dataclass(frozen=True, slots=True)
class CellChange:
    column: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class RowChange:
    status: Status
    key: str
    list_name: str | None
    old_row: int | None
    new_row: int | None
    old: Mapping[str, str] | None
    new: Mapping[str, str] | None
    cells: tuple[CellChange, ...]  # the cells that differ (every filled cell if added/removed)
    moved: bool = False
    # Where the row goes in a side-by-side view: (position in the new sheet, tie-breakers).
    order: tuple[int, int, int] = field(default=(0, 0, 0), compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "list_name": self.list_name,
            "old_row": self.old_row,
            "new_row": self.new_row,
            "old": dict(self.old) if self.old is not None else None,
            "new": dict(self.new) if self.new is not None else None,
            "cells": [{"column": c.column, "old": c.old, "new": c.new} for c in self.cells],
            "moved": self.moved,
        }


@dataclass(frozen=True, slots=True)
class SheetDiff:
    added: tuple[RowChange, ...] = ()
    removed: tuple[RowChange, ...] = ()
    changed: tuple[RowChange, ...] = ()

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def entries(self) -> list[RowChange]:
        """Every change in reading order: where the row stands in the new sheet, a
        removed row right after the row that preceded it in the old one."""
        return sorted((*self.added, *self.removed, *self.changed), key=lambda c: c.order)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": [c.as_dict() for c in self.added],
            "removed": [c.as_dict() for c in self.removed],
            "changed": [c.as_dict() for c in self.changed],
        }


@dataclass(frozen=True, slots=True)
class FormDiff:
    survey: SheetDiff
    choices: SheetDiff
    settings: SheetDiff

    @property
    def identical(self) -> bool:
        return self.survey.identical and self.choices.identical and self.settings.identical

    def sections(self) -> list[tuple[str, SheetDiff]]:
        return [("survey", self.survey), ("choices", self.choices), ("settings", self.settings)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "identical": self.identical,
            **{name: section.as_dict() for name, section in self.sections()},
        }


# --- keying rows ---------------------------------------------------------------------------


def _occurrence(seen: Counter, base: str) -> str:
    seen[base] += 1
    return base if seen[base] == 1 else f"{base}#{seen[base]}"


def survey_rows(
    rows: Sequence[Mapping[str, str]], *, name_column: str = "name", type_column: str = "type"
) -> list[KeyedRow]:
    """Survey rows keyed by name (nameless rows by type and occurrence); blank rows skipped."""
    named: Counter = Counter()
    nameless: Counter = Counter()
    keyed = []
    for index, cells in enumerate(rows):
        if not cells:
            continue
        name = cells.get(name_column)
        if name:
            key = _occurrence(named, name)
        else:
            kind = " ".join((cells.get(type_column) or "?").lower().replace("_", " ").split())
            nameless[kind] += 1
            key = f"{kind}#{nameless[kind]}"
        keyed.append(KeyedRow(key=key, row=index + FIRST_ROW, cells=cells))
    return keyed


def choice_rows(
    rows: Sequence[Mapping[str, str]],
    *,
    list_column: str = "list_name",
    name_column: str = "name",
) -> list[KeyedRow]:
    """Choices keyed by (list_name, name); rows with neither are skipped."""
    seen: Counter = Counter()
    keyed = []
    for index, cells in enumerate(rows):
        list_name, name = cells.get(list_column, ""), cells.get(name_column, "")
        if not (list_name or name):
            continue
        seen[(list_name, name)] += 1
        count = seen[(list_name, name)]
        key = name if count == 1 else f"{name}#{count}"
        keyed.append(KeyedRow(key=key, row=index + FIRST_ROW, cells=cells, list_name=list_name))
    return keyed


def setting_rows(rows: Sequence[Mapping[str, str]]) -> list[KeyedRow]:
    """Each filled cell of the first settings row, keyed by its column."""
    first = rows[0] if rows else {}
    return [
        KeyedRow(key=column, row=FIRST_ROW, cells={column: value})
        for column, value in first.items()
    ]


# --- comparing ---------------------------------------------------------------------------------


def _cell_changes(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[CellChange, ...]:
    columns = list(dict.fromkeys([*new, *old]))
    return tuple(
        CellChange(column, old.get(column), new.get(column))
        for column in columns
        if old.get(column) != new.get(column)
    )


def _moved(old_keys: list[tuple], new_keys: list[tuple]) -> set[tuple]:
    """Shared keys outside a longest common subsequence of the two orders."""
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    kept = {
        key
        for block in matcher.get_matching_blocks()
        for key in old_keys[block.a : block.a + block.size]
    }
    return set(old_keys) - kept


def _ident(row: KeyedRow) -> tuple[str | None, str]:
    return (row.list_name, row.key)


def diff_rows(
    old: Sequence[KeyedRow], new: Sequence[KeyedRow], *, track_order: bool = True
) -> SheetDiff:
    """Rows added, removed and changed from ``old`` to ``new`` (matched by list name + key).

    With ``track_order`` a shared row whose relative order changed counts as
    changed (``moved``); settings turn it off, their column order means nothing.
    """
    old_by = {_ident(r): (i, r) for i, r in enumerate(old)}
    new_by = {_ident(r): (i, r) for i, r in enumerate(new)}
    shared_old = [_ident(r) for r in old if _ident(r) in new_by]
    shared_new = [_ident(r) for r in new if _ident(r) in old_by]
    moved = _moved(shared_old, shared_new) if track_order else set()
    added, changed = [], []
    for position, row in enumerate(new):
        ident = _ident(row)
        if ident not in old_by:
            added.append(
                RowChange(
                    "added",
                    row.key,
                    row.list_name,
                    None,
                    row.row,
                    None,
                    row.cells,
                    _cell_changes({}, row.cells),
                    order=(position, 0, 0),
                )
            )
            continue
        before = old_by[ident][1]
        cells = _cell_changes(before.cells, row.cells)
        is_moved = ident in moved
        if cells or is_moved:
            changed.append(
                RowChange(
                    "changed",
                    row.key,
                    row.list_name,
                    before.row,
                    row.row,
                    before.cells,
                    row.cells,
                    cells,
                    moved=is_moved,
                    order=(position, 0, 0),
                )
            )
    removed, anchor = [], -1
    for position, row in enumerate(old):
        ident = _ident(row)
        if ident in new_by:
            anchor = new_by[ident][0]
            continue
        removed.append(
            RowChange(
                "removed",
                row.key,
                row.list_name,
                row.row,
                None,
                row.cells,
                None,
                _cell_changes(row.cells, {}),
                order=(anchor, 1, position),
            )
        )
    return SheetDiff(tuple(added), tuple(removed), tuple(changed))


# --- workbooks -----------------------------------------------------------------------------------


def _rows(sheet: Sheet | None) -> tuple[dict[str, str], ...]:
    return sheet.rows if sheet is not None else ()


def _column(sheet: Sheet | None, meaning: str, default: str) -> str:
    return (sheet.header_for(meaning) if sheet is not None else None) or default


def form_diff(old: SourceForm, new: SourceForm) -> FormDiff:
    """Compare two parsed workbooks (``load_source``), each column read as pyxform reads it."""

    def keyed_survey(source: SourceForm) -> list[KeyedRow]:
        sheet = source.sheets.get(pc.SURVEY)
        return survey_rows(
            _rows(sheet),
            name_column=_column(sheet, pc.NAME, "name"),
            type_column=_column(sheet, pc.TYPE, "type"),
        )

    def keyed_choices(source: SourceForm) -> list[KeyedRow]:
        sheet = source.sheets.get(pc.CHOICES)
        return choice_rows(
            _rows(sheet),
            list_column=_column(sheet, pc.LIST_NAME_S, "list_name"),
            name_column=_column(sheet, pc.NAME, "name"),
        )

    def keyed_settings(source: SourceForm) -> list[KeyedRow]:
        return setting_rows(_rows(source.sheets.get(pc.SETTINGS)))

    return FormDiff(
        survey=diff_rows(keyed_survey(old), keyed_survey(new)),
        choices=diff_rows(keyed_choices(old), keyed_choices(new)),
        settings=diff_rows(keyed_settings(old), keyed_settings(new), track_order=False),
    )
