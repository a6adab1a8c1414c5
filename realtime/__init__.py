"""Realtime layer: WebSockets over Channels, resolved to a tenant by host (DESIGN.md §5)."""
