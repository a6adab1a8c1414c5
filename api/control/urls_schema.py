"""The URLconf drf-spectacular walks for the control-plane document (operations only)."""

from api.control.urls import schema_urlpatterns as urlpatterns

__all__ = ["urlpatterns"]
