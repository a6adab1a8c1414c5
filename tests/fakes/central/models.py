"""Records the fake Central keeps in memory (one per project, form, definition, ...)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.central import problems

# Central's system roles, with the ids its migrations give them on a fresh install:
# the serial runs admin, app-user, pwreset, initbkup (4, deleted again in 2023),
# manager, viewer, formview, formfill, pub-link. Never assume "app-user is 2 and
# the next one is 3": ask ``GET /v1/roles``.
ROLES = [
    (1, "Administrator", "admin"),
    (2, "App User", "app-user"),
    (3, "Password Reset Token", "pwreset"),
    (5, "Project Manager", "manager"),
    (6, "Project Viewer", "viewer"),
    (7, "Form Viewer (system internal)", "formview"),
    (8, "Data Collector", "formfill"),
    (9, "Public Link", "pub-link"),
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Account:
    id: int
    email: str
    password: str
    admin: bool = False


def central_token() -> str:
    """A token as Central makes them: 48 random bytes in base64 with ``/`` → ``!`` and
    ``+`` → ``$`` (64 characters of ``[A-Za-z0-9!$]``)."""
    raw = base64.b64encode(secrets.token_bytes(48)).decode()
    return raw.replace("/", "!").replace("+", "$")


def json_body(req: Request) -> dict[str, Any]:
    """The JSON object a route was sent, or Central's 400.1."""
    try:
        body = json.loads(req.body or b"{}")
    except ValueError as exc:
        raise problems.unparseable("json", len(req.body)) from exc
    return body if isinstance(body, dict) else {}


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def enketo_id() -> str:
    """An id like the ones Enketo hands Central for a form (Central stores, never makes them)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(31))


@dataclass
class Attachment:
    """One expected file of a definition: filled by an upload (a blob) or linked to a dataset."""

    type: str
    data: bytes | None = None
    content_type: str | None = None
    updated_at: str | None = None
    dataset: str | None = None  # name of the entity list it is linked to

    def json(self, name: str) -> dict[str, Any]:
        """Central's FormAttachment: ``hash`` and ``size`` only when a blob is there,
        ``updatedAt`` only once something was uploaded or linked."""
        blob = self.data is not None
        data: dict[str, Any] = {
            "name": name,
            "type": self.type,
            "exists": blob or self.dataset is not None,
            "blobExists": blob,
            "datasetExists": self.dataset is not None,
        }
        if self.data is not None:
            data["hash"] = hashlib.md5(self.data, usedforsecurity=False).hexdigest()
            data["size"] = len(self.data)
        if self.updated_at is not None:
            data["updatedAt"] = self.updated_at
        return data


@dataclass
class Definition:
    xml: str
    version: str
    name: str | None
    hash: str
    attachments: dict[str, Attachment]
    created_at: str = field(default_factory=now)
    published_at: str | None = None
    id: int = 0  # Central's form def id (links datasets and properties to it)
    sha: str = ""
    sha256: str = ""
    draft_token: str | None = None
    enketo_id: str | None = None


@dataclass
class FormRecord:
    project_id: int
    xml_form_id: str
    created_at: str
    draft: Definition | None = None
    current: Definition | None = None
    published: list[Definition] = field(default_factory=list)
    assignments: set[tuple[int, int]] = field(default_factory=set)  # (role id, actor id)
    actee_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    enketo_id: str | None = None  # set when first published (Central pushes it to Enketo)
    enketo_once_id: str | None = None
    updated_at: str | None = None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    account: Account | None


Route = Callable[..., tuple[int, Any]]


@dataclass
class Raw:
    """An answer that is not JSON (OpenRosa XML, a form's XML, a file), with its headers."""

    body: bytes
    headers: dict[str, str]
