"""Getting a draft's files into Central, and knowing they are there before publishing.

Central can answer 200 to an upload and keep nothing: when several forms upload the
same new file at once, its blob store loses all but one (the draft then lists the
attachment with ``exists: false``). Publishing such a draft gives the field team a
form without its media or choice list. So every file is confirmed before publishing:

* by the upload's own answer, when Central sends the attachment back (2025.1 and
  later: ``exists`` and the blob's md5 as ``hash``), read in the same transaction as
  the upload; or else
* by the draft's attachment list (``GET .../draft/attachments``): ``exists``, and the
  md5 where Central gives one (2024.3 and later).

What is missing or different is uploaded again, up to ``UPLOAD_ROUNDS`` times; then
the item fails at step ``attachments`` and a retry starts over.

A new draft carries forward the files of the version it replaces (same name and
type). Files our previous publish to the same form confirmed, unchanged since and
still in the published version, are therefore not sent again (``trusted``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.storage import default_storage

from control_plane.errors import ServiceError

UPLOAD_ROUNDS = 3
ROUND_DELAY = 0.25  # seconds, times the round: the race ends when the winner commits


class AttachmentsUnconfirmed(ServiceError):
    """Central did not keep a file after every upload round."""


@dataclass(frozen=True)
class LocalFile:
    """A template file as we hold it: storage name, type and content digest."""

    name: str
    storage_name: str
    content_type: str
    sha256: str

    def read(self) -> bytes:
        with default_storage.open(self.storage_name, "rb") as handle:
            return handle.read()


def _kept(answer: dict | None, md5: str) -> bool | None:
    """True if Central holds our file, False if not, None if its answer does not say."""
    if answer is None or "exists" not in answer:
        return None
    if not answer.get("exists"):
        return False
    hash_ = answer.get("hash")
    return hash_ is None or hash_ == md5


def attachments_confirm(
    client,
    project_id: int,
    form_id: str,
    files: Iterable[LocalFile],
    *,
    trusted: dict[str, str] | None = None,
) -> dict[str, str]:
    """Upload what the draft needs and confirm Central kept it; ``{name: sha256}`` confirmed.

    ``trusted`` maps names to the sha256 our last publish of this form confirmed;
    such files, unchanged, are carried forward by Central and not sent again.
    Raises AttachmentsUnconfirmed naming the files Central did not keep.
    """
    files = list(files)
    trusted = trusted or {}
    confirmed = {f.name: f.sha256 for f in files if trusted.get(f.name) == f.sha256}
    todo = {f.name: f for f in files if f.name not in confirmed}
    md5: dict[str, str] = {}
    for round_ in range(1, UPLOAD_ROUNDS + 1):
        unsure = False
        for name, local in sorted(todo.items()):
            data = local.read()
            md5[name] = hashlib.md5(data, usedforsecurity=False).hexdigest()
            answer = client.upload_draft_attachment(
                project_id, form_id, name, data, local.content_type
            )
            kept = _kept(answer, md5[name])
            if kept:
                confirmed[name] = local.sha256
            unsure = unsure or kept is None
        todo = {n: f for n, f in todo.items() if n not in confirmed}
        if todo and (unsure or round_ == UPLOAD_ROUNDS):
            listed = {a.get("name"): a for a in client.list_draft_attachments(project_id, form_id)}
            for name in list(todo):
                if _kept(listed.get(name), md5[name]):
                    confirmed[name] = todo.pop(name).sha256
        if not todo:
            return confirmed
        if round_ < UPLOAD_ROUNDS:
            time.sleep(ROUND_DELAY * round_)
    names = ", ".join(sorted(todo))
    raise AttachmentsUnconfirmed(
        f"Central did not keep {names} for form {form_id} after {UPLOAD_ROUNDS} uploads "
        "(it answered OK but the draft lists the file as missing), so the form was not "
        "published. Retry the failed app users; if it happens again, check the server's "
        "storage in Central.",
        code="attachments_unconfirmed",
    )
