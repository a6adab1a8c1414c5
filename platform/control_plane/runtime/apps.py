from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    """Running the product: the ``serve`` command and process supervision."""

    name = "control_plane.runtime"
    label = "runtime"
