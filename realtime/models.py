"""Public-schema table of the embedded channel layer (``layers.PostgresChannelLayer``)."""

from __future__ import annotations

from django.db import models


class OverflowMessage(models.Model):
    """A group message too large for a NOTIFY payload (8000 bytes); the NOTIFY carries its id.

    Rows are read once by each listening server process and deleted ten
    minutes later by the next large send; nothing else uses them.
    """

    payload = models.TextField()
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"overflow message {self.pk}"
