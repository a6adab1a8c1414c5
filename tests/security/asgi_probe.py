"""A tiny ASGI application for the server tests: it holds requests, then reads their bodies.

Each request waits until ``X-Hold-For`` requests are in flight at once, so
that every body has fully arrived before any is read; then it reads its body
through ``receive()`` and answers its size and SHA-256. What the server keeps
in memory meanwhile is what the test measures.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")

_arrived = 0
_all_here = asyncio.Event()


async def app(scope, receive, send):
    global _arrived
    if scope["type"] != "http":
        return
    headers = dict(scope["headers"])
    hold_for = int(headers.get(b"x-hold-for", b"1"))
    _arrived += 1
    if _arrived >= hold_for:
        _all_here.set()
    await asyncio.wait_for(_all_here.wait(), 120)
    digest, size, chunks = hashlib.sha256(), 0, 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        digest.update(message["body"])
        size += len(message["body"])
        chunks += 1
        if not message.get("more_body"):
            break
    body = json.dumps({"size": size, "sha256": digest.hexdigest(), "chunks": chunks}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
