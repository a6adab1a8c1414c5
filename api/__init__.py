"""The REST API: the tenant API on organizations' hosts (``api.tenant``), the
control-plane API on the base host (``api.control``), and what both share
(``api.common``: errors, authentication, permissions, pagination, throttling,
idempotency, ETags, schema helpers)."""
