"""The tenant API: ``/api/v1/`` on each organization's host (docs/api.md)."""
