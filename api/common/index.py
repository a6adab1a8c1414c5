"""``GET /api/v1/``: where the operations, the OpenAPI document and the docs pages are.

A person who types the API's address into a browser, or a script that starts
from it, gets links instead of a 404. The same shape on both hosts; the
tenant API's index needs the same credentials as the rest of that API (an
organization's existence does not leak), the control plane's is public.
"""

from __future__ import annotations

from django.urls import reverse
from rest_framework.request import Request


def api_index(
    request: Request, *, title: str, resources: dict[str, str], names: dict[str, str]
) -> dict:
    """The index document: absolute links to the resources, the schema and the docs pages.

    ``resources`` maps a resource name to its list route's URL name; ``names``
    gives the URL names of ``schema``, ``docs`` and ``redoc`` on this host.
    """
    absolute = request.build_absolute_uri
    return {
        "title": title,
        "version": "v1",
        "schema": absolute(reverse(names["schema"])),
        "docs": absolute(reverse(names["docs"])),
        "redoc": absolute(reverse(names["redoc"])),
        "resources": {name: absolute(reverse(route)) for name, route in resources.items()},
    }
