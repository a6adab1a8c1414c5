"""Rows that are written once and never changed: published versions and their variants.

A version is the record of what went to Central; downloads, diffs and
rollbacks trust it. Our code refuses to change or delete such a row (model
``save``/``delete`` and the queryset's ``update``/``delete``), and a database
trigger (publishing migration 0002) refuses it for any client, so neither a
bug nor a stray SQL statement can rewrite history. Dropping an organization's
schema still removes them: no row trigger fires for ``DROP SCHEMA``.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from control_plane.errors import InvalidState


class ImmutableRow(InvalidState):
    code = "immutable"


def _refuse(model: type[models.Model], what: str) -> ImmutableRow:
    name = model._meta.verbose_name
    return ImmutableRow(f"A published {name} cannot be {what}; publish a new version instead.")


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise _refuse(self.model, "changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise _refuse(self.model, "deleted")

    def update_or_create(self, *args: Any, **kwargs: Any):
        raise _refuse(self.model, "changed")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise _refuse(self.model, "changed")


class ImmutableModel(models.Model):
    """Inserted once; any later ``save`` or ``delete`` raises ``ImmutableRow``."""

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise _refuse(type(self), "changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):
        raise _refuse(type(self), "deleted")
