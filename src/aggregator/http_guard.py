"""What the HTTP server allows one connection: time to send its headers, time idle, and
framing that cannot be read two ways.

uvicorn times out an idle keep-alive connection, but any byte resets that, and nothing
bounds how long a request's headers may take: a client sending them a byte at a time (or
not at all) held its connection for ever, and a few hundred such clients used every file
descriptor. ``GuardedH11Protocol`` gives every request ``HEADER_SECONDS`` from the
connection (or the previous response) to its last header line, whatever trickles in.
``refuse_ambiguous_framing`` answers 400 and closes the connection when a request says
both ``Content-Length`` and ``Transfer-Encoding``: behind a proxy that reads the other
one, the bytes after it would be taken as a second, smuggled request.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

#: From the connection, or the end of the previous response, to a request's last header.
HEADER_SECONDS = 10.0
#: A kept-alive connection with no request coming is closed after this long.
IDLE_SECONDS = 5
#: Connections (and requests in progress) beyond this are answered 503 at once.
MAX_CONNECTIONS = 512


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's headers."""

    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def handle_events(self) -> None:
        waiting = self.cycle
        super().handle_events()
        if self.cycle is not waiting:  # a request's headers arrived
            self._disarm_header_deadline()

    def on_response_complete(self) -> None:
        # Armed first, for the next request on this connection: handling a pipelined one
        # (inside uvicorn's method) disarms it again.
        if not self.transport.is_closing():
            self._arm_header_deadline()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_deadline = self.loop.call_later(HEADER_SECONDS, self._headers_too_slow)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def refuse_ambiguous_framing(app: ASGIApp) -> ASGIApp:
    """``app``, answering 400 (and closing) a request with two ways to find its end."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            names = {name.lower() for name, _ in scope["headers"]}
            if b"content-length" in names and b"transfer-encoding" in names:
                body = b"Content-Length and Transfer-Encoding together are refused\n"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded
