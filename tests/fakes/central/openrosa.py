"""What ODK Collect asks the fake Central with an app user's key: ``/v1/key/{token}/...``.

Central strips ``/key/{token}`` and authenticates the request as the app user
behind it: a token that is not 64 characters of ``[A-Za-z0-9!$]`` answers 401.2,
an unknown or revoked one 403.1 (never 401, so that clients do not prompt for a
password). The OpenRosa endpoints (``formList``, ``manifest``) first require the
``X-OpenRosa-Version: 1.0`` request header (else 400.6), answer ``text/xml``
with the ``X-OpenRosa-*`` headers, and write their errors as an
``OpenRosaResponse``; the form download and attachment routes are ordinary
endpoints with JSON errors. The form list holds only published, open forms the
app user is assigned to, ordered by name; the manifest only files with content.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from tests.fakes.central import problems
from tests.fakes.central.models import ROLES, FormRecord, Raw, Request
from tests.fakes.central.problems import Problem

_TOKEN = re.compile(r"^[A-Za-z0-9!$]{64}$")
_KEY_PATH = re.compile(r"^/v1/key/(?P<key>[^/]+)(?P<rest>/.*)$")
# Roles whose verbs include form.read or open_form.read (all but the password-reset token).
_READ_ROLES = {"admin", "app-user", "formview", "manager", "viewer", "formfill"}
_PROJECT = r"/projects/(?P<pid>\d+)"
_FORM = _PROJECT + r"/forms/(?P<fid>[^/]+?)"


def _openrosa_headers(content_type: str = "text/xml; charset=utf-8") -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "Content-Language": "en",
        "X-OpenRosa-Version": "1.0",
        "X-OpenRosa-Accept-Content-Length": "100000000",
    }


def _openrosa_error(problem: Problem) -> tuple[int, Raw]:
    body = (
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0">'
        f'<message nature="error">{escape(problem.message)}</message></OpenRosaResponse>'
    )
    return problem.status, Raw(body.encode(), {"Content-Type": "text/xml; charset=utf-8"})


class OpenRosaRoutes:
    """Mixed into :class:`CentralState`: app-user key routes."""

    app_users: dict[int, dict[str, Any]]
    forms: dict[tuple[int, str], FormRecord]
    projects: dict[int, dict[str, Any]]

    def dispatch_key(self, req: Request) -> tuple[int, Any]:
        match = _KEY_PATH.match(req.path)
        if match is None:
            raise problems.not_found()
        key, rest = unquote(match["key"]), match["rest"]
        base = f"{_domain(req)}{req.path[: match.start('rest')]}"
        routes = [
            (_PROJECT + r"/formList", self.key_form_list, True),
            (_FORM + r"/manifest", self.key_manifest, True),
            (_FORM + r"\.xml", self.key_form_xml, False),
            (_FORM + r"/attachments/(?P<name>[^/]+)", self.key_attachment, False),
        ]
        for pattern, route, openrosa in routes:
            found = re.fullmatch(pattern, rest)
            if found is None or req.method != "GET":
                continue
            args = {k: unquote(v) for k, v in found.groupdict().items()}
            if not openrosa:
                return route(self._key_actor(key), base, **args)
            try:
                if req.headers.get("x-openrosa-version") != "1.0":
                    raise _invalid_openrosa_header(req.headers.get("x-openrosa-version"))
                return route(self._key_actor(key), base, **args, query=req.query)
            except Problem as problem:
                return _openrosa_error(problem)
        self._key_actor(key)
        raise problems.not_found()

    def _key_actor(self, key: str) -> dict[str, Any]:
        if not _TOKEN.match(key):
            raise problems.auth_failed()
        for user in self.app_users.values():
            if user.get("token") == key and not user.get("deletedAt"):
                return user
        raise problems.forbidden()

    def _readable(self, actor: dict[str, Any], form: FormRecord) -> bool:
        roles = {role_id for role_id, _, system in ROLES if system in _READ_ROLES}
        return any(r in roles and a == actor["id"] for r, a in form.assignments)

    def _key_form(self, actor: dict[str, Any], pid: str, fid: str) -> FormRecord:
        form = self.forms.get((int(pid), fid))
        if form is None or int(pid) not in self.projects:
            raise problems.not_found()
        if form.current is None or not self._readable(actor, form):
            raise problems.forbidden()
        return form

    def key_form_list(
        self, actor: dict[str, Any], base: str, pid: str, query: dict[str, str]
    ) -> tuple[int, Any]:
        if int(pid) not in self.projects:
            raise problems.not_found()
        forms = [
            f
            for (p, _), f in self.forms.items()
            if p == int(pid)
            and f.current is not None
            and self._readable(actor, f)
            and query.get("formID", f.xml_form_id) == f.xml_form_id
        ]
        forms.sort(key=lambda f: (f.current.name or f.xml_form_id) if f.current else "")
        items = []
        for form in forms:
            definition = form.current
            assert definition is not None
            url = f"{base}/projects/{pid}/forms/{quote(form.xml_form_id, safe='')}"
            manifest = (
                f"<manifestUrl>{url}/manifest</manifestUrl>" if definition.attachments else ""
            )
            items.append(
                "<xform>"
                f"<formID>{escape(form.xml_form_id)}</formID>"
                f"<name>{escape(definition.name or form.xml_form_id)}</name>"
                f"<version>{escape(definition.version)}</version>"
                f"<hash>md5:{definition.hash}</hash>"
                f"<downloadUrl>{url}.xml</downloadUrl>{manifest}"
                "</xform>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<xforms xmlns="http://openrosa.org/xforms/xformsList">{"".join(items)}</xforms>'
        )
        return 200, Raw(body.encode(), _openrosa_headers())

    def key_manifest(
        self, actor: dict[str, Any], base: str, pid: str, fid: str, query: dict[str, str]
    ) -> tuple[int, Any]:
        form = self._key_form(actor, pid, fid)
        assert form.current is not None
        url = f"{base}/projects/{pid}/forms/{quote(fid, safe='')}/attachments"
        files = [
            "<mediaFile>"
            f"<filename>{escape(name)}</filename>"
            f"<hash>md5:{hashlib.md5(a.data, usedforsecurity=False).hexdigest()}</hash>"
            f"<downloadUrl>{url}/{quote(name, safe='')}</downloadUrl>"
            "</mediaFile>"
            for name, a in form.current.attachments.items()
            if a.data is not None
        ]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<manifest xmlns="http://openrosa.org/xforms/xformsManifest">{"".join(files)}'
            "</manifest>"
        )
        return 200, Raw(body.encode(), _openrosa_headers())

    def key_form_xml(self, actor: dict[str, Any], base: str, pid: str, fid: str) -> tuple[int, Any]:
        form = self._key_form(actor, pid, fid)
        assert form.current is not None
        return 200, Raw(
            form.current.xml.encode(), {"Content-Type": "application/xml; charset=utf-8"}
        )

    def key_attachment(
        self, actor: dict[str, Any], base: str, pid: str, fid: str, name: str
    ) -> tuple[int, Any]:
        form = self._key_form(actor, pid, fid)
        assert form.current is not None
        attachment = form.current.attachments.get(name)
        if attachment is None or attachment.data is None:
            raise problems.not_found()
        headers = {
            "Content-Type": attachment.content_type or "application/octet-stream",
            "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
        }
        return 200, Raw(attachment.data, headers)


def _domain(req: Request) -> str:
    return f"http://{req.headers.get('host', '127.0.0.1')}"


def _invalid_openrosa_header(value: str | None) -> Problem:
    message = "An expected header field (X-OpenRosa-Version) did not match the expected format"
    return Problem(
        400.6,
        f"{message}." if value is None else f"{message} (got: {value or '[nothing]'}).",
        details={"field": "X-OpenRosa-Version", "value": value},
    )
