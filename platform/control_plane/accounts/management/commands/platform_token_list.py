"""List platform tokens (names, prefixes, scopes; never the tokens themselves)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from control_plane.accounts.models import PlatformToken


class Command(BaseCommand):
    help = "List platform tokens with their prefix, scopes and state."

    def handle(self, *args, **options):
        for token in PlatformToken.objects.all():
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"pmdp_{token.prefix}_…  {token.name}  [{', '.join(token.scopes)}]  "
                f"{state}, last used {used}"
            )
