"""Ordering for lists, described in the schema with the exact values each list accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from rest_framework.filters import OrderingFilter


class ApiOrderingFilter(OrderingFilter):
    """``?ordering=name`` or ``?ordering=-created_at``; one field (the id breaks ties).

    Views list non-null fields in ``ordering_fields`` only: the cursor
    pagination compares sort values, and NULLs do not compare.
    """

    def get_valid_fields(self, queryset: Any, view: Any, context: Any = None) -> list:
        # Never fall back to "every serializer field": only what the view allows.
        return [(f, f) for f in getattr(view, "ordering_fields", None) or () if f != "__all__"]

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> list[str] | None:
        ordering = super().get_ordering(request, queryset, view)
        return list(ordering)[:1] if ordering else ordering

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        fields = [f for f in getattr(view, "ordering_fields", None) or () if f != "__all__"]
        if not fields:
            return []
        choices = [value for f in fields for value in (f, f"-{f}")]
        default = ", ".join(getattr(view, "ordering", None) or ("-id",))
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": f"Sort order (default `{default}`); `-` sorts descending.",
                "schema": {"type": "string", "enum": choices},
            }
        ]


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        # PostgreSQL refuses UTC offsets beyond ±15:59 that Python accepts: send UTC.
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("This date-time is out of range.", code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time filter whose value reaches the database in UTC (never a 500)."""

    field_class = UtcIsoDateTimeField
