"""Search, sort and paginate a list page from its query string, the same way everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import QueryDict

PER_PAGE = 25


@dataclass
class Listing:
    page: Page
    query: str
    sort: str
    sorts: dict[str, str]  # key → label
    params: QueryDict = field(repr=False)

    def url(self, **changes) -> str:
        """This list's query string with some parameters changed (None removes one)."""
        params = self.params.copy()
        for key, value in changes.items():
            if value in (None, ""):
                params.pop(key, None)
            else:
                params[key] = str(value)
        encoded = params.urlencode()
        return f"?{encoded}" if encoded else "?"

    def sort_url(self, key: str) -> str:
        """Clicking a column: ascending first, then descending."""
        return self.url(sort=f"-{key}" if self.sort == key else key, page=None)

    def sort_state(self, key: str) -> str:
        if self.sort == key:
            return "ascending"
        if self.sort == f"-{key}":
            return "descending"
        return "none"


def listing(
    request,
    queryset: QuerySet,
    *,
    search: tuple[str, ...] = (),
    sorts: dict[str, tuple[str, str]] | None = None,
    default_sort: str = "",
    per_page: int = PER_PAGE,
) -> Listing:
    """``sorts`` maps a public key to (label, model field); ``-key`` sorts descending."""
    sorts = sorts or {}
    query = request.GET.get("q", "").strip()[:100]
    if query and search:
        queryset = queryset.filter(
            reduce(or_, (Q(**{f"{name}__icontains": query}) for name in search))
        )
    sort = request.GET.get("sort", default_sort)
    key = sort.removeprefix("-")
    if key not in sorts:
        sort, key = default_sort, default_sort.removeprefix("-")
    if key in sorts:
        field_name = sorts[key][1]
        queryset = queryset.order_by(f"-{field_name}" if sort.startswith("-") else field_name, "pk")
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    return Listing(
        page=page,
        query=query,
        sort=sort,
        sorts={k: label for k, (label, _) in sorts.items()},
        params=params,
    )
