"""The plans every installation starts with.

Plain data, imported by the seeding migration and by ``plans_seed`` alike, so
the catalogue is defined once. ``None`` means "no limit".
"""

from __future__ import annotations

# The plan an organization is on when none was chosen (signup, ``org_create``).
DEFAULT_PLAN = "free"

DEFAULT_PLANS: list[dict] = [
    {
        "slug": "free",
        "name": "Free",
        "description": "One small team trying Publish MDM.",
        "position": 0,
        "max_members": 5,
        "max_app_users": 25,
        "max_custom_domains": 0,
    },
    {
        "slug": "team",
        "name": "Team",
        "description": "A programme with several field teams and its own domain.",
        "position": 1,
        "max_members": 50,
        "max_app_users": 1000,
        "max_custom_domains": 3,
    },
    {
        "slug": "enterprise",
        "name": "Enterprise",
        "description": "No limits; contracts and support agreed separately.",
        "position": 2,
        "max_members": None,
        "max_app_users": None,
        "max_custom_domains": None,
    },
]
