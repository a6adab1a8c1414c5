"""Secret names and the wrapper that keeps values out of reprs, logs and JSON.

Names are paths of purpose and object, e.g. ``central-server/12/password`` or
``stripe/customer/cus_N1x/secret``: segments of letters and digits joined by
single ``-``, ``_`` or ``.``, separated by ``/``. That alphabet maps one-to-one
onto an Infisical secret key (``/`` becomes ``__``, which a segment cannot
contain), so a name read back from Infisical is exactly the name written.
"""

from __future__ import annotations

import hmac
import re
from typing import Any, NoReturn

from tenants.secretstore.errors import InvalidSecretName

NAME_MAX_LENGTH = 200
_SEGMENT = r"[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*"
NAME_RE = re.compile(rf"^{_SEGMENT}(?:/{_SEGMENT})*$")
_INFISICAL_SEPARATOR = "__"


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid secret name, else raise ``InvalidSecretName``."""
    if not isinstance(name, str) or not name or len(name) > NAME_MAX_LENGTH:
        raise InvalidSecretName(
            f"A secret name is 1 to {NAME_MAX_LENGTH} characters, e.g. central-server/12/password."
        )
    if not NAME_RE.fullmatch(name):
        raise InvalidSecretName(
            f"“{name}” is not a valid secret name: use segments of letters and digits joined "
            "by single - _ or . characters, separated by /."
        )
    return name


def name_to_infisical_key(name: str) -> str:
    return validate_name(name).replace("/", _INFISICAL_SEPARATOR)


def infisical_key_to_name(key: str) -> str | None:
    """The secret name for an Infisical key, or None for a key we did not write."""
    name = key.replace(_INFISICAL_SEPARATOR, "/")
    return name if NAME_RE.fullmatch(name) and len(name) <= NAME_MAX_LENGTH else None


class SecretValue:
    """A secret held in memory: ``reveal()`` gives it, nothing else does.

    ``repr``/``str``/``format`` show a placeholder, ``json.dumps`` and DRF's
    encoder refuse it (it is not a str, number, list or mapping), pickling is
    refused so it cannot slip into a shared cache, and comparison is
    constant-time. The value keeps its type: a ``str`` put comes back ``str``,
    ``bytes`` come back ``bytes``.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes):
        if isinstance(value, SecretValue):
            value = value.reveal()
        if not isinstance(value, str | bytes):
            raise TypeError("A secret value is str or bytes.")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str | bytes:
        return self._value

    def reveal_bytes(self) -> bytes:
        value = self._value
        return value.encode() if isinstance(value, str) else value

    @property
    def is_binary(self) -> bool:
        return isinstance(self._value, bytes)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("SecretValue is immutable.")

    def __repr__(self) -> str:
        return "SecretValue('**********')"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return self.is_binary == other.is_binary and hmac.compare_digest(
            self.reveal_bytes(), other.reveal_bytes()
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values cannot be pickled.")

    def __copy__(self) -> SecretValue:
        return self

    def __deepcopy__(self, memo: dict) -> SecretValue:
        return self
