"""PostgreSQL advisory locks held on a dedicated connection.

Provisioning runs migrations, and django-tenants closes Django's connection
after migrating a schema, which would silently release a session lock taken
on it. A separate connection keeps the lock for exactly as long as we say.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection


def _lock_key(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _connect() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.pop("server_side_binding", None)
    return psycopg.connect(autocommit=True, **params)


@contextmanager
def advisory_lock(name: str, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock called ``name``; yields False if ``wait`` is off and it is taken."""
    key = _lock_key(name)
    conn = _connect()
    try:
        if wait:
            conn.execute("SELECT pg_advisory_lock(%s)", [key])
            acquired = True
        else:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
            acquired = bool(row and row[0])
        yield acquired
    finally:
        conn.close()
