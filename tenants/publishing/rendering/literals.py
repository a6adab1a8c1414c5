"""XPath string literals that survive an XLSForm cell, pyxform and the XForm XML unchanged.

XPath 1.0 has no escape character: a literal is either ``'...'`` (may hold ``"``) or
``"..."`` (may hold ``'``). A value holding both kinds is split into pieces joined with
``concat()``. Three more things change text on its way into the XForm, so the pieces
are also cut where they would act:

* pyxform collapses runs of spaces in survey cells ("clean_text_values"), so two spaces
  never appear side by side inside one piece;
* pyxform replaces ``${name}`` anywhere in an expression, even inside quotes, so ``$``
  and a following ``{`` land in different pieces;
* pyxform always turns typographic quotes (U+2018/2019/201C/201D) into straight ones,
  and an XML attribute turns tab, line feed and carriage return into spaces when it is
  read back. XPath has no way to write these characters without putting them in the
  cell, so a value holding them cannot be delivered exactly and is refused rather than
  silently changed. Characters XML forbids, and the no-break space (read back from
  .xlsx as a space), are refused for the same reason.
"""

from __future__ import annotations

import re

_FORBIDDEN = {
    "\u2018": "a typographic quote (‘), which pyxform turns into '",
    "\u2019": "a typographic quote (’), which pyxform turns into '",
    "\u201c": 'a typographic quote (“), which pyxform turns into "',
    "\u201d": 'a typographic quote (”), which pyxform turns into "',
    "\t": "a tab, which an XForm attribute turns into a space",
    "\n": "a line break, which an XForm attribute turns into a space",
    "\r": "a line break, which an XForm attribute turns into a space",
    "\u00a0": "a no-break space, which is read back from .xlsx as a space",
}
# Characters XML 1.0 does not allow at all (besides tab, LF, CR handled above).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def unrepresentable_reason(value: str) -> str | None:
    """Why ``value`` cannot reach the XForm unchanged, or None when it can."""
    for char in value:
        reason = _FORBIDDEN.get(char)
        if reason:
            return f"the value contains {reason}"
    found = XML_ILLEGAL.search(value)
    if found:
        return f"the value contains the control character U+{ord(found.group()):04X}"
    return None


def _pieces(value: str) -> list[str]:
    """Split ``value`` so that each piece can be quoted and no piece triggers pyxform."""
    pieces: list[str] = []
    current: list[str] = []
    has_single = has_double = False
    for char in value:
        previous = current[-1] if current else ""
        if (
            (char == "'" and has_double)
            or (char == '"' and has_single)
            or (char == " " and previous == " ")
            or (char == "{" and previous == "$")
        ):
            pieces.append("".join(current))
            current, has_single, has_double = [], False, False
        current.append(char)
        has_single = has_single or char == "'"
        has_double = has_double or char == '"'
    pieces.append("".join(current))
    return pieces


def _quote(piece: str) -> str:
    return f'"{piece}"' if "'" in piece else f"'{piece}'"


def xpath_string_literal(value: str) -> str:
    """The XPath expression, for an XLSForm ``calculation`` cell, that evaluates to ``value``.

    ``'abc'``, ``"it's"``, or ``concat('say "', "it's", '"')`` for both quote kinds.
    Raises ValueError for values that cannot be carried exactly (see the module docs).
    """
    reason = unrepresentable_reason(value)
    if reason:
        raise ValueError(reason)
    pieces = _pieces(value)
    if len(pieces) == 1:
        return _quote(pieces[0])
    return "concat(" + ", ".join(_quote(piece) for piece in pieces) + ")"
