"""The S3 storage backend's options, in one place (settings and tests build them alike).

Organizations' files go to one private bucket under ``tenants/<schema>/``
(``control_plane.storage``). Downloads are short-lived presigned URLs, signed
with Signature Version 4: S3 regions opened since 2014 (and most S3-compatible
servers) refuse the older SigV2 that boto3 would otherwise use for presigning.
"""

from __future__ import annotations

from typing import Any

ADDRESSING_STYLES = ("auto", "path", "virtual")


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    url_expiry: int = 300,
    addressing_style: str = "auto",
) -> dict[str, Any]:
    """``STORAGES["default"]`` for django-storages' S3 backend.

    Empty credentials fall back to boto3's own chain (instance role, environment).
    """
    if addressing_style not in ADDRESSING_STYLES:
        raise ValueError(f"S3_ADDRESSING_STYLE must be one of {', '.join(ADDRESSING_STYLES)}.")
    if not 1 <= url_expiry <= 7 * 24 * 3600:
        raise ValueError("S3_URL_EXPIRY must be between 1 second and 7 days (604800).")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "signature_version": "s3v4",
            "addressing_style": None if addressing_style == "auto" else addressing_style,
            # Private objects: nothing public, every read signed.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": url_expiry,
            # A name already taken gets a new one; stored artifacts are never overwritten.
            "file_overwrite": False,
        },
    }
