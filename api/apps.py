"""The ``api`` app: it owns one public-schema table, the idempotency keys."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    label = "api"
    verbose_name = "REST API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # drf-spectacular finds extensions by import: the token scheme must be
        # registered before any schema is generated.
        from api.common import schema  # noqa: F401
