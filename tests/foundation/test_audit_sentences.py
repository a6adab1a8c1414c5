"""Every audit code in the codebase has a sentence, and its fields exist in what is recorded.

The codes are found in the source, not listed by hand: every call of
``audit_record`` or ``platform_audit_record`` whose code is a literal (or a
conditional of literals), and, when the code is a parameter of the enclosing
function, every literal the callers of that function pass for it.
"""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass
from pathlib import Path

import pytest

from tenants.audit.sentences import SENTENCES, audit_sentence, describe_events

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("tenants", "platform", "api", "frontend", "realtime")
RECORDERS = {"audit_record", "platform_audit_record"}


@dataclass(frozen=True)
class Recorded:
    code: str
    where: str
    data_keys: frozenset[str] | None  # None: not a literal dict, cannot be checked


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _literals(node: ast.expr | None) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def _argument(call: ast.Call, name: str, position: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def _data_keys(call: ast.Call) -> frozenset[str] | None:
    data = _argument(call, "data", 99)
    if data is None:
        return frozenset()
    if isinstance(data, ast.Dict) and all(isinstance(k, ast.Constant) for k in data.keys):
        return frozenset(k.value for k in data.keys)
    return None


def recorded_codes() -> list[Recorded]:
    trees = {}
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                trees[path.relative_to(ROOT)] = ast.parse(path.read_text())
    found: list[Recorded] = []
    pass_through: list[tuple[str, str, int, frozenset[str] | None]] = []
    for path, tree in trees.items():
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for function in functions:
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and _name(call.func) in RECORDERS):
                    continue
                argument = _argument(call, "code", 0)
                where = f"{path}:{call.lineno}"
                codes = _literals(argument)
                if codes is not None:
                    found += [Recorded(code, where, _data_keys(call)) for code in codes]
                    continue
                params = [a.arg for a in function.args.args + function.args.kwonlyargs]
                assert isinstance(argument, ast.Name) and argument.id in params, (
                    f"{where}: cannot tell which audit code this records; pass a literal or a "
                    "parameter of the enclosing function"
                )
                index = params.index(argument.id)
                pass_through.append((function.name, argument.id, index, _data_keys(call)))
    for function_name, param, index, keys in pass_through:
        callers = 0
        for path, tree in trees.items():
            for call in ast.walk(tree):
                if isinstance(call, ast.Call) and _name(call.func) == function_name:
                    codes = _literals(_argument(call, param, index))
                    assert codes is not None, f"{path}:{call.lineno}: {param} is not a literal"
                    found += [Recorded(c, f"{path}:{call.lineno}", keys) for c in codes]
                    callers += 1
        assert callers, f"nobody calls {function_name}, which records an audit code"
    return found


RECORDED = recorded_codes()


def test_the_source_scan_finds_the_codes_we_know():
    codes = {r.code for r in RECORDED}
    assert len(codes) > 40
    # Literal, conditional, and passed through a helper's parameter (keyword and positional).
    for code in (
        "publishing.template.publish_requested",
        "publishing.central_server.updated",
        "publishing.app_user.variable_set",
        "organization.suspended",
        "organization.invitation.created",
    ):
        assert code in codes


@pytest.mark.parametrize("recorded", RECORDED, ids=lambda r: f"{r.code}@{r.where}")
def test_every_recorded_code_has_a_sentence_with_known_fields(recorded):
    assert recorded.code in SENTENCES, f"{recorded.where}: add a sentence for {recorded.code}"
    fields = {f for _, f, _, _ in string.Formatter().parse(SENTENCES[recorded.code]) if f}
    if recorded.data_keys is not None:
        unknown = fields - {"actor", "target"} - recorded.data_keys
        assert not unknown, f"{recorded.where} records no {sorted(unknown)}"


def test_no_sentence_for_a_code_nobody_records():
    assert set(SENTENCES) - {r.code for r in RECORDED} == set()


def test_sentences_read_well():
    assert (
        audit_sentence(
            "publishing.template.publish_requested", actor="Ada", target="Household visit"
        )
        == "Ada asked to publish Household visit"
    )
    assert (
        audit_sentence("organization.member.role_changed", actor="", target="b@x.org", data={})
        == "Publish MDM changed the role of b@x.org from ? to ?"
    )
    assert audit_sentence("unknown.code.here") == "unknown.code.here"


@pytest.mark.django_db
def test_events_name_the_person_who_acted(org_a, make_user):
    from django.db import connection

    from tenants.audit.models import AuditEvent
    from tenants.audit.services import audit_record

    ada = make_user(email="ada@example.org")
    ada.full_name = "Ada Lovelace"
    ada.save()
    connection.set_tenant(org_a)
    audit_record("publishing.template.publish_requested", actor=ada, target_label="Visit")
    audit_record("organization.provisioned")
    events = describe_events(AuditEvent.objects.order_by("id"))
    assert [e.sentence for e in events][-2:] == [
        "Ada Lovelace asked to publish Visit",
        "Publish MDM set up the organization",
    ]
