"""The local backend's table, one per organization schema (a TENANT_APP).

One row per secret name holding only ciphertext and the id of the master key
that sealed it (see ``crypto``); the value itself is never stored in plain.
"""

from __future__ import annotations

from django.db import models


class SecretRecord(models.Model):
    name = models.CharField(max_length=200, unique=True)
    ciphertext = models.BinaryField()
    key_id = models.CharField(max_length=16, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<SecretRecord {self.name!r} key={self.key_id}>"
