"""Problems found while loading, rendering or validating an XLSForm, located in the workbook.

Every problem is an :class:`Issue` with the sheet and spreadsheet row (header = row 1)
where a person would go to fix it, so that the publish page can list them per app user.
pyxform reports locations only inside its message text ("[row : 5] On the 'choices'
sheet, ..."), so :func:`issue_from_pyxform` parses that text; the message itself is
kept verbatim because it is what the XLSForm community documents and searches for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from pyxform import constants as pyxform_constants

KNOWN_SHEETS = frozenset(pyxform_constants.SUPPORTED_SHEET_NAMES)

_ROW = re.compile(r"\[row\s*:\s*(\d+)\]")
# Where pyxform says a problem *is*; other mentions ("List name not in choices sheet")
# only count when the message has no row, because "[row : N]" alone means a survey row.
_SHEET_LOCATIONS = (re.compile(r"[Oo]n the '(\w+)' sheet"), re.compile(r"sheet:\s*'(\w+)'"))
_SHEET_MENTIONS = (re.compile(r"'(\w+)' sheet"), re.compile(r"\b(\w+) sheet\b"))
_COLUMN = re.compile(r"sheet, the '([^']+)' value")


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem, located where the template's author can fix it.

    ``sheet`` is None only for problems with the workbook as a whole (not an .xlsx
    file at all); ``row`` is None when the problem belongs to a sheet or column rather
    than a row. ``app_user`` is None for problems of the template itself.
    """

    sheet: str | None
    row: int | None
    message: str
    app_user: str | None = None
    column: str | None = None

    def for_app_user(self, app_user: str | None) -> Issue:
        """The same issue attributed to one variant."""
        return replace(self, app_user=app_user)

    def __str__(self) -> str:
        where = [part for part in (self.app_user, self.sheet) if part]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class TemplateError(Exception):
    """A template or variant that must not be sent to Central; ``issues`` says why and where."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: list[Issue] = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues) or "Invalid template")


def issue_from_pyxform(
    message: str,
    *,
    app_user: str | None = None,
    context: dict | None = None,
) -> Issue:
    """Locate a pyxform error or warning message in the workbook.

    pyxform puts "[row : N]" in most messages and names the sheet when it is not the
    survey sheet; a row without a sheet name is a survey row (that is how pyxform
    numbers them). ``context`` is a ``PyXFormError.context``, which some errors carry.
    """
    context = context or {}
    row_match = _ROW.search(message)
    row: int | None = int(row_match.group(1)) if row_match else None
    if row is None and isinstance(context.get("row"), int):
        row = context["row"]
    sheet = context.get("sheet") or context.get("sheet_name")
    if sheet not in KNOWN_SHEETS:
        sheet = None
        patterns = _SHEET_LOCATIONS if row is not None else _SHEET_LOCATIONS + _SHEET_MENTIONS
        for pattern in patterns:
            for found in pattern.finditer(message):
                if found.group(1).lower() in KNOWN_SHEETS:
                    sheet = found.group(1).lower()
                    break
            if sheet:
                break
    if row is None and "header" in message.lower():
        row = 1  # header problems are on the first row of the sheet
    column_match = _COLUMN.search(message)
    column = column_match.group(1) if column_match else context.get("column")
    return Issue(
        sheet=sheet or pyxform_constants.SURVEY,
        row=row,
        message=message.strip(),
        app_user=app_user,
        column=column if isinstance(column, str) else None,
    )
