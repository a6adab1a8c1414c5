"""Render per-app-user variants of an XLSForm template and validate them with pyxform.

Pure functions: no Django, no database, no network, so they run in web requests, job
workers, process pools and benchmarks alike.

Flow (a publish to N app users)::

    source = load_source(xlsx_bytes)               # parse once; TemplateError if broken
    variants, issues = render_all(source, specs)   # every variant, every issue
    if issues: stop before the first Central call and show them per app user
    for v in variants: send v.xform_xml to Central, store v.xlsx(), attach v.attachments

API
---
``load_source(data: bytes) -> SourceForm``
    Parse the .xlsx once (as pyxform reads it). Raises ``TemplateError`` for unreadable
    or structurally broken workbooks (no survey sheet, no type/name column, duplicate
    headers).
``template_variables(source) -> set[str]``
    Names of ``calculate`` rows, which can receive a variable.
``VariantSpec(app_user, title_base, form_id_base, version, variables)``
    Final values per app user (hashing is the caller's job).
``render_variant(source, spec) -> RenderedVariant``
    ``.form_id`` (``<form_id_base>_<app_user>``), ``.title`` (``<title_base> [<app_user>]``),
    ``.version``, ``.attachments`` (sorted file names), ``.entity_lists``, ``.renamed``
    (template list/file name -> this app user's), ``.xlsx() -> bytes``,
    ``.workbook_dict()`` (pyxform input). Raises ``TemplateError`` listing every
    problem (a variable the survey lacks, a value that cannot be carried exactly, an
    app user name unusable in ids).
``validate_variant(rendered) -> ValidatedVariant``
    pyxform conversion: ``.xform_xml: bytes`` (what Central gets), ``.warnings:
    list[str]`` (kept, not fatal; ``.warning_issues()`` locates them), ``.itemsets_csv``.
    Raises ``TemplateError`` whose issue has the sheet, row, pyxform's message and the
    app user.
``render_all(source, specs, *, processes=1) -> (list[ValidatedVariant], list[Issue])``
    Every variant, all issues, never stopping at the first.
``xpath_string_literal(value) -> str``
    ``'abc'``, ``"it's"``, ``concat('say "', "it's", '"')``; see ``literals``.
``Issue(sheet, row, message, app_user=None, column=None)``, ``TemplateError(.issues)``
    Rows are spreadsheet rows (header = row 1).

Values go into the ``calculation`` cell of every survey row whose ``name`` matches (the
column is added if the survey has none). Settings: the existing ``form_title``/``title``,
``form_id``/``id_string`` and ``version`` columns are used, missing ones are added, and a
missing settings sheet is created. What is rewritten for ``_APP_USER`` and which
attachments are detected is documented in ``references``.
"""

from .errors import Issue, TemplateError, issue_from_pyxform
from .literals import xpath_string_literal
from .render import (
    RenderedVariant,
    VariantSpec,
    load_source,
    render_variant,
    template_variables,
)
from .source import SourceForm
from .validate import ValidatedVariant, render_all, render_and_validate, validate_variant

__all__ = [
    "Issue",
    "RenderedVariant",
    "SourceForm",
    "TemplateError",
    "ValidatedVariant",
    "VariantSpec",
    "issue_from_pyxform",
    "load_source",
    "render_all",
    "render_and_validate",
    "render_variant",
    "template_variables",
    "validate_variant",
    "xpath_string_literal",
]
