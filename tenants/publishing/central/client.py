"""A thin, typed client for the parts of ODK Central's REST API that Publish MDM uses.

Why not pyodk's ``Client``: it keeps the session token in one cache file shared
by every user of the machine, so two organizations pointing at the same Central
with different accounts could end up sharing a token. This client is built per
tenant from that tenant's credentials and keeps its token in memory: on its own,
or in a session slot the process shares between the jobs of one organization,
server and account (``sessions.py``).

Semantics worth knowing (from Central's API):

* ``create_form`` creates the form *with a draft* (``publish=false``); nothing is
  visible to data collectors until ``publish_draft``.
* ``create_draft`` replaces any existing draft of the form.
* Attachments are declared by the form definition; uploads can only fill the
  names Central expects (others answer 404).
* ``publish_draft(version=...)`` answers 409.6 if that version was published before.
* Creates are never retried blindly: on :class:`CentralUnavailable` the outcome is
  unknown, so look (``get_form``, ``list_projects``...) before creating again.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests

from tenants.publishing.central.errors import CentralConflict, CentralError, CentralNotFound
from tenants.publishing.central.sessions import SessionSlot
from tenants.publishing.central.transport import Transport

JSON = dict[str, Any]

XML_CONTENT_TYPE = "application/xml"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS_CONTENT_TYPE = "application/vnd.ms-excel"
APP_USER_ROLE = "app-user"
PROBE_TIMEOUT = 10.0

# The primary instance's root element carries the form id; only used to name the
# operation in messages before Central has parsed the form.
_FORM_ID = re.compile(rb"<instance>\s*<[\w:.-]+[^>]*?\sid=\"([^\"]+)\"")


class CentralClient:
    """One account on one Central server. Thread-safe; share it within one tenant only."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
        max_concurrency: int = 8,
        retries: int = 3,
        backoff: float = 0.5,
        session: requests.Session | None = None,
        session_slot: SessionSlot | None = None,
    ) -> None:
        """
        Args:
            base_url: the server root, e.g. ``https://central.example.org`` (a trailing
                ``/v1`` is accepted).
            username: the e-mail address of the Central web user.
            timeout: seconds for each HTTP exchange (connect and read).
            max_concurrency: requests in flight at once from this client.
            retries: extra attempts for idempotent calls on network errors, 429 and 5xx.
            backoff: first retry delay in seconds; doubles each time, plus jitter.
            session: a ``requests.Session`` to use (tests); by default one of our own.
            session_slot: where the Central session lives; shared slots (from
                ``sessions.session_registry()``) outlive the client. By default the
                client has its own, ended by :meth:`close`.
        """
        self._http = Transport(
            base_url,
            username,
            password,
            timeout=timeout,
            max_concurrency=max_concurrency,
            retries=retries,
            backoff=backoff,
            session=session,
            session_slot=session_slot,
        )
        self._app_user_role_id: int | None = None

    @property
    def base_url(self) -> str:
        return self._http.base_url

    @property
    def username(self) -> str:
        return self._http.username

    def __repr__(self) -> str:
        return f"CentralClient(base_url={self.base_url!r}, username={self.username!r})"

    def close(self) -> None:
        """Release connections; sign out (best effort) unless the session is shared."""
        self._http.close()

    def __enter__(self) -> CentralClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- sessions and projects ---------------------------------------------------

    def probe_login(self) -> None:
        """Check the credentials now (10 s, no retries); raise CentralAuthError if refused."""
        self._http.login(operation="sign in", timeout=min(self._http.timeout, PROBE_TIMEOUT))

    def list_projects(self) -> list[JSON]:
        return self._get_json("/v1/projects", "list projects")

    def create_project(self, name: str) -> JSON:
        return self._post_json("/v1/projects", f"create project {name!r}", json={"name": name})

    def get_project(self, project_id: int) -> JSON:
        return self._get_json(f"/v1/projects/{int(project_id)}", f"get project {project_id}")

    # --- app users -------------------------------------------------------------

    def list_app_users(self, project_id: int) -> list[JSON]:
        """App users of the project; each has ``id``, ``displayName`` and ``token``."""
        return self._get_json(
            f"{_project(project_id)}/app-users", f"list app users of project {project_id}"
        )

    def create_app_user(self, project_id: int, display_name: str) -> JSON:
        """Create an app user; the answer's ``token`` is what a device is configured with."""
        return self._post_json(
            f"{_project(project_id)}/app-users",
            f"create app user {display_name!r} in project {project_id}",
            json={"displayName": display_name},
        )

    def delete_app_user(self, project_id: int, actor_id: int) -> None:
        """Delete the app user: its key stops working and its form roles go.

        CentralNotFound when it is already gone (deleted before, or never there).
        """
        self._http.request(
            "DELETE",
            f"{_project(project_id)}/app-users/{int(actor_id)}",
            operation=f"delete app user {actor_id} in project {project_id}",
        )

    # --- forms -------------------------------------------------------------------

    def list_forms(self, project_id: int) -> list[JSON]:
        """Every form of the project, published or only drafted (``publishedAt`` null)."""
        return self._get_json(
            f"{_project(project_id)}/forms", f"list forms of project {project_id}"
        )

    def get_form(self, project_id: int, xml_form_id: str) -> JSON | None:
        """The form (its published definition, else its draft), or ``None`` if absent."""
        try:
            return self._get_json(
                _form(project_id, xml_form_id), f"get form {xml_form_id!r} in project {project_id}"
            )
        except CentralNotFound:
            return None

    def create_form(
        self,
        project_id: int,
        definition: bytes,
        *,
        content_type: str = XML_CONTENT_TYPE,
        form_id_fallback: str | None = None,
    ) -> JSON:
        """Create a new form holding ``definition`` as its draft (not published).

        ``definition`` is XForm XML, or an .xlsx/.xls XLSForm (with the matching
        ``content_type``) that Central converts; ``form_id_fallback`` names the form
        when the XLSForm's settings give no ``form_id``. Warnings are ignored on
        purpose: the publisher has already checked the form. 409.3 (CentralConflict)
        if the form id exists in the project.
        """
        form_id = _form_id_hint(definition, content_type) or form_id_fallback
        where = f"form {form_id!r}" if form_id else "a form"
        headers = {"Content-Type": content_type}
        if form_id_fallback:
            headers["X-XlsForm-FormId-Fallback"] = quote(form_id_fallback)
        return self._post_json(
            f"{_project(project_id)}/forms",
            f"create {where} in project {project_id}",
            params={"ignoreWarnings": "true", "publish": "false"},
            data=definition,
            headers=headers,
        )

    def create_draft(
        self,
        project_id: int,
        xml_form_id: str,
        definition: bytes,
        *,
        content_type: str = XML_CONTENT_TYPE,
    ) -> JSON:
        """Replace the form's draft with ``definition`` (its form id must match)."""
        return self._post_json(
            f"{_form(project_id, xml_form_id)}/draft",
            f"create a draft of form {xml_form_id!r} in project {project_id}",
            params={"ignoreWarnings": "true"},
            data=definition,
            headers={"Content-Type": content_type},
        )

    def list_draft_attachments(self, project_id: int, xml_form_id: str) -> list[JSON]:
        """Attachments the draft expects: ``name``, ``type`` and ``exists`` (uploaded yet)."""
        return self._get_json(
            f"{_form(project_id, xml_form_id)}/draft/attachments",
            f"list draft attachments of form {xml_form_id!r} in project {project_id}",
        )

    def upload_draft_attachment(
        self, project_id: int, xml_form_id: str, name: str, data: bytes, content_type: str
    ) -> JSON | None:
        """Fill one expected attachment of the draft (404 if the form does not expect it).

        Returns what Central says it now holds for that attachment (``exists``, and the
        file's md5 as ``hash``; Central 2025.1 and later), or ``None`` when Central only
        answers ``{"success": true}``. A 200 does not prove the file was kept: under
        concurrent uploads of the same new file Central may store nothing (``exists``
        false), so callers confirm before publishing.

        Retried like an idempotent call: an upload replaces the file, so repeating
        it leaves the same state.
        """
        response = self._http.request(
            "POST",
            f"{_form(project_id, xml_form_id)}/draft/attachments/{quote(name, safe='')}",
            operation=f"upload attachment {name!r} to form {xml_form_id!r} in project {project_id}",
            retryable=True,
            data=data,
            headers={"Content-Type": content_type},
        )
        try:
            answer = response.json()
        except ValueError:
            return None
        return answer if isinstance(answer, dict) and "exists" in answer else None

    def publish_draft(self, project_id: int, xml_form_id: str, version: str | None = None) -> None:
        """Publish the draft, setting its version first when given (409.6 if it was used)."""
        params = {"version": version} if version is not None else None
        label = f" version {version!r}" if version is not None else ""
        self._http.request(
            "POST",
            f"{_form(project_id, xml_form_id)}/draft/publish",
            operation=f"publish form {xml_form_id!r}{label} in project {project_id}",
            params=params,
        )

    # --- roles and form assignments ---------------------------------------------

    def list_roles(self) -> list[JSON]:
        return self._get_json("/v1/roles", "list roles")

    def app_user_role_id(self) -> int:
        """Id of the system ``app-user`` role (what gives an app user access to a form)."""
        if self._app_user_role_id is None:
            for role in self.list_roles():
                if role.get("system") == APP_USER_ROLE:
                    self._app_user_role_id = int(role["id"])
                    break
            else:
                raise CentralError(
                    f"Central has no {APP_USER_ROLE!r} role (list roles)", operation="list roles"
                )
        return self._app_user_role_id

    def list_project_form_assignments(
        self, project_id: int, role: int | str = APP_USER_ROLE
    ) -> list[JSON]:
        """Every form grant of ``role`` in the project, in one call:
        ``[{"actorId", "roleId", "xmlFormId"}]``."""
        return self._get_json(
            f"{_project(project_id)}/assignments/forms/{_role(role)}",
            f"list form assignments in project {project_id}",
        )

    def list_form_assignments(self, project_id: int, xml_form_id: str, role_id: int) -> list[JSON]:
        """Actors (e.g. app users) holding ``role_id`` on the form."""
        return self._get_json(
            f"{_form(project_id, xml_form_id)}/assignments/{int(role_id)}",
            f"list assignments of form {xml_form_id!r} in project {project_id}",
        )

    def assign_form(
        self, project_id: int, xml_form_id: str, role_id: int | str, actor_id: int
    ) -> None:
        """Grant ``role_id`` (an id, or a system name such as ``app-user``) on the form to
        the actor. Already assigned counts as done; CentralNotFound if the actor is gone.

        Safe to retry: Central answers 409.3 when the grant exists, which we accept.
        """
        try:
            self._http.request(
                "POST",
                _assignment(project_id, xml_form_id, role_id, actor_id),
                operation=f"assign actor {actor_id} to form {xml_form_id!r} in project {project_id}",
                retryable=True,
            )
        except CentralConflict:
            return

    def unassign_form(self, project_id: int, xml_form_id: str, role_id: int, actor_id: int) -> None:
        """Revoke the grant; CentralNotFound if the actor did not hold it."""
        self._http.request(
            "DELETE",
            _assignment(project_id, xml_form_id, role_id, actor_id),
            operation=f"unassign actor {actor_id} from form {xml_form_id!r} in project {project_id}",
        )

    # --- helpers -----------------------------------------------------------------

    def _get_json(self, path: str, operation: str) -> Any:
        return self._http.request("GET", path, operation=operation).json()

    def _post_json(self, path: str, operation: str, **kwargs: Any) -> Any:
        return self._http.request("POST", path, operation=operation, **kwargs).json()


def _project(project_id: int) -> str:
    return f"/v1/projects/{int(project_id)}"


def _form(project_id: int, xml_form_id: str) -> str:
    return f"{_project(project_id)}/forms/{quote(xml_form_id, safe='')}"


def _role(role: int | str) -> str:
    """Central takes a role's id or its system name (``app-user``) in paths."""
    return str(role) if isinstance(role, int) else quote(role, safe="")


def _assignment(project_id: int, xml_form_id: str, role_id: int | str, actor_id: int) -> str:
    return f"{_form(project_id, xml_form_id)}/assignments/{_role(role_id)}/{int(actor_id)}"


def _form_id_hint(definition: bytes, content_type: str) -> str | None:
    if content_type != XML_CONTENT_TYPE:
        return None
    match = _FORM_ID.search(definition[:65536])
    return match.group(1).decode("utf-8", "replace") if match else None
