"""Entry point: ``terraform-provider-publishmdm`` (started by Terraform, speaks gRPC)."""

from __future__ import annotations

from tf.runner import run_provider

from publishmdm_provider.provider import PublishMdmProvider


def main() -> None:
    run_provider(PublishMdmProvider())


if __name__ == "__main__":
    main()
