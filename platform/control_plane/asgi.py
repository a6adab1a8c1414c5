"""ASGI entry point served by daphne (``manage.py serve``): HTTP and WebSockets in one process.

HTTP goes through Django's own ASGI handler (so the HTTP middleware, tenant
routing included, is unchanged), with ``/healthz/realtime`` answered on the
event loop ahead of it; ``websocket`` scopes go to ``realtime``'s routes,
which resolve the tenant by host and authenticate before any consumer runs.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
# Django must be set up before anything imports models.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from realtime.health import with_realtime_health  # noqa: E402
from realtime.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": with_realtime_health(django_application),
        "websocket": websocket_application(),
    }
)
