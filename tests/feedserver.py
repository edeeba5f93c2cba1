"""A real HTTP server on 127.0.0.1 for tests: serves feed documents like a web server
would (ETag, Last-Modified, 304), plus misbehaving routes, and records every request."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds between body bytes (a trickling server).
    trickle: float = 0.0
    #: Use validators and answer conditional requests with 304.
    conditional: bool = True
    #: Send Content-Length; without it the body ends when the connection closes.
    length: bool = True
    #: Seconds to wait before answering (a slow origin).
    delay: float = 0.0


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]
    status: int
    #: time.monotonic() when the request arrived, and when its answer was sent.
    at: float = 0.0
    ended: float = 0.0


class FeedServer:
    """``routes`` maps a path to a ``Route``; change them while the server runs."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self.last_modified = formatdate(time.time() - 3600, usegmt=True)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._answer(self)

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.base = f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, body: bytes | str, **options: object) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(body=data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def requests_to(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        route = self.routes.get(handler.path.split("?")[0])
        headers = {k.lower(): v for k, v in handler.headers.items()}
        status = route.status if route else 404
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"' if route else ""
        if route and route.conditional and status == 200 and headers.get("if-none-match") == etag:
            status = 304
        seen = SeenRequest(handler.path, headers, status, time.monotonic())
        self.requests.append(seen)
        if route and route.delay:
            time.sleep(route.delay)
        handler.send_response(status)
        body = b"" if status == 304 or route is None else route.body
        if route:
            handler.send_header("Content-Type", route.content_type)
            for name, value in route.headers.items():
                handler.send_header(name, value)
            if route.conditional and route.status == 200:
                handler.send_header("ETag", etag)
                handler.send_header("Last-Modified", self.last_modified)
        if route is None or route.length:
            handler.send_header("Content-Length", str(len(body)))
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        try:
            if route and route.trickle:
                for byte in body:
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                    time.sleep(route.trickle)
            else:
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on us, as it should with hostile routes
        seen.ended = time.monotonic()

    def start(self) -> None:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def running_server(
    setup: Callable[[FeedServer], None] | None = None, host: str = "127.0.0.1"
) -> Iterator[FeedServer]:
    server = FeedServer(host)
    if setup:
        setup(server)
    server.start()
    try:
        yield server
    finally:
        server.stop()
