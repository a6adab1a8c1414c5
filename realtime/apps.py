from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    label = "realtime"
    verbose_name = "Realtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Publishing stores its events and notices; these sinks forward them to sockets.
        from realtime import sinks
        from tenants.publishing import events

        events.register_sink(sinks.run_event_sink)
        events.register_organization_sink(sinks.organization_notice_sink)
