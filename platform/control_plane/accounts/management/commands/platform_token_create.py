"""Create a platform token for the control-plane API; the token is printed once."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from control_plane.accounts.services.platform_tokens import SCOPES, platform_token_create


class Command(BaseCommand):
    help = (
        "Create a platform token (for operators and Terraform). It is shown once: "
        "only its hash is stored. Scopes: " + "; ".join(f"{k} ({v})" for k, v in SCOPES.items())
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="What uses the token, e.g. 'terraform-prod'.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=sorted(SCOPES),
            required=True,
            help="Repeat for several scopes.",
        )
        parser.add_argument(
            "--quiet-token",
            action="store_true",
            help="Print only the token (for scripts: export TF_VAR_...=$(...)).",
        )

    def handle(self, *args, name, scopes, quiet_token, **options):
        try:
            issued = platform_token_create(name=name, scopes=scopes)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if quiet_token:
            self.stdout.write(issued.secret)
            return
        self.stdout.write(
            f"Platform token “{issued.token.name}” ({', '.join(issued.token.scopes)}):\n\n"
            f"    {issued.secret}\n\n"
            "Store it now: it cannot be shown again. Terraform reads it from "
            "PUBLISHMDM_TOKEN."
        )
