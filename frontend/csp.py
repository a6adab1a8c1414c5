"""Content-Security-Policy for every HTML answer: scripts and styles only from our own files.

No ``unsafe-inline`` and no ``unsafe-eval``: pages carry no inline script or
style (htmx runs with ``allowEval`` off and without its inline indicator
styles, see ``base.html``). Sockets may reach the page's own host. Forms may
post to (and be redirected to) the control plane and organization hosts,
because logging in on one host sends people on to another. Google's Picker
scripts and frames are allowed only when the Picker is configured.
"""

from __future__ import annotations

from django.conf import settings

from frontend.google_auth import picker_enabled


def _origins(scheme: str, host: str) -> list[str]:
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return [f"{scheme}://{host}{port}", f"{scheme}://*.{host}{port}"]


def policy_for(request, *, extra_style_sources: tuple[str, ...] = ()) -> str:
    """The policy for ``request``'s answer.

    ``extra_style_sources`` (a nonce, hashes) admit the inline styles of one
    page whose vendored script injects them at run time (Redoc, see
    ``api.common.docs``); scripts stay ``'self'`` only, on every page.
    """
    host = request.get_host()
    ws = "wss" if request.is_secure() else "ws"
    scheme = "https" if request.is_secure() else settings.PUBLIC_SCHEME
    connect = ["'self'", f"{ws}://{host}"]
    script = ["'self'"]
    frame = ["'none'"]
    img = ["'self'", "data:"]
    if picker_enabled():
        script += ["https://apis.google.com"]
        frame = ["https://docs.google.com", "https://drive.google.com"]
        connect += ["https://www.googleapis.com"]
        img += ["https://*.googleusercontent.com", "https://ssl.gstatic.com"]
    form_action = ["'self'", *_origins(scheme, settings.BASE_DOMAIN)]
    directives = {
        "default-src": ["'self'"],
        "script-src": script,
        "style-src": ["'self'", *extra_style_sources],
        "img-src": img,
        "font-src": ["'self'"],
        "connect-src": connect,
        "frame-src": frame,
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": form_action,
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy_for(request)
            response.setdefault("Referrer-Policy", "same-origin")
        return response
