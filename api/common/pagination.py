"""Cursor pagination on every list, stable under inserts and deletes.

A cursor holds the sort values of the last row seen *and its primary key*,
and the next page is ``WHERE (sort, pk) > (last sort, last pk)``. Unlike
offsets (or DRF's cursor, which keeps an offset for ties), rows inserted or
deleted elsewhere in the list never shift a page: a client walking a list
while others write sees every row that existed throughout exactly once.

Sort fields must be non-null (the ``ordering`` a view allows is chosen so);
the primary key is always appended as the last tie-breaker.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from control_plane import safejson


@dataclass(frozen=True)
class Cursor:
    ordering: tuple[str, ...]
    values: tuple[Any, ...]
    reverse: bool = False
    inclusive: bool = False


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _lookup(row: Any, path: str) -> Any:
    value = row
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def keyset_q(ordering: tuple[str, ...], values: tuple[Any, ...], *, reverse: bool, inclusive: bool):
    """Rows strictly after (or before, when ``reverse``) ``values`` in ``ordering``."""
    q = Q()
    equal = Q()
    for field, value in zip(ordering, values, strict=True):
        name, descending = field.lstrip("-"), field.startswith("-")
        later = "lt" if descending != reverse else "gt"
        q |= equal & Q(**{f"{name}__{later}": value})
        equal &= Q(**{name: value})
    return q | equal if inclusive else q


class InvalidCursor(exceptions.ValidationError):
    pass


class KeysetCursorPagination(BasePagination):
    """``?cursor=<opaque>&page_size=<1..200>`` → ``{"next", "previous", "results"}``."""

    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    default_ordering: tuple[str, ...] = ("-pk",)

    # --- request side -------------------------------------------------------------

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Use a number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        ordering = None
        for backend in getattr(view, "filter_backends", ()):
            if isinstance(backend, type) and issubclass(backend, OrderingFilter):
                ordering = backend().get_ordering(request, queryset, view)
                break
        ordering = tuple(ordering or getattr(view, "ordering", None) or self.default_ordering)
        ordering = tuple("-pk" if f == "-id" else "pk" if f == "id" else f for f in ordering)
        if ordering[-1].lstrip("-") != "pk":
            ordering += ("-pk" if ordering[0].startswith("-") else "pk",)
        return ordering

    def decode_cursor(self, request: Request, ordering: tuple[str, ...]) -> Cursor | None:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            data = safejson.loads(base64.urlsafe_b64decode(raw.encode() + b"==="), limit=4)
            cursor = Cursor(
                ordering=tuple(data["o"]),
                values=tuple(data["v"]),
                reverse=bool(data.get("r")),
                inclusive=bool(data.get("i")),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidCursor(
                {"cursor": ["This cursor is not valid."]}, code="invalid_cursor"
            ) from exc
        if cursor.ordering != ordering or len(cursor.values) != len(ordering):
            raise InvalidCursor(
                {"cursor": ["This cursor belongs to another ordering; start again without it."]},
                code="invalid_cursor",
            )
        return cursor

    def encode_cursor(self, cursor: Cursor) -> str:
        data: dict[str, Any] = {"o": list(cursor.ordering), "v": list(cursor.values)}
        if cursor.reverse:
            data["r"] = 1
        if cursor.inclusive:
            data["i"] = 1
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    # --- paging -------------------------------------------------------------------

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list:
        self.request = request
        size = self.get_page_size(request)
        ordering = self.get_ordering(request, queryset, view)
        self.ordering = ordering
        cursor = self.decode_cursor(request, ordering)
        reverse = bool(cursor and cursor.reverse)
        if cursor is not None:
            try:
                queryset = queryset.filter(
                    keyset_q(ordering, cursor.values, reverse=reverse, inclusive=cursor.inclusive)
                )
            except Exception as exc:  # ValueError, TypeError, Django's ValidationError
                raise InvalidCursor(
                    {"cursor": ["This cursor is not valid."]}, code="invalid_cursor"
                ) from exc
        order_by = [self._flip(f) for f in ordering] if reverse else list(ordering)
        rows = list(queryset.order_by(*order_by)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if reverse:
            rows.reverse()
        has_next = more if not reverse else True
        has_previous = cursor is not None if not reverse else more
        self.next_cursor = self.previous_cursor = None
        if rows:
            if has_next:
                self.next_cursor = Cursor(ordering, self._values(rows[-1], ordering))
            if has_previous:
                self.previous_cursor = Cursor(
                    ordering, self._values(rows[0], ordering), reverse=True
                )
        elif cursor is not None:
            # An empty page past the end: "previous" goes back to the rows before it.
            self.previous_cursor = Cursor(ordering, cursor.values, reverse=True, inclusive=True)
        return rows

    @staticmethod
    def _flip(field: str) -> str:
        return field[1:] if field.startswith("-") else f"-{field}"

    @staticmethod
    def _values(row: Any, ordering: tuple[str, ...]) -> tuple[Any, ...]:
        return tuple(_encode_value(_lookup(row, f.lstrip("-"))) for f in ordering)

    def _link(self, cursor: Cursor | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.encode_cursor(cursor))

    def get_next_link(self) -> str | None:
        return self._link(self.next_cursor)

    def get_previous_link(self) -> str | None:
        return self._link(self.previous_cursor)

    def first_page_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def get_paginated_response(self, data: list) -> Response:
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    # --- schema -------------------------------------------------------------------

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last page.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page, or null on the first page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque cursor from a previous page's `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
