"""Form routes of the fake Central: forms, drafts, publishing, attachments, assignments.

Follows Central's rules: a new form starts as a draft and needs a ``meta`` group
(400.27); a new draft must keep the form id (400.8); publishing a version the
form already had answers 409.6 and changes nothing (the draft keeps its version,
as Central's transaction rolls back); only attachments the definition declares
can be uploaded (else 404.1); a grant that exists answers 409.3 and a missing one
404.1 on revoke. Forms declaring entities create and publish datasets
(``datasets.py``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from tests.fakes.central import problems
from tests.fakes.central.blob_race import BlobRace
from tests.fakes.central.datasets import DatasetRoutes
from tests.fakes.central.models import (
    ROLES,
    Account,
    Attachment,
    Definition,
    FormRecord,
    Request,
    central_token,
    enketo_id,
    json_body,
    now,
)
from tests.fakes.central.problems import Problem
from tests.fakes.central.xforms import ParsedForm, intake, parse_xform

__all__ = ["FormRoutes", "json_body"]


class FormRoutes(DatasetRoutes):
    """Mixed into :class:`CentralState`, which provides the state and ``_project``."""

    accounts: dict[str, Account]
    app_users: dict[int, dict[str, Any]]
    forms: dict[tuple[int, str], FormRecord]
    blob_race: BlobRace

    def _project(self, req: Request, pid: str) -> dict[str, Any]:
        raise NotImplementedError

    def _form(self, req: Request, pid: str, fid: str) -> FormRecord:
        self._project(req, pid)
        form = self.forms.get((int(pid), fid))
        if form is None:
            raise problems.not_found()
        return form

    # --- forms ---------------------------------------------------------------------

    def list_forms(self, req: Request, pid: str) -> tuple[int, Any]:
        self._project(req, pid)
        return 200, [_form_json(f) for (p, _), f in self.forms.items() if p == int(pid)]

    def get_form(self, req: Request, pid: str, fid: str) -> tuple[int, Any]:
        return 200, _form_json(self._form(req, pid, fid))

    def get_draft(self, req: Request, pid: str, fid: str) -> tuple[int, Any]:
        form = self._form(req, pid, fid)
        if form.draft is None:
            raise problems.not_found()
        return 200, _form_json(form, form.draft)

    def _new_definition(self, parsed: ParsedForm, previous: Definition | None) -> Definition:
        definition = _definition(parsed, previous)
        definition.id = self.next_id("def")
        return definition

    def _intake(self, req: Request) -> ParsedForm:
        content_type = req.headers.get("content-type", "").split(";")[0].strip()
        fallback = req.headers.get("x-xlsform-formid-fallback")
        parsed = intake(req.body, content_type, unquote_or_none(fallback))
        if parsed.warnings and req.query.get("ignoreWarnings") != "true":
            raise Problem(
                400.16,
                "The Form is valid, but with warnings. Please check the warnings and if they "
                "are acceptable resubmit with ?ignoreWarnings=true",
                details={"warnings": {"xlsFormWarnings": parsed.warnings}},
            )
        return parsed

    def create_form(self, req: Request, pid: str) -> tuple[int, Any]:
        self._project(req, pid)
        parsed = self._intake(req)
        if not parsed.has_meta:
            raise problems.missing_meta()
        key = (int(pid), parsed.xml_form_id)
        if key in self.forms:
            raise problems.already_exists(
                ["projectId", "xmlFormId"], [str(pid), parsed.xml_form_id], "forms"
            )
        merges = self.datasets_check(int(pid), parsed.entities)
        form = FormRecord(project_id=int(pid), xml_form_id=parsed.xml_form_id, created_at=now())
        draft = self._new_definition(parsed, previous=None)
        self.link_published_datasets(int(pid), draft)
        if req.query.get("publish") == "true":
            form.draft = draft
            self._publish_check(form, draft.version)
        self.datasets_merge(int(pid), draft, merges)
        form.draft = draft
        self.forms[key] = form
        if req.query.get("publish") == "true":
            self._publish(form, None)
        return 200, _form_json(form)

    def create_draft(self, req: Request, pid: str, fid: str) -> tuple[int, Any]:
        form = self._form(req, pid, fid)
        if not req.body:
            if form.current is None:  # nothing published to copy from
                raise problems.not_found()
            parsed = parse_xform(form.current.xml)
        else:
            parsed = self._intake(req)
        if parsed.xml_form_id != form.xml_form_id:
            raise problems.unexpected_value(
                "xmlFormId", parsed.xml_form_id, "does not match the form you are updating"
            )
        merges = self.datasets_check(form.project_id, parsed.entities)
        draft = self._new_definition(parsed, previous=form.draft or form.current)
        self.datasets_merge(form.project_id, draft, merges)
        form.draft = draft
        return 200, {"success": True}

    def publish(self, req: Request, pid: str, fid: str) -> tuple[int, Any]:
        form = self._form(req, pid, fid)
        if form.draft is None:
            raise problems.not_found()
        version = req.query.get("version") or None  # Central ignores a blank ?version=
        self._publish_check(form, version)
        self._publish(form, version)
        return 200, {"success": True}

    def _publish_check(self, form: FormRecord, version: str | None) -> None:
        """Everything that can refuse a publish, checked before anything changes."""
        assert form.draft is not None
        target = form.draft.version if version is None else version
        if any(d.version == target for d in form.published):
            raise problems.version_conflict(form.xml_form_id, target)
        self.datasets_publish_check(form.project_id, form.draft)

    def _publish(self, form: FormRecord, version: str | None) -> None:
        draft = form.draft
        assert draft is not None
        if version is not None:  # Central writes a new def with the version set in the XML
            draft.xml = _set_version(draft.xml, version)
            draft.version = version
            parsed = parse_xform(draft.xml)
            draft.hash, draft.sha, draft.sha256 = parsed.hash, parsed.sha, parsed.sha256
        draft.published_at = now()
        draft.draft_token = draft.enketo_id = None
        if form.enketo_id is None:
            self.next_id("actor")  # Central makes a single-use actor to push the form to Enketo
            form.enketo_id, form.enketo_once_id = enketo_id(), central_token()
        form.current, form.draft = draft, None
        form.published.append(draft)
        self.datasets_publish(form.project_id, draft, draft.published_at)

    def list_versions(self, req: Request, pid: str, fid: str) -> tuple[int, Any]:
        form = self._form(req, pid, fid)
        return 200, [_form_json(form, d) for d in reversed(form.published)]

    def draft_attachments(self, req: Request, pid: str, fid: str) -> tuple[int, Any]:
        form = self._form(req, pid, fid)
        if form.draft is None:
            raise problems.not_found()
        return 200, [a.json(n) for n, a in form.draft.attachments.items()]

    def published_attachments(self, req: Request, pid: str, fid: str) -> tuple[int, Any]:
        form = self._form(req, pid, fid)
        definition = form.current or form.draft
        assert definition is not None
        return 200, [a.json(n) for n, a in definition.attachments.items()]

    def upload_attachment(self, req: Request, pid: str, fid: str, name: str) -> tuple[int, Any]:
        form = self._form(req, pid, fid)
        if form.draft is None or name not in form.draft.attachments:
            raise problems.not_found()
        attachment = form.draft.attachments[name]
        content_type = req.headers.get("content-type") or "application/octet-stream"
        stored = self.blob_race.stores(req.body, content_type)  # see blob_race.py
        attachment.data = req.body if stored else None
        attachment.content_type = content_type if stored else None
        attachment.updated_at = now()
        return 200, attachment.json(name)

    # --- assignments -----------------------------------------------------------------

    def _role(self, role: str) -> int:
        for role_id, _, system in ROLES:
            if role in (str(role_id), system):
                return role_id
        raise problems.not_found()

    def _actor(self, actor_id: int) -> dict[str, Any]:
        if actor_id in self.app_users:
            if self.app_users[actor_id].get("deletedAt"):  # Actors.getById skips deleted actors
                raise problems.not_found()
            return {k: v for k, v in self.app_users[actor_id].items() if k != "token"}
        for account in self.accounts.values():
            if account.id == actor_id:
                return {"id": account.id, "type": "user", "displayName": account.email}
        raise problems.not_found()

    def list_assignments(self, req: Request, pid: str, fid: str, role: str) -> tuple[int, Any]:
        form, role_id = self._form(req, pid, fid), self._role(role)
        actors = sorted(a for r, a in form.assignments if r == role_id)
        return 200, [self._actor(a) for a in actors]

    def assign(self, req: Request, pid: str, fid: str, role: str, actor: str) -> tuple[int, Any]:
        form, role_id = self._form(req, pid, fid), self._role(role)
        self._actor(int(actor))
        if (role_id, int(actor)) in form.assignments:
            raise problems.already_exists(
                ["actorId", "roleId", "acteeId"],
                [actor, str(role_id), form.actee_id],
                "assignments",
            )
        form.assignments.add((role_id, int(actor)))
        return 200, {"success": True}

    def project_form_assignments(self, req: Request, pid: str, role: str) -> tuple[int, Any]:
        """``GET /projects/{p}/assignments/forms/{role}``: every form grant of a role, at once."""
        self._project(req, pid)
        role_id = self._role(role)
        return 200, [
            {"actorId": actor, "roleId": r, "xmlFormId": form.xml_form_id}
            for (p, _), form in self.forms.items()
            if p == int(pid)
            for r, actor in sorted(form.assignments)
            if r == role_id
        ]

    def unassign(self, req: Request, pid: str, fid: str, role: str, actor: str) -> tuple[int, Any]:
        form, role_id = self._form(req, pid, fid), self._role(role)
        self._actor(int(actor))
        if (role_id, int(actor)) not in form.assignments:
            raise problems.not_found()
        form.assignments.discard((role_id, int(actor)))
        return 200, {"success": True}


def unquote_or_none(value: str | None) -> str | None:
    return unquote(value) if value else None


def _definition(parsed: ParsedForm, previous: Definition | None) -> Definition:
    """A new definition; like Central, carry forward files (or dataset links) whose name
    and type match."""
    attachments: dict[str, Attachment] = {}
    for name, kind in parsed.attachments.items():
        old = previous.attachments.get(name) if previous else None
        if old is not None and old.type == kind:
            attachments[name] = Attachment(
                kind, old.data, old.content_type, old.updated_at, old.dataset
            )
        else:
            attachments[name] = Attachment(kind)
    return Definition(
        parsed.xml,
        parsed.version,
        parsed.name,
        parsed.hash,
        attachments,
        sha=parsed.sha,
        sha256=parsed.sha256,
        draft_token=central_token(),
        enketo_id=enketo_id(),
    )


def _set_version(xml: str, version: str) -> str:
    """Rewrite the version attribute of the primary instance's root, as Central does."""
    pattern = re.compile(r"(<instance>\s*<[\w:.-]+)([^>]*?)(/?>)")

    def repl(match: re.Match[str]) -> str:
        attrs = re.sub(r'\sversion="[^"]*"', "", match.group(2))
        return f'{match.group(1)}{attrs} version="{version}"{match.group(3)}'

    return pattern.sub(repl, xml, count=1)


def _form_json(form: FormRecord, definition: Definition | None = None) -> dict[str, Any]:
    """Central's Form with its def: ``enketoId`` is the draft's for a draft, the form's for
    the published definition, null for older versions; ``enketoOnceId`` only for the latter."""
    definition = definition or form.current or form.draft
    assert definition is not None
    is_current = definition is form.current
    if definition is form.draft:
        enketo = definition.enketo_id
    else:
        enketo = form.enketo_id if is_current else None
    return {
        "projectId": form.project_id,
        "xmlFormId": form.xml_form_id,
        "state": "open",
        "enketoId": enketo,
        "enketoOnceId": form.enketo_once_id if is_current else None,
        "createdAt": form.created_at,
        "updatedAt": form.updated_at,
        "webformsEnabled": False,
        "keyId": None,
        "version": definition.version,
        "hash": definition.hash,
        "sha": definition.sha,
        "sha256": definition.sha256,
        "draftToken": definition.draft_token,
        "publishedAt": definition.published_at,
        "name": definition.name,
    }
