"""What every benchmark does first: start Django the way ``manage.py`` does.

Quiet logs (console logging of every step would time the terminal, not the
product), mail kept in memory, and the embedded PostgreSQL when DATABASE_URL is
unset. ``defaults`` are used only where the environment says nothing;
``forced`` always win (a temporary MEDIA_ROOT, a fake service's URL).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence


def setup_django(
    defaults: Mapping[str, str] | None = None, forced: Mapping[str, str] | None = None
) -> None:
    base = {
        "DJANGO_SETTINGS_MODULE": "control_plane.settings",
        "LOG_LEVEL": "WARNING",
        "EMAIL_URL": "memorymail://",
    }
    for name, value in {**base, **(defaults or {})}.items():
        os.environ.setdefault(name, value)
    os.environ.update(forced or {})
    if not os.environ.get("DATABASE_URL"):
        from control_plane.embedded_db import ensure_database

        ensure_database()
    import django

    django.setup()


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (``pct`` in 0..100); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
