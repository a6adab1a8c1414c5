"""Every route of the tenant API, discovered from its URLconf (never listed by hand)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse

SCHEMA_URLCONF = "api.tenant.schema_urlconf"
SAFE = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Route:
    name: str
    view_class: type
    kwargs: tuple[str, ...]
    methods: tuple[str, ...]  # upper-case HTTP methods the route answers

    def path(self, ids: dict[str, int]) -> str:
        return reverse(self.name, kwargs={k: ids[k] for k in self.kwargs})

    @property
    def unsafe_methods(self) -> tuple[str, ...]:
        return tuple(m for m in self.methods if m not in SAFE)


def _walk(patterns, groups=()):
    for pattern in patterns:
        names = tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, groups + names)
        elif isinstance(pattern, URLPattern):
            yield pattern, groups + names


def _methods(callback) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)
    if actions:  # a ViewSet route: {method: action}
        return tuple(sorted(m.upper() for m in actions))
    view_class = callback.view_class
    return tuple(
        sorted(
            m.upper()
            for m in view_class.http_method_names
            if m not in ("head", "options") and hasattr(view_class, m)
        )
    )


def api_routes() -> list[Route]:
    routes = []
    for pattern, kwargs in _walk(get_resolver(SCHEMA_URLCONF).url_patterns):
        callback = pattern.callback
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if pattern.name is None or view_class is None:
            continue
        routes.append(Route(pattern.name, view_class, kwargs, _methods(callback)))
    assert len(routes) > 20, "route discovery found suspiciously few routes"
    return routes


def route_ids(route: Route, objects: dict) -> dict[str, int]:
    """Values for the route's path parameters from ``objects`` (ids of one organization)."""
    ids = {}
    for name in route.kwargs:
        if name == "pk":
            key = route.view_class
        else:
            key = name
        if key not in objects:
            raise AssertionError(
                f"No test object for {name!r} of {route.name} ({route.view_class.__name__}): "
                "add one to the ``a_objects`` fixture."
            )
        ids[name] = objects[key]
    return ids
