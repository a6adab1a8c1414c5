"""The API documentation pages (Swagger UI and Redoc) without inline script or style.

Our Content-Security-Policy allows scripts and styles only from our own files
(``frontend.csp``). drf-spectacular's stock pages carry an inline ``<script>``
and ``<style>`` (and Redoc's page loads Google Fonts), so a browser shows them
blank. These views render our own templates instead: Swagger UI's start-up
script comes from drf-spectacular's split view (the same URL with
``?script=``, served as JavaScript), Redoc's from a static file of ours, and
both pages use drf-spectacular-sidecar's files from our static files (no CDN).

Redoc builds its styles at run time (styled-components) and inserts them as
``<style>`` elements, which ``style-src 'self'`` refuses (the page then shows
an error). Its page alone gets a fresh nonce per answer for styles only:
the CSP admits ``<style nonce=…>``, the init script reads the nonce from its
own ``<script>`` element (``document.currentScript.nonce``, hidden from CSS
and markup) and hands it to Redoc, which puts it on every style it adds.
One style is added while the bundle loads, before any nonce can be handed
over (perfect-scrollbar's CSS, inserted empty and then filled): its two
hashes are admitted. Scripts stay ``'self'`` only. Redoc's search is off:
it runs in a worker made from a ``blob:`` URL, which the policy refuses.
"""

from __future__ import annotations

import secrets

from django.templatetags.static import static
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from frontend.csp import policy_for


class SwaggerDocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if request.GET.get("script") is None:
            response.data["docs_css"] = static("api/docs.css")
            response.data["favicon_href"] = static("frontend/favicon.svg")
        return response


# The inline style Redoc's bundle (drf-spectacular-sidecar's redoc 2.x) inserts on load:
# sha256 of the empty element, then of perfect-scrollbar's CSS. A new Redoc with other
# CSS shows up as a CSP violation in tests/browser/test_api_docs.py.
REDOC_LOAD_STYLE_HASHES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
)


class RedocDocsView(SpectacularRedocView):
    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data["docs_css"] = static("api/docs.css")
        response.data["favicon_href"] = static("frontend/favicon.svg")
        response.data["init_script"] = static("api/redoc-init.js")
        nonce = secrets.token_urlsafe(18)
        response.data["style_nonce"] = nonce
        response["Content-Security-Policy"] = policy_for(
            request, extra_style_sources=(f"'nonce-{nonce}'", *REDOC_LOAD_STYLE_HASHES)
        )
        return response
