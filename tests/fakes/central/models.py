"""Records the fake Central keeps in memory (one per project, form, definition, ...)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Central's system roles (ids as a fresh Central numbers them).
ROLES = [
    (1, "Administrator", "admin"),
    (2, "App User", "app-user"),
    (3, "Password Reset Token", "pwreset"),
    (4, "Form Viewer (system internal)", "formview"),
    (5, "Project Manager", "manager"),
    (6, "Project Viewer", "viewer"),
    (7, "Data Collector", "formfill"),
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Account:
    id: int
    email: str
    password: str
    admin: bool = False


@dataclass
class Attachment:
    type: str
    data: bytes | None = None
    content_type: str | None = None
    updated_at: str | None = None

    def json(self, name: str) -> dict[str, Any]:
        exists = self.data is not None
        data: dict[str, Any] = {
            "name": name,
            "type": self.type,
            "exists": exists,
            "blobExists": exists,
            "datasetExists": False,
            "updatedAt": self.updated_at,
        }
        if self.data is not None:  # Central joins the blob's md5 and size (2024.3+)
            data["hash"] = hashlib.md5(self.data, usedforsecurity=False).hexdigest()
            data["size"] = len(self.data)
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


@dataclass
class FormRecord:
    project_id: int
    xml_form_id: str
    created_at: str
    draft: Definition | None = None
    current: Definition | None = None
    published: list[Definition] = field(default_factory=list)
    assignments: set[tuple[int, int]] = field(default_factory=set)  # (role id, actor id)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    account: Account | None


Route = Callable[..., tuple[int, Any]]
