"""Validate the form once, then make every app user's XForm from it.

Variants of one template differ only in string literals (variable values), the
app user's name (in the form id, the title and ``_APP_USER`` list names) and the
version. Those are exactly the parts we control and check ourselves:

- the structure is checked by one full pyxform conversion of a *placeholder*
  variant, whose values, name and version are unique tokens;
- each app user's values are checked by ``render_variant`` (the literal rules of
  ``literals.py``: characters an XForm cannot carry are refused at their row), and
  its name by the model's validator (letters, digits, underscores);
- each variant's XForm is the placeholder's with the tokens replaced (values as
  XML-escaped XPath literals), and must parse as XML with no token left.

So pyxform's ~50-70 ms of CPU is paid once per publish instead of once per app
user, which is what lets a 100-user publish spend its time talking to Central.
Anything this path cannot vouch for (the placeholder does not convert, a token
is not where expected, a variant has other variables) goes through the full
per-variant conversion in ``validate.py`` instead, which also reports per-app-user
errors with sheet and row.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from defusedxml.ElementTree import fromstring

from .errors import Issue, TemplateError
from .literals import xpath_string_literal
from .render import VariantSpec, render_variant
from .source import SourceForm
from .validate import ValidatedVariant, validate_variant

# Placeholders, not credentials.
APP_USER_TOKEN = "PMDMAPPUSERTOKEN"  # noqa: S105
VERSION_TOKEN = "PMDMVERSIONTOKEN"  # noqa: S105


def _value_token(index: int) -> str:
    return f"PMDMVALUETOKEN{index}X"


def _attribute(text: str) -> str:
    return escape(text, {'"': "&quot;"})


class _SharedTemplate:
    """The placeholder variant's XForm and where each token sits in it."""

    def __init__(self, source: SourceForm, first: VariantSpec, names: list[str]):
        self.names = names
        self.tokens = {name: _value_token(i) for i, name in enumerate(names)}
        placeholder = VariantSpec(
            app_user=APP_USER_TOKEN,
            title_base=first.title_base,
            form_id_base=first.form_id_base,
            version=VERSION_TOKEN,
            variables=self.tokens,
        )
        validated = validate_variant(render_variant(source, placeholder))
        self.xml = validated.xform_xml.decode("utf-8")
        self.warnings = validated.warnings
        self.itemsets = validated.itemsets_csv
        self.literals = {name: f"'{token}'" for name, token in self.tokens.items()}
        self.usable = (
            all(literal in self.xml for literal in self.literals.values())
            and APP_USER_TOKEN in self.xml
            and VERSION_TOKEN in self.xml
            and not any(APP_USER_TOKEN in w or VERSION_TOKEN in w for w in self.warnings)
            and (self.itemsets is None or APP_USER_TOKEN not in self.itemsets.decode())
        )

    def fits(self, spec: VariantSpec, first: VariantSpec) -> bool:
        return (
            sorted(spec.variables) == self.names
            and spec.title_base == first.title_base
            and spec.form_id_base == first.form_id_base
        )

    def variant(self, source: SourceForm, spec: VariantSpec) -> ValidatedVariant:
        rendered = render_variant(source, spec)  # refuses values an XForm cannot carry
        xml = self.xml
        for name, literal in self.literals.items():
            xml = xml.replace(literal, _attribute(xpath_string_literal(spec.variables[name])))
        xml = xml.replace(VERSION_TOKEN, spec.version).replace(APP_USER_TOKEN, spec.app_user)
        data = xml.encode("utf-8")
        try:
            fromstring(data)
        except ParseError as exc:
            raise TemplateError(
                [
                    Issue(
                        sheet=None,
                        row=None,
                        app_user=spec.app_user,
                        message=f"The form for this app user is not valid XML ({exc}).",
                    )
                ]
            ) from exc
        if "PMDMVALUETOKEN" in xml:
            raise TemplateError(
                [
                    Issue(
                        sheet=None,
                        row=None,
                        app_user=spec.app_user,
                        message="A variable could not be placed in the form.",
                    )
                ]
            )
        return ValidatedVariant(
            rendered=rendered,
            xform_xml=data,
            warnings=list(self.warnings),
            itemsets_csv=self.itemsets,
        )


def render_all_shared(
    source: SourceForm, specs: Sequence[VariantSpec], full
) -> tuple[list[ValidatedVariant], list[Issue]]:
    """Like ``render_all``; ``full(spec)`` is the per-variant fallback (outcome, issues)."""
    first = specs[0]
    names = sorted(first.variables)
    try:
        shared = _SharedTemplate(source, first, names)
    except TemplateError:
        shared = None  # the template itself is broken: the full path reports it per app user
    variants: list[ValidatedVariant] = []
    issues: list[Issue] = []
    for spec in specs:
        if shared is not None and shared.usable and shared.fits(spec, first):
            try:
                variants.append(shared.variant(source, spec))
            except TemplateError as exc:
                issues.extend(exc.issues)
            continue
        variant, problems = full(spec)
        issues.extend(problems)
        if variant is not None:
            variants.append(variant)
    return variants, issues
