"""What to change when Central refuses something that retrying cannot fix.

Most refusals during a publish are passing (429, 5xx, a session that expired) or are
repaired by the next attempt (a version already used gets a new number). A few say
the form itself clashes with what the project already holds; retrying repeats them
until someone changes the spreadsheet. Their problem codes are Central's
(``lib/util/problem.js``); the words are ours.
"""

from __future__ import annotations

# code -> (what is wrong, what to change)
FINAL_CONFLICTS: dict[float, tuple[str, str]] = {
    409.16: (
        "An entity list with this name already exists in Central, written with different "
        "capital letters.",
        "Write the entity list name (list_name on the entities sheet, and in the form's "
        "save_to values) exactly as the existing entity list is written in Central, then "
        "publish again. Retrying alone will fail the same way.",
    ),
    409.17: (
        "The form creates entity properties that differ from existing ones only in capital "
        "letters.",
        "On the survey sheet, write each save_to value exactly as the entity list's existing "
        "property is written in Central (same capital letters), then publish again. Retrying "
        "alone will fail the same way.",
    ),
}


def final_conflict(code: float | int | str | None) -> tuple[str, str] | None:
    """(what is wrong, what to change) for a refusal retrying cannot fix, else None."""
    try:
        return FINAL_CONFLICTS.get(round(float(code), 2))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
