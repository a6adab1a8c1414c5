"""Revoke a platform token by its prefix (the part after ``pmdp_``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from control_plane.accounts.models import PlatformToken
from control_plane.accounts.services.platform_tokens import platform_token_revoke
from control_plane.errors import ServiceError


class Command(BaseCommand):
    help = "Revoke a platform token; calls with it fail from the next request on."

    def add_arguments(self, parser):
        parser.add_argument(
            "prefix", help="The 8 characters after pmdp_ (see platform_token_list)."
        )

    def handle(self, *args, prefix, **options):
        prefix = prefix.removeprefix("pmdp_").split("_", 1)[0]
        token = PlatformToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"No platform token with prefix {prefix!r}.")
        try:
            platform_token_revoke(token)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Revoked {token.name} (pmdp_{prefix}_…).")
