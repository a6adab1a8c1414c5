"""Build XLSForm .xlsx files in code, for tests and benchmarks.

``make_xlsform`` writes ordinary workbooks (openpyxl, shared strings, one row per
dict, headers in order of first appearance), like a spreadsheet program would, so the
code under test reads the same structures it meets in production.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence

import openpyxl

Row = Mapping[str, object]


def _headers(rows: Iterable[Row]) -> list[str]:
    headers: dict[str, None] = {}
    for row in rows:
        headers.update(dict.fromkeys(row))
    return list(headers)


def _write_sheet(
    workbook: openpyxl.Workbook, title: str, rows: Sequence[Row] | Sequence[Sequence]
) -> None:
    sheet = workbook.create_sheet(title)
    if rows and not isinstance(rows[0], Mapping):
        for raw in rows:  # already a grid: first row is the header
            sheet.append(list(raw))
        return
    headers = _headers(rows)  # type: ignore[arg-type]
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])  # type: ignore[union-attr]


def make_xlsform(
    survey_rows: Sequence[Row],
    settings: Mapping[str, object] | None = None,
    choices: Sequence[Row] | None = None,
    extra_sheets: Mapping[str, Sequence[Row] | Sequence[Sequence]] | None = None,
    *,
    entities: Sequence[Row] | None = None,
    survey_title: str = "survey",
) -> bytes:
    """An .xlsx with a survey sheet and, if given, settings, choices, entities and more.

    ``extra_sheets`` maps a sheet title to rows (dicts) or a raw grid (lists, header
    first), e.g. ``{"external_choices": [...], "notes": [["anything"]]}``.
    """
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    _write_sheet(workbook, survey_title, survey_rows)
    if choices is not None:
        _write_sheet(workbook, "choices", choices)
    if settings is not None:
        _write_sheet(workbook, "settings", [settings])
    if entities is not None:
        _write_sheet(workbook, "entities", entities)
    for title, rows in (extra_sheets or {}).items():
        _write_sheet(workbook, title, rows)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


YES_NO = [
    {"list_name": "yes_no", "name": "yes", "label": "Yes"},
    {"list_name": "yes_no", "name": "no", "label": "No"},
]


def two_hundred_row_form_rows(variables: Sequence[str] = ("server_url", "token")) -> list[dict]:
    """Survey rows of a realistic 200-row form with one calculate row per variable.

    Groups, a repeat, selects, constraints, relevance, notes with references, a
    ``pulldata`` lookup and a per-app-user ``select_one_from_file`` list.
    """
    rows: list[dict] = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {"type": "deviceid", "name": "deviceid"},
    ]
    rows += [{"type": "calculate", "name": name, "calculation": "''"} for name in variables]
    rows += [
        {
            "type": "select_one_from_file households_APP_USER.csv",
            "name": "household",
            "label": "Household",
        },
        {
            "type": "calculate",
            "name": "head",
            "calculation": "pulldata('households_APP_USER', 'head', 'name', ${household})",
        },
    ]
    section = 0
    while len(rows) < 198:
        section += 1
        rows.append(
            {"type": "begin group", "name": f"section_{section}", "label": f"Section {section}"}
        )
        for i in range(1, 9):
            q = f"s{section}_q{i}"
            kind = i % 4
            if kind == 0:
                rows.append(
                    {
                        "type": "integer",
                        "name": q,
                        "label": f"How many {q}?",
                        "constraint": ". >= 0 and . < 1000",
                        "constraint_message": "Between 0 and 999",
                        "required": "yes",
                    }
                )
            elif kind == 1:
                rows.append(
                    {
                        "type": "select_one yes_no",
                        "name": q,
                        "label": f"Is {q} true?",
                        "hint": "Choose one",
                    }
                )
            elif kind == 2:
                rows.append(
                    {
                        "type": "text",
                        "name": q,
                        "label": f"Describe {q}",
                        "relevant": f"${{s{section}_q{i - 1}}} = 'yes'",
                    }
                )
            else:
                rows.append(
                    {
                        "type": "note",
                        "name": q,
                        "label": f"You said ${{s{section}_q{i - 1}}} for {q}",
                    }
                )
        rows.append({"type": "end group", "name": f"section_{section}"})
    rows = rows[:198]
    while rows[-1]["type"] != "end group":  # never cut a group open
        rows.pop()
    while len(rows) < 200:
        rows.append({"type": "note", "name": f"closing_{len(rows)}", "label": "Thank you"})
    return rows


def two_hundred_row_form(
    variables: Sequence[str] = ("server_url", "token"),
    settings: Mapping[str, object] | None = None,
) -> bytes:
    """The 200-row form (see ``two_hundred_row_form_rows``) as .xlsx bytes."""
    return make_xlsform(
        two_hundred_row_form_rows(variables),
        settings=settings
        if settings is not None
        else {"form_title": "Survey", "form_id": "survey", "version": "1"},
        choices=YES_NO,
    )
