"""The control-plane API: ``/api/v1/`` on the bare BASE_DOMAIN host.

For platform operators and Terraform, authenticated with platform tokens
(``pmdp_...``, scoped), plus the public, rate-limited signup endpoint. Views
are thin: the work is in ``control_plane.organizations.services`` and
``control_plane.accounts.services``; errors, pagination, throttling and the
request pipeline are ``api.common``'s, shared with the tenant API.
"""
