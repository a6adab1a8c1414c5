"""Errors raised by services, with a machine-readable code and a message for people."""

from __future__ import annotations


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotAllowed(ServiceError):
    """The actor may not do this (their role is too low, or the rule forbids it)."""

    code = "not_allowed"


class Conflict(ServiceError):
    """The request clashes with the current state (taken slug, already member, ...)."""

    code = "conflict"


class InvalidState(ServiceError):
    """The object is not in a state that allows this action."""

    code = "invalid_state"
