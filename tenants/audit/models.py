"""The organization's own audit trail, in its schema.

Append-only: a database trigger (migration 0002) refuses UPDATE and DELETE,
so not even a bug in our code can rewrite history. Actors are recorded by id
and by label rather than by foreign key, because users live in the public
schema and the trail must survive an account's deletion.
"""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    code = models.CharField(max_length=100, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    # The API token the actor used (``pmdm_<prefix>``), blank for sessions and the system.
    actor_token = models.CharField(max_length=40, blank=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Where the request came from (control_plane.client_address: proxies only if trusted).
    client_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code} by {self.actor_label or 'system'}"
