"""Building blocks shared by the tenant and the control-plane APIs.

Stable surface (the control-plane API imports these; keep their names):

- ``errors.api_exception_handler`` and the error classes (the one error format);
- ``authentication.ApiTokenAuthentication``, ``authentication.SessionAuthentication``;
- ``permissions.TenantRolePermission`` and ``permissions.request_role``;
- ``pagination.KeysetCursorPagination``;
- ``throttling.TokenRateThrottle``, ``UserRateThrottle``, ``AnonRateThrottle``;
- ``idempotency.idempotent`` (decorator for POSTs that start work);
- ``concurrency.ETagMixin`` and ``concurrency.etag_for``;
- ``parsers`` (size-limited JSON, multipart and form parsers);
- ``schema`` (``ApiAutoSchema``, ``ErrorSerializer``, header parameters).
"""
