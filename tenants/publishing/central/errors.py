"""Typed errors of the ODK Central client.

Callers decide what to do by the class (retry later, ask the user to fix the
credentials, treat as "already done"), and show ``str(error)`` to people: it
names the operation and carries Central's own code and message. No error ever
holds the password or the session token.
"""

from __future__ import annotations

from typing import Any


class CentralError(Exception):
    """Base class: Central refused or could not perform an operation.

    Attributes:
        operation: what we were doing, in words ("create form 'household' in project 3").
        status: the HTTP status, or ``None`` when no answer came (network, timeout).
        code: Central's problem code such as ``409.3``, when Central sent one.
        message: Central's message (or our description when Central sent none); for a
            network failure, the whole sentence naming the server and the operation.
        body: Central's JSON error body (``{"code": ..., "message": ..., "details": ...}``),
            or ``None`` when the answer was not JSON.
    """

    def __init__(
        self,
        text: str,
        *,
        operation: str,
        status: int | None = None,
        code: float | None = None,
        message: str = "",
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(text)
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message or text
        self.body = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status={self.status!r}, code={self.code!r})"


class CentralAuthError(CentralError):
    """Central did not accept the credentials or the session (401)."""


class CentralForbidden(CentralAuthError):
    """The account is signed in but lacks the rights for this action (403.1).

    A subclass of :class:`CentralAuthError` because the remedy is the same kind:
    an administrator must fix the account Publish MDM uses on that server.
    """


class CentralNotFound(CentralError):
    """The project, form, draft, attachment, role or actor does not exist (404)."""


class CentralConflict(CentralError):
    """The resource already exists (409.3) or the form version was already published (409.6)."""


class CentralValidationError(CentralError):
    """Central rejected what we sent (400), e.g. an invalid XLSForm (400.15)."""


class CentralUnavailable(CentralError):
    """No usable answer: network error, timeout, 429 or 5xx, after the allowed retries.

    For a create (POST) the outcome is unknown: the caller must look before trying again.
    """
