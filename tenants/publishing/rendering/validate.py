"""Convert each variant to XForm XML with pyxform, which is also its local validation.

pyxform's conversion *is* the check: it refuses a broken form (unknown choice list,
invalid name, bad reference...) with a message that names the row, and it is the XML
it produces, not the workbook, that is sent to Central. It runs from the in-memory
workbook dict, so no variant's .xlsx is written or re-read to validate it.

Everything that can differ between variants (values, settings, list names, file
names) is in the variant's own cells, so every variant is converted. ODK Validate (a
Java program, about a second per run) is deliberately not run here: the XForm it would
check only differs between variants in string literals and names pyxform has checked.

One conversion of a 200-row form takes about 45-70 ms of CPU, nearly all of it in
pyxform. ``render_all(..., processes=N)`` spreads variants over a forkserver pool: the
first pool in a process pays a few seconds to start a server that imports pyxform,
later ones about 0.1 s, so it pays off only for large publishes on otherwise idle cores.
It is off by default; splitting a publish across job workers scales further.
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert

from .errors import Issue, TemplateError, issue_from_pyxform
from .references import ITEMSETS_FILE
from .render import RenderedVariant, VariantSpec, render_variant
from .source import SourceForm


@dataclass(eq=False)
class ValidatedVariant:
    """A variant pyxform accepted: the XForm for Central, the .xlsx for storage, warnings."""

    rendered: RenderedVariant
    xform_xml: bytes
    warnings: list[str]
    itemsets_csv: bytes | None = None  # the itemsets.csv attachment, for select_one_external

    @property
    def app_user(self) -> str:
        return self.rendered.app_user

    @property
    def form_id(self) -> str:
        return self.rendered.form_id

    @property
    def title(self) -> str:
        return self.rendered.title

    @property
    def version(self) -> str:
        return self.rendered.version

    @property
    def attachments(self) -> tuple[str, ...]:
        return self.rendered.attachments

    @property
    def entity_lists(self) -> tuple[str, ...]:
        return self.rendered.entity_lists

    def xlsx(self) -> bytes:
        return self.rendered.xlsx()

    def warning_issues(self) -> list[Issue]:
        """Warnings located like errors (sheet, row), for display."""
        return [issue_from_pyxform(w, app_user=self.app_user) for w in self.warnings]


def validate_variant(rendered: RenderedVariant) -> ValidatedVariant:
    """Convert with pyxform; raises TemplateError with the sheet, row and pyxform's message."""
    warnings: list[str] = []
    try:
        result = convert(xlsform=rendered.workbook_dict(), warnings=warnings)
    except PyXFormError as exc:
        issue = issue_from_pyxform(str(exc), app_user=rendered.app_user, context=exc.context)
        raise TemplateError([_locate_by_name(issue, rendered)]) from exc
    except Exception as exc:  # pyxform fails on some malformed input with plain Python errors
        issue = Issue(
            sheet="survey",
            row=None,
            app_user=rendered.app_user,
            message=f"pyxform could not convert the form ({type(exc).__name__}: {exc}).",
        )
        raise TemplateError([issue]) from exc
    itemsets = result.itemsets.encode("utf-8") if result.itemsets is not None else None
    if itemsets is not None and ITEMSETS_FILE not in rendered.attachments:
        rendered.attachments = tuple(sorted({*rendered.attachments, ITEMSETS_FILE}))
    return ValidatedVariant(
        rendered=rendered,
        xform_xml=result.xform.encode("utf-8"),
        warnings=list(warnings),
        itemsets_csv=itemsets,
    )


_NAMED = re.compile(r"(?:named|name:|name)\s+'?([A-Za-z_][\w.-]*?)'?[.,]?(?:\s|$)")


def _locate_by_name(issue: Issue, rendered: RenderedVariant) -> Issue:
    """Some pyxform errors name the element instead of the row ("... element named q1.")."""
    if issue.row is not None or issue.sheet != "survey":
        return issue
    for found in _NAMED.finditer(issue.message):
        row = rendered.row_of(found.group(1))
        if row is not None:
            return replace(issue, row=row)
    return issue


def render_and_validate(source: SourceForm, spec: VariantSpec) -> ValidatedVariant:
    """Both steps for one app user; raises TemplateError."""
    return validate_variant(render_variant(source, spec))


def _duplicates(specs: Sequence[VariantSpec]) -> list[Issue]:
    seen: set[str] = set()
    issues = []
    for spec in specs:
        if spec.app_user in seen:
            issues.append(
                Issue(sheet=None, row=None, app_user=spec.app_user, message="Duplicate app user.")
            )
        seen.add(spec.app_user)
    return issues


def render_all(
    source: SourceForm, specs: Iterable[VariantSpec], *, processes: int = 1, shared: bool = True
) -> tuple[list[ValidatedVariant], list[Issue]]:
    """Render and validate every variant, collecting every app user's issues.

    Never stops at the first failure, so one report can list all of them; the caller
    must send nothing to Central unless the issue list is empty. With ``processes`` > 1
    the variants are spread over a process pool (each worker receives the parsed
    template once); variants come back with their .xlsx built and detached from it.
    With ``shared`` (the default) pyxform converts the form once for all variants
    (``shared.py``); ``shared=False`` converts every variant on its own.
    """
    specs = list(specs)
    issues = _duplicates(specs)
    if shared and len(specs) > 1 and not issues:
        # One pyxform conversion for all (see shared.py); falls back per variant.
        from .shared import render_all_shared

        return render_all_shared(source, specs, lambda spec: _outcome(source, spec))
    if processes > 1 and len(specs) > 1:
        outcomes = _run_in_pool(source, specs, processes)
    else:
        outcomes = [_outcome(source, spec) for spec in specs]
    variants = []
    for variant, problems in outcomes:
        issues.extend(problems)
        if variant is not None:
            variants.append(variant)
    return variants, issues


Outcome = tuple[ValidatedVariant | None, list[Issue]]


def _outcome(source: SourceForm, spec: VariantSpec) -> Outcome:
    try:
        return render_and_validate(source, spec), []
    except TemplateError as exc:
        return None, exc.issues


_worker_source: SourceForm | None = None


def _worker_init(source: SourceForm) -> None:
    global _worker_source  # one template per worker process
    _worker_source = source


def _worker_run(spec: VariantSpec) -> Outcome:
    if _worker_source is None:
        raise RuntimeError("_worker_init did not run in this process")
    variant, issues = _outcome(_worker_source, spec)
    if variant is not None:
        variant.rendered.detach()
    return variant, issues


def _run_in_pool(source: SourceForm, specs: list[VariantSpec], processes: int) -> list[Outcome]:
    # forkserver: never fork a process that may hold database connections or threads.
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that has already imported pyxform and openpyxl.
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(
        max_workers=min(processes, len(specs)),
        mp_context=context,
        initializer=_worker_init,
        initargs=(source,),
    ) as pool:
        chunk = max(1, len(specs) // (processes * 4))
        return list(pool.map(_worker_run, specs, chunksize=chunk))
