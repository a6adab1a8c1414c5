"""A fake S3: moto's server mode (``ThreadedMotoServer``) on a free loopback port, made as
strict as Amazon S3 about who may read and write.

moto stores buckets and objects faithfully but, in server mode, accepts any request:
unsigned ones, SigV2, a presigned URL whose key was swapped for another, one long
expired. S3 refuses all of these, and those refusals are exactly what our storage
relies on (organization A's signed URL must never fetch B's file), so a thin WSGI
layer in front of moto checks them as S3 documents:

- every request is signed with AWS Signature Version 4, in the ``Authorization``
  header or as a presigned URL's query (``X-Amz-Algorithm=AWS4-HMAC-SHA256``);
  anything else is 403 ``AccessDenied`` (the buckets are private) or, for SigV2,
  400 ``InvalidRequest`` as in every region opened since 2014;
- the access key must be one the fake knows (403 ``InvalidAccessKeyId``) and the
  signature must match the canonical request (403 ``SignatureDoesNotMatch``);
- a presigned URL is refused once ``X-Amz-Date + X-Amz-Expires`` has passed (403
  ``AccessDenied``, "Request has expired"), and may not ask for more than 7 days.

``clock_offset`` moves the fake's clock forward, so expiry is tested without
sleeping. Start it with the ``s3_server`` fixture (one per test session).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

ACCESS_KEY = "AKIAPMDMFAKES3000001"
SECRET_KEY = "pmdm-fake-s3-secret-key-not-for-production"  # noqa: S105 - a fake's key
REGION = "us-east-1"
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


class S3Refusal(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _header(environ: dict[str, Any], name: str) -> str:
    key = name.upper().replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        value = environ.get(key, "")
    else:
        value = environ.get(f"HTTP_{key}", "")
    return re.sub(r"\s+", " ", str(value).strip())


class FakeS3:
    """moto's S3 behind SigV4 checks; ``endpoint_url`` once started."""

    def __init__(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> None:
        self.credentials = {access_key: secret_key}
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = REGION
        self.clock_offset = 0.0
        self.refusals: list[tuple[str, str]] = []  # (code, path), for tests that look
        self._server: Any = None

    # --- running -------------------------------------------------------------------------

    def start(self) -> FakeS3:
        from moto.server import ThreadedMotoServer
        from werkzeug.serving import make_server

        fake = self

        class Server(ThreadedMotoServer):
            def _server_entry(self) -> None:
                from moto.moto_server.werkzeug_app import (
                    DomainDispatcherApplication,
                    MotoRequestHandler,
                    create_backend_app,
                )

                app = fake.wsgi(DomainDispatcherApplication(create_backend_app))
                self._server = make_server(
                    self._ip_address,
                    self._port,
                    app,
                    True,
                    request_handler=_QuietHandler(MotoRequestHandler),
                )
                self._server_ready_event.set()
                self._server.serve_forever()

        self._server = Server(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self):
        """A boto3 client with the fake's key, for test set-up and inspection."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def now(self) -> float:
        return time.time() + self.clock_offset

    # --- the checks ----------------------------------------------------------------------

    def wsgi(self, app):
        def strict(environ, start_response):
            try:
                self.check(environ)
            except S3Refusal as refusal:
                self.refusals.append((refusal.code, environ.get("PATH_INFO", "")))
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
                    f"<Code>{refusal.code}</Code><Message>{escape(refusal.message)}</Message>"
                    f"<RequestId>{hashlib.md5(str(time.time()).encode()).hexdigest()[:16].upper()}"  # noqa: S324
                    "</RequestId></Error>"
                ).encode()
                reason = {400: "Bad Request", 403: "Forbidden"}[refusal.status]
                start_response(
                    f"{refusal.status} {reason}",
                    [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
                )
                return [body]
            return app(environ, start_response)

        return strict

    def check(self, environ: dict[str, Any]) -> None:
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        parts = urlsplit(raw_uri)
        query = parse_qsl(parts.query, keep_blank_values=True)
        params = dict(query)
        authorization = _header(environ, "Authorization")
        if "Signature" in params or "AWSAccessKeyId" in params or authorization.startswith("AWS "):
            raise S3Refusal(
                400,
                "InvalidRequest",
                "The authorization mechanism you have provided is not supported. "
                "Please use AWS4-HMAC-SHA256.",
            )
        if params.get("X-Amz-Algorithm"):
            self._check_presigned(environ, parts.path, query, params)
        elif authorization.startswith("AWS4-HMAC-SHA256 "):
            self._check_header_signed(environ, parts.path, query, authorization)
        else:
            raise S3Refusal(403, "AccessDenied", "Access Denied")

    def _check_presigned(self, environ, path, query, params) -> None:
        if params["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
            raise S3Refusal(400, "AuthorizationQueryParametersError", "Unsupported algorithm.")
        try:
            credential = params["X-Amz-Credential"]
            amz_date = params["X-Amz-Date"]
            expires = int(params["X-Amz-Expires"])
            signed_headers = params["X-Amz-SignedHeaders"]
            signature = params["X-Amz-Signature"]
        except (KeyError, ValueError):
            raise S3Refusal(
                400,
                "AuthorizationQueryParametersError",
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                "and X-Amz-Expires parameters.",
            ) from None
        if not 1 <= expires <= MAX_PRESIGN_SECONDS:
            raise S3Refusal(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                "X-Amz-Expires must be less than 604800 seconds",
            )
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC).timestamp()
        if self.now() > signed_at + expires:
            raise S3Refusal(403, "AccessDenied", "Request has expired")
        unsigned = [(k, v) for k, v in query if k != "X-Amz-Signature"]
        self._verify(
            environ, path, unsigned, credential, amz_date, signed_headers, "UNSIGNED-PAYLOAD",
            signature,
        )  # fmt: skip

    def _check_header_signed(self, environ, path, query, authorization) -> None:
        fields = dict(
            part.strip().split("=", 1)
            for part in authorization[len("AWS4-HMAC-SHA256 ") :].split(",")
            if "=" in part
        )
        try:
            credential = fields["Credential"]
            signed_headers = fields["SignedHeaders"]
            signature = fields["Signature"]
        except KeyError:
            raise S3Refusal(400, "AuthorizationHeaderMalformed", "Malformed header.") from None
        amz_date = _header(environ, "X-Amz-Date")
        payload = _header(environ, "X-Amz-Content-SHA256")
        if not amz_date or not payload:
            raise S3Refusal(400, "InvalidRequest", "Missing required header for this request")
        self._verify(environ, path, query, credential, amz_date, signed_headers, payload, signature)

    def _verify(
        self, environ, path, query, credential, amz_date, signed_headers, payload, signature
    ) -> None:
        try:
            access_key, date, region, service, terminal = credential.split("/")
        except ValueError:
            raise S3Refusal(400, "AuthorizationHeaderMalformed", "Bad credential.") from None
        secret = self.credentials.get(access_key)
        if secret is None:
            raise S3Refusal(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
        headers = signed_headers.split(";")
        canonical_headers = "".join(f"{name}:{_header(environ, name)}\n" for name in headers)
        # S3 signs the path as sent (URI-encoded once), not re-encoded.
        canonical_uri = quote(unquote(path), safe="/-_.~")
        canonical_request = "\n".join(
            [
                environ["REQUEST_METHOD"],
                canonical_uri,
                _canonical_query(query),
                canonical_headers,
                signed_headers,
                payload,
            ]
        )
        scope = f"{date}/{region}/{service}/{terminal}"
        string_to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                amz_date,
                scope,
                hashlib.sha256(canonical_request.encode()).hexdigest(),
            ]
        )
        key = _hmac(f"AWS4{secret}".encode(), date)
        for part in (region, service, terminal):
            key = _hmac(key, part)
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise S3Refusal(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
            )


def _QuietHandler(base):  # noqa: N802 - returns a class
    class Quiet(base):
        def log_request(self, *args, **kwargs) -> None:  # no line per request on stderr
            pass

    return Quiet
