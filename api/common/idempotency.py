"""``Idempotency-Key`` on POSTs that start work: a retry returns the first answer.

A script whose connection dropped cannot know whether its publish started;
sending the same request with the same key is then always safe. The key is
scoped by organization and principal (token or user) and kept for
``API_IDEMPOTENCY_TTL`` seconds (24 hours by default).

How it cannot start work twice: the key's row is inserted in the same
transaction as the work and updated with the response before commit. A
second request with the same key blocks on the unique index until the first
commits, then finds the stored response and replays it (or, if the first
failed and rolled back, does the work itself). Only successful (2xx) answers
are stored: a failure started nothing, so repeating the request repeats the
attempt. The same key with a different body is refused (422).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.authentication import token_identity
from api.common.errors import IdempotencyKeyReused
from api.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, like Stripe's keys
_REPLAYED_HEADERS = ("Location", "ETag")


def request_principal(request: Request) -> str:
    """Who sent the request, as a short stable string (``apitoken:12``, ``user:7``)."""
    identity = token_identity(request)
    if identity is not None:
        return f"apitoken:{identity.token.pk}"
    auth = getattr(request, "auth", None)
    if auth is not None and hasattr(auth, "_meta"):
        return f"{auth._meta.model_name}:{auth.pk}"
    return f"user:{request.user.pk}"


def _fingerprint(request: Request) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, UploadedFile):
            digest = hashlib.sha256()
            for chunk in value.chunks():
                digest.update(chunk)
            value.seek(0)
            return {"file_sha256": digest.hexdigest()}
        return value

    data = request.data
    if hasattr(data, "lists"):  # QueryDict / MultiValueDict
        body = {key: [plain(v) for v in values] for key, values in data.lists()}
    else:
        body = data
    raw = json.dumps(
        [request.method, request.path, body], sort_keys=True, cls=DjangoJSONEncoder, default=str
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(row: IdempotencyKey) -> Response:
    response = Response(row.response_body, status=row.response_status)
    for name, value in (row.response_headers or {}).items():
        response[name] = value
    response[REPLAY_HEADER] = "true"
    return response


def _ttl() -> timedelta:
    return timedelta(seconds=getattr(settings, "API_IDEMPOTENCY_TTL", 86400))


def _purge_expired(scope: dict[str, Any]) -> None:
    """Forget this key if it expired, and a small batch of other expired keys.

    Doing a little on every keyed request keeps the table bounded without a
    periodic job; the ``created_at`` index makes both deletes cheap.
    """
    cutoff = timezone.now() - _ttl()
    IdempotencyKey.objects.filter(**scope, created_at__lt=cutoff).delete()
    expired = IdempotencyKey.objects.filter(created_at__lt=cutoff).values("pk")[:100]
    IdempotencyKey.objects.filter(pk__in=expired).delete()


def idempotent(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a view method (``create``, an ``@action``) that starts work."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _KEY_RE.fullmatch(key):
            raise exceptions.ValidationError(
                {HEADER: ["Use 1 to 255 visible ASCII characters (a UUID is ideal)."]},
                code="invalid_idempotency_key",
            )
        organization = getattr(request._request, "tenant", None)
        scope = {
            "organization": organization,
            "principal": request_principal(request),
            "key": key,
        }
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            _purge_expired(scope)
            try:
                with transaction.atomic():
                    row = IdempotencyKey.objects.create(
                        **scope,
                        method=request.method,
                        path=request.path[:500],
                        request_sha256=fingerprint,
                    )
            except IntegrityError:
                # Another request with this key committed first (we waited for it).
                row = IdempotencyKey.objects.select_for_update().get(**scope)
                if row.request_sha256 != fingerprint:
                    raise IdempotencyKeyReused() from None
                return _replay(row)
            response = handler(view, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)
                return response
            row.response_status = response.status_code
            row.response_body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
            row.response_headers = {
                name: response[name] for name in _REPLAYED_HEADERS if response.has_header(name)
            }
            row.save(update_fields=["response_status", "response_body", "response_headers"])
        return response

    wrapper.idempotent = True  # read by the schema generator
    return wrapper
