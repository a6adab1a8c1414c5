"""Serializer fields shared by tenant resources."""

from __future__ import annotations

from rest_framework import serializers

from tenants.publishing.models import VALUE_MAX_LENGTH
from tenants.publishing.services.variable_values import shown_values


class VariableValuesField(serializers.DictField):
    """``{"district": "North", "admin_pw": "secret", "old": null}``: null or "" clears.

    Reads show stored values (digests for ``sha256`` variables) and never
    ``admin_pw``, which is a password kept in the secret store.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            'Template variable values by name. On write, null or "" clears a value; '
            "`admin_pw` is accepted but never shown; `sha256` variables show their digest.",
        )
        super().__init__(
            child=serializers.CharField(
                allow_null=True, allow_blank=True, max_length=VALUE_MAX_LENGTH
            ),
            **kwargs,
        )

    def to_representation(self, value):
        return shown_values(value.all())
