"""Entry point: ``terraform-provider-publishmdm`` (started by Terraform, speaks gRPC).

Terraform starts the provider several times per command (to read its schema,
to plan, to apply), so start-up time is paid again and again; see
``_remember_certificate_expiry``.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from tf import runner

from publishmdm_provider.provider import PublishMdmProvider

EXPIRY_MEMO = "publishmdm-cert-expiry"


def _remember_certificate_expiry() -> None:
    """Reuse ``tf``'s cached gRPC certificate without importing ``cryptography`` each start.

    ``tf`` (1.2.0, pinned in uv.lock) parses its cached certificate with
    ``cryptography`` on every start only to check its expiry: 0.1-0.25 s,
    paid about three times per ``terraform`` command. We note the expiry
    beside tf's cache the first time and hand gRPC the cached PEMs while it
    is more than an hour away; otherwise (no memo, no cache, near expiry, any
    surprise) tf's own function runs and regenerates as it always does.
    """
    original = runner._self_signed_cert

    def self_signed_cert() -> tuple[bytes, Any]:
        cache = runner._get_cert_cache_path()
        memo = cache.with_name(EXPIRY_MEMO)
        try:
            if float(memo.read_text()) > time.time() + 3600:
                cached = json.loads(cache.read_text())
                import grpc

                credentials = grpc.ssl_server_credentials(
                    private_key_certificate_chain_pairs=[
                        (cached["key_pem"].encode(), cached["cert_pem"].encode())
                    ],
                    require_client_auth=False,
                )
                return base64.b64decode(cached["cert_chain"]), credentials
        except (OSError, ValueError, KeyError, TypeError):
            pass
        chain, credentials = original()
        try:
            from cryptography import x509

            expiry = x509.load_der_x509_certificate(chain).not_valid_after_utc.timestamp()
            memo.write_text(str(expiry))
        except (OSError, ValueError):
            pass
        return chain, credentials

    runner._self_signed_cert = self_signed_cert


def main() -> None:
    _remember_certificate_expiry()
    runner.run_provider(PublishMdmProvider())


if __name__ == "__main__":
    main()
