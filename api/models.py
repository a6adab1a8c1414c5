"""Idempotency keys of POSTs that start work (public schema, one table for all).

A key is scoped by organization (``None`` on the control plane) and by
principal (the token or user that sent it), so two scripts can never replay
each other's responses, and one organization never sees another's.
"""

from __future__ import annotations

from django.db import models


class IdempotencyKey(models.Model):
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    principal = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    # SHA-256 of the request body (files by their own hash): the same key with
    # another body is a client bug we refuse, not a replay.
    request_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=0)  # 0 while in progress
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "principal", "key"],
                name="uniq_idempotency_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.principal}:{self.key} → {self.response_status}"
