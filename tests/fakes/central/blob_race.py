"""Central's blob-store race, reproducible on demand.

Central stores an uploaded file once per (sha, content type): ``Blobs.ensure`` inserts
it, or finds the row another request inserted. When several requests upload the same
*new* file at once, the losers' insert conflicts with a row their snapshot cannot see
yet, ``ensure`` returns no id, and the draft's attachment is updated to "no file" —
Central still answers 200 (since 2025.1 with the attachment, ``exists: false``; before,
``{"success": true}``). The draft's attachment list then shows ``exists: false``.

The fake is serial, so it cannot lose a real race; instead, when switched on
(``FakeCentral.attachment_race(lost=N)``), the first upload of each new file stores it
and the next ``N`` uploads of that same file store nothing, exactly as the losers of
the race would. Later uploads (a retry after the winner committed) store normally.
"""

from __future__ import annotations

import hashlib


class BlobRace:
    def __init__(self) -> None:
        self.lost_per_file = 0
        self._known: set[tuple[str, str]] = set()  # blobs Central has (sha256, content type)
        self._losing: dict[tuple[str, str], int] = {}  # uploads of that blob still to lose

    def switch(self, lost: int) -> None:
        """Lose the next ``lost`` uploads of each new file from now on; 0 ends the race."""
        self.lost_per_file = lost
        if not lost:
            self._losing.clear()

    def stores(self, data: bytes, content_type: str) -> bool:
        """Whether this upload ends with the blob stored (False: it lost the race)."""
        key = (hashlib.sha256(data).hexdigest(), content_type)
        if key not in self._known:
            self._known.add(key)
            if self.lost_per_file:
                self._losing[key] = self.lost_per_file
            return True
        left = self._losing.get(key, 0)
        if left <= 0:
            return True
        self._losing[key] = left - 1
        return False
