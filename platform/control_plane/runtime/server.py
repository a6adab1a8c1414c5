"""daphne, with request bodies bounded before they are read (DESIGN.md §7).

Plain daphne (on Twisted's HTTP server) waits for a whole body before the
application runs, whatever its announced length, and Twisted then parses
``multipart/form-data`` and form bodies *in memory* into ``request.args``
(which nothing of ours uses): a 300 MB anonymous POST took the process to
4 GB. This module changes three things, at the protocol level:

1. **Announced length.** When the headers are complete (Twisted's
   ``Request.gotLength``), a ``Content-Length`` above the path's limit
   (``body_limits.body_limit``) is answered ``413`` at once, before a byte of
   body is read, and no ``100 Continue`` is sent.
2. **Streamed length.** Every body chunk is counted as it arrives
   (``handleContentChunk``), so a chunked body, which announces nothing, is
   refused as soon as it passes the limit.
3. **Nothing in memory.** Requests are built with
   ``parsePOSTFormSubmission=False`` (Twisted never parses bodies), Twisted
   spools bodies to a temporary file as usual, and the application's
   ``receive()`` reads that file in 64 KiB chunks as Django asks for them
   (``_BodyReceiver``), instead of daphne copying the whole body into its
   queue first. Django then spools it to disk again
   (``FILE_UPLOAD_MAX_MEMORY_SIZE``) and writes uploads to temporary files.

After a refusal the connection is half-closed (the client reads the 413) and
whatever the client still sends is discarded, unparsed, for at most
``LINGER_SECONDS``, then the connection is dropped.

``manage.py serve`` runs this; so does ``python -m control_plane.runtime.server``
with daphne's own arguments. Running bare ``daphne`` serves without these
limits.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from twisted.internet import reactor
from twisted.web import http

log = structlog.get_logger("control_plane.runtime.server")

LINGER_SECONDS = 10.0
BODY_CHUNK = 64 * 1024
_REASON = b"Content Too Large"


def _discard(*_args: Any) -> None:
    """Stands in for the channel's parser after a refusal: bytes go nowhere."""


class GuardedRequest(WebRequest):
    """daphne's request with the body limits of ``body_limits`` and no in-memory parsing."""

    def __init__(self, channel: http.HTTPChannel, *args: Any, **kwargs: Any) -> None:
        kwargs["parsePOSTFormSubmission"] = False
        self._body_limit: int | None = None
        self._body_received = 0
        self._refused = False
        self._body_file: Any = None
        self._linger: Any = None
        super().__init__(channel, *args, **kwargs)

    # --- Twisted callbacks, in the order they arrive ----------------------------

    def gotLength(self, length: int | None) -> None:  # noqa: N802 - Twisted's name
        from control_plane.runtime.body_limits import body_limit

        self._body_limit = body_limit(self._target_path())
        if length is not None and length > self._body_limit:
            self.content = None
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
        if self._refused:
            return
        self._body_received += len(data)
        if self._body_limit is not None and self._body_received > self._body_limit:
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:  # noqa: N802
        if self._refused:
            return  # the body of a refused request is not a request
        super().requestReceived(command, path, version)

    def process(self) -> Any:
        # daphne copies ``self.content`` into the application's queue in one go;
        # give it an empty stand-in and let the queue read the real file lazily.
        self._body_file = self.content
        self.content = _EmptyBody(self._body_file)
        return super().process()

    def connectionLost(self, reason: Any) -> None:  # noqa: N802 - Twisted's name
        if self._refused:
            if self._linger is not None and self._linger.active():
                self._linger.cancel()  # the client closed first
            # daphne's bookkeeping for this request was closed at the refusal.
            http.Request.connectionLost(self, reason)
            return
        super().connectionLost(reason)

    # --- helpers ---------------------------------------------------------------

    def _target_path(self) -> str:
        """The request's path as the application will route it (percent-decoded)."""
        raw = getattr(self.channel, "_path", b"") or b""
        try:
            target = raw.decode("ascii")
        except UnicodeDecodeError:
            return ""  # daphne answers 400 later; the small limit applies meanwhile
        if not target.startswith("/"):
            target = urlsplit(target).path or "/"  # absolute-form request target
        return unquote(target.split("?", 1)[0])

    def _refuse(self) -> None:
        """Answer 413 now, half-close, and drop whatever else the client sends."""
        from control_plane.runtime.body_limits import refusal

        self._refused = True
        channel = self.channel
        transport = channel.transport
        accept = b",".join(self.requestHeaders.getRawHeaders(b"accept") or []).decode("latin-1")
        content_type, body = refusal(self._target_path(), accept, self._body_limit or 0)
        # No "100 Continue" after this (Twisted sends it once the headers are read).
        self.requestHeaders.removeHeader(b"expect")
        transport.write(
            b"HTTP/1.1 413 "
            + _REASON
            + b"\r\nContent-Type: "
            + content_type
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        # The parser stops here: lines, raw bytes and chunks all go nowhere.
        channel.lineReceived = _discard
        channel.rawDataReceived = _discard
        channel.dataReceived = _discard
        if hasattr(transport, "loseWriteConnection"):
            transport.loseWriteConnection()  # the client sees the end of the answer
        else:  # pragma: no cover - TCP transports have it
            transport.loseConnection()
        self._linger = reactor.callLater(LINGER_SECONDS, transport.abortConnection)
        self.server.protocol_disconnected(self)
        peer = transport.getPeer()
        log.warning(
            "http.body_refused",
            path=self._target_path()[:200],
            limit=self._body_limit,
            announced=self.requestHeaders.getRawHeaders(b"content-length", [b""])[0][:20].decode(
                "latin-1"
            ),
            received=self._body_received,
            peer=getattr(peer, "host", None),
        )


class _EmptyBody:
    """What daphne reads while it builds the queue: nothing, so that nothing is copied."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def read(self, size: int = -1) -> bytes:
        return b""

    def seek(self, *args: Any) -> int:
        return 0

    def tell(self) -> int:
        return 0

    @property
    def closed(self) -> bool:
        return self.real.closed

    def close(self) -> None:
        self.real.close()


class _BodyReceiver:
    """The application's ``receive``: the body from the request's file, then daphne's queue.

    daphne's queue holds one empty ``http.request`` message (read from
    ``_EmptyBody``) and, later, ``http.disconnect``; body chunks are read
    from disk only when the application asks for them, so memory holds one
    chunk per request whatever the body's size.
    """

    def __init__(self, request: GuardedRequest, receive: Any) -> None:
        self._request = request
        self._receive = receive
        self._body_done = False
        self._stand_in_skipped = False

    async def __call__(self) -> dict:
        if not self._body_done:
            file = self._request._body_file
            try:
                chunk = file.read(BODY_CHUNK) if file is not None else b""
            except ValueError:  # closed: the connection is gone
                self._body_done = True
                return {"type": "http.disconnect"}
            more = len(chunk) == BODY_CHUNK
            self._body_done = not more
            return {"type": "http.request", "body": chunk, "more_body": more}
        while True:
            message = await self._receive()
            if message.get("type") == "http.request" and not self._stand_in_skipped:
                self._stand_in_skipped = True  # daphne's empty copy of the body
                continue
            return message


_BODY_KEY = "pmdm.guarded_request"


def _streamed_bodies(application: Any) -> Any:
    """Wrap the ASGI application so that HTTP bodies are received from disk."""

    async def app(scope: dict, receive: Any, send: Any) -> Any:
        request = scope.pop(_BODY_KEY, None)
        if request is not None:
            receive = _BodyReceiver(request, receive)
        return await application(scope, receive, send)

    return app


class GuardedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr: Any) -> Any:  # noqa: N802 - Twisted's name
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = GuardedRequest
        return protocol


class GuardedServer(Server):
    """daphne's server with ``GuardedHTTPFactory`` and the streamed body queue."""

    @property
    def http_factory(self) -> HTTPFactory:
        return self._guarded_http_factory

    @http_factory.setter
    def http_factory(self, factory: HTTPFactory) -> None:
        # daphne's run() builds its own HTTPFactory(self); serve ours instead.
        if type(factory) is HTTPFactory:
            factory = GuardedHTTPFactory(self)
        self._guarded_http_factory = factory

    def __init__(self, application: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(_streamed_bodies(application), *args, **kwargs)

    def create_application(self, protocol: Any, scope: dict) -> Any:
        if isinstance(protocol, GuardedRequest) and scope.get("type") == "http":
            scope[_BODY_KEY] = protocol  # taken out again by _streamed_bodies
        return super().create_application(protocol, scope)


class GuardedCommandLineInterface(CommandLineInterface):
    server_class = GuardedServer


def main(argv: list[str] | None = None) -> None:
    GuardedCommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
