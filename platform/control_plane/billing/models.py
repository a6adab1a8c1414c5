"""Plans an organization can be on (public schema).

The slug is the primary key: it is what operators type (``plan = "team"`` in
Terraform, ``--plan`` on the API) and what ``Organization.plan_id`` holds, so
reading an organization's plan needs no join.
"""

from __future__ import annotations

from django.db import models


class Plan(models.Model):
    slug = models.SlugField(max_length=40, primary_key=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Limits; null means unlimited.
    max_members = models.PositiveIntegerField(null=True, blank=True)
    max_app_users = models.PositiveIntegerField(null=True, blank=True)
    max_custom_domains = models.PositiveIntegerField(null=True, blank=True)
    is_available = models.BooleanField(
        default=True, help_text="Offered to new organizations; retired plans keep their members."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name

    def limits(self) -> dict[str, int | None]:
        return {
            "max_members": self.max_members,
            "max_app_users": self.max_app_users,
            "max_custom_domains": self.max_custom_domains,
        }
