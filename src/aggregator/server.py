"""Serving the published site over HTTP, from bytes held in memory.

``PublishedSite`` holds every published file (``publish.render_site``'s map) with its
validators and its gzip and brotli encodings, all computed once per update; an update
swaps the whole map in one reference assignment, so a request sees either the old site or
the new one, never a mix. ``create_app`` answers GET and HEAD for those files with
ETag/Last-Modified, 304s for conditional requests and compressed bodies when asked, plus
``/healthz`` and ``/metrics``; the HTTP rules themselves are ``http_rules``. Only exact
keys of the map are ever served: there is no file system access, so no request path can
reach anything else. ``serve`` runs the app under uvicorn inside the caller's event loop;
the caller owns the signals and says when to stop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gzip
import hashlib
import json
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import brotli
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aggregator.errors import AggregatorError
from aggregator.feed_style import browser_media_type
from aggregator.http_guard import (
    IDLE_SECONDS,
    MAX_CONNECTIONS,
    GuardedH11Protocol,
    refuse_ambiguous_framing,
)
from aggregator.http_rules import (
    cache_control,
    choose_coding,
    media_type,
    none_match,
    not_modified_since,
    site_key,
)
from aggregator.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from aggregator.metrics import Metrics
from aggregator.syndication import FEED_MEDIA_TYPES

log = logging.getLogger(__name__)

#: Bodies up to this many bytes are sent as they are: compressing them saves too little.
COMPRESS_MIN_BYTES = 1024
#: Brotli 11 costs ~15x the time of 9 for ~8% less on a large feed; gzip 9 ~3x 6 for ~4%.
BROTLI_QUALITY = 9
GZIP_LEVEL = 6
#: Hex digits of the body's SHA-256 in its ETag (128 bits).
ETAG_DIGITS = 32
#: How long a stop waits for in-flight responses before closing their connections.
GRACEFUL_SHUTDOWN_SECONDS = 5

_METHODS = ("GET", "HEAD")
_FEED_TYPES = frozenset(FEED_MEDIA_TYPES[extension] for extension in ("xml", "atom"))
_ALLOW = ", ".join(_METHODS)
#: The index page is our own markup: no scripts at all, images from anywhere.
_HTML_POLICY = (
    "default-src 'none'; img-src http: https: data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class ServeError(AggregatorError):
    """The HTTP server could not start (the address is taken, the port is not allowed…)."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One representation of a published file: its bytes under one content-coding."""

    body: bytes
    #: Strong, quoted; differs per coding so caches never mix representations.
    etag: str


@dataclass(frozen=True, slots=True)
class Published:
    """One published file, ready to be served: bytes, validators, headers, encodings."""

    #: The key in the site's map, e.g. ``feeds/all.xml``.
    path: str
    #: SHA-256 of ``identity.body``, hex.
    digest: str
    identity: Variant
    #: When these bytes were first published (whole seconds, UTC).
    last_modified: datetime
    #: ``last_modified`` as an HTTP date.
    last_modified_http: str
    content_type: str
    cache_control: str
    #: Precomputed compressed representations by content-coding (``br``, ``gzip``); only
    #: those that came out smaller than the body.
    encodings: Mapping[str, Variant]

    @property
    def body(self) -> bytes:
        return self.identity.body

    @property
    def etag(self) -> str:
        return self.identity.etag

    def variant(self, coding: str | None) -> Variant:
        return self.encodings[coding] if coding else self.identity


class PublishedSite:
    """The current published files, held in memory, with validators."""

    def __init__(self, on_disk: Path | None = None) -> None:
        #: Where publishing writes the same files (``output.dir``): a file that has the
        #: same bytes there keeps its modification time as ``Last-Modified``, so a restart
        #: does not make every feed new to ``If-Modified-Since``.
        self.on_disk = on_disk
        self._files: Mapping[str, Published] = MappingProxyType({})
        self._published_at: datetime | None = None
        # Serializes updates (each compares with the previous set); reads never lock.
        self._lock = threading.Lock()

    @property
    def published_at(self) -> datetime | None:
        """When ``update`` was last called, or None before the first publish."""
        return self._published_at

    def paths(self) -> tuple[str, ...]:
        return tuple(self._files)

    def update(self, files: Mapping[str, bytes], published_at: datetime) -> None:
        """Replace the whole set of files at once.

        A file whose bytes did not change keeps its validators and encodings (nothing is
        recompressed); a new or changed one is stamped ``published_at``. CPU-bound for
        large changed files (compression), so call it off the event loop
        (``asyncio.to_thread``) when the server shares that loop.
        """
        when = _whole_seconds(published_at)
        with self._lock:
            previous = self._files
            current: dict[str, Published] = {}
            for path, data in files.items():
                body = bytes(data)
                digest = hashlib.sha256(body).hexdigest()
                kept = previous.get(path)
                if kept is not None and kept.digest == digest:
                    current[path] = kept
                else:
                    since = self._written_at(path, digest) if kept is None else None
                    current[path] = _prepare(path, body, digest, min(since or when, when))
            self._files = MappingProxyType(current)  # the swap: one reference assignment
            self._published_at = when

    def _written_at(self, path: str, digest: str) -> datetime | None:
        """When the same bytes were written under ``on_disk``, if they were."""
        if self.on_disk is None:
            return None
        file = self.on_disk / path
        try:
            if hashlib.sha256(file.read_bytes()).hexdigest() != digest:
                return None
            return _whole_seconds(datetime.fromtimestamp(file.stat().st_mtime, UTC))
        except OSError:
            return None

    def get(self, path: str) -> Published | None:
        """The file published under exactly ``path`` (a map key, no leading slash)."""
        return self._files.get(path)


def _whole_seconds(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _prepare(path: str, body: bytes, digest: str, when: datetime) -> Published:
    tag = digest[:ETAG_DIGITS]
    encodings: dict[str, Variant] = {}
    if len(body) > COMPRESS_MIN_BYTES:
        compressed = {
            "br": brotli.compress(body, mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY),
            "gzip": gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0),
        }
        suffix = {"br": "br", "gzip": "gz"}
        for coding, data in compressed.items():
            if len(data) < len(body):
                encodings[coding] = Variant(data, f'"{tag}-{suffix[coding]}"')
    return Published(
        path=path,
        digest=digest,
        identity=Variant(body, f'"{tag}"'),
        last_modified=when,
        last_modified_http=format_datetime(when, usegmt=True),
        content_type=media_type(path),
        cache_control=cache_control(path),
        encodings=MappingProxyType(encodings),
    )


def respond(published: Published, method: str, headers: Headers) -> Response:
    """The answer to a GET or HEAD for ``published`` given the request's headers."""
    coding = choose_coding(_field(headers, "accept-encoding"), published.encodings)
    variant = published.variant(coding)
    common = {
        "etag": variant.etag,
        "last-modified": published.last_modified_http,
        "cache-control": published.cache_control,
        # A browser gets RSS and Atom as XML (see feed_style): caches must keep them apart.
        "vary": "Accept-Encoding, Accept"
        if published.content_type in _FEED_TYPES
        else "Accept-Encoding",
    }
    if_none_match = _field(headers, "if-none-match")
    if if_none_match is not None:
        unchanged = none_match(if_none_match, variant.etag)
    else:
        if_modified_since = headers.get("if-modified-since")
        unchanged = if_modified_since is not None and not_modified_since(
            if_modified_since, published.last_modified
        )
    if unchanged:
        return Response(status_code=304, headers=common)
    full = {
        **common,
        "content-type": browser_media_type(published.content_type, _field(headers, "accept")),
        "content-length": str(len(variant.body)),
        "x-content-type-options": "nosniff",
    }
    if coding:
        full["content-encoding"] = coding
    if published.content_type.startswith("text/html"):
        full["content-security-policy"] = _HTML_POLICY
    return Response(b"" if method == "HEAD" else variant.body, headers=full)


def _field(headers: Headers, name: str) -> str | None:
    """A list-valued header field, its lines joined as one (RFC 9110 §5.3)."""
    values = headers.getlist(name)
    return ", ".join(values) if values else None


def _not_found() -> Response:
    return PlainTextResponse("not found\n", status_code=404)


def _method_not_allowed() -> Response:
    return PlainTextResponse("method not allowed\n", status_code=405, headers={"allow": _ALLOW})


def _no_store(body: bytes, method: str, content_type: str, status: int = 200) -> Response:
    return Response(
        b"" if method == "HEAD" else body,
        status_code=status,
        headers={
            "content-type": content_type,
            "content-length": str(len(body)),
            "cache-control": "no-store",
        },
    )


Handler = Callable[[Request], Awaitable[Response]]


class _Endpoint:
    """An ASGI endpoint around ``handler``, which decides on methods itself: Starlette
    answers 405 on its own only for plain functions, and then lets a catch-all route win."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)


def create_app(
    site: PublishedSite, health: Callable[[], Mapping[str, object]], metrics: Metrics
) -> Starlette:
    """The ASGI app: the published files, ``/healthz`` and ``/metrics``.

    ``health`` is called in a worker thread for each ``/healthz`` (it may read the store);
    its keys are merged over ``{"status": "ok"}``, so it may say ``"status": "degraded"``.
    """

    async def published(request: Request) -> Response:
        key = site_key(request.scope["path"])
        found = site.get(key) if key is not None else None
        if found is None:  # before the method: an unknown path is 404 whatever is asked
            return _not_found()
        if request.method not in _METHODS:
            return _method_not_allowed()
        return respond(found, request.method, request.headers)

    async def healthz(request: Request) -> Response:
        if request.method not in _METHODS:
            return _method_not_allowed()
        status = 200
        try:
            report: dict[str, object] = {
                "status": "ok",
                "published_at": site.published_at.isoformat() if site.published_at else None,
                **(await run_in_threadpool(health)),
            }
        except Exception as error:  # a failing health check is an answer, not a crash
            log.exception("health check failed")
            status = 503
            report = {"status": "error", "error": f"{type(error).__name__}: {error}"}
        body = json.dumps(report, ensure_ascii=False, default=str).encode()
        return _no_store(body, request.method, "application/json", status)

    async def metrics_text(request: Request) -> Response:
        if request.method not in _METHODS:
            return _method_not_allowed()
        # In a worker thread: with 1,000 sources the text is ~0.5 MB and ~0.1 s of CPU,
        # which on the server's loop every file request would wait behind.
        text = await run_in_threadpool(metrics.render)
        return _no_store(text, request.method, METRICS_CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/healthz", _Endpoint(healthz)),
            Route("/metrics", _Endpoint(metrics_text)),
            Route("/{path:path}", _Endpoint(published)),
        ]
    )


class Listening(asyncio.Event):
    """A ``started`` event for ``serve`` that also says where the server listens."""

    def __init__(self) -> None:
        super().__init__()
        #: (host, port) of every listening socket, filled in before the event is set.
        self.addresses: list[tuple[str, int]] = []

    @property
    def port(self) -> int:
        """The bound port (useful when asked for port 0)."""
        if not self.addresses:
            raise RuntimeError("the server is not listening yet")
        return self.addresses[0][1]


class _Server(uvicorn.Server):
    """uvicorn without its signal handling: the caller owns SIGINT and SIGTERM."""

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        return

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:  # uvicorn >= 0.29
        yield


async def serve(
    app: ASGIApp,
    host: str,
    port: int,
    stop: asyncio.Event,
    started: asyncio.Event | None = None,
) -> None:
    """Serve ``app`` on ``host:port`` in the running event loop until ``stop`` is set.

    ``started`` is set once the socket listens; pass a ``Listening`` to learn the bound
    address (port 0 picks a free one). Raises ``ServeError`` if the server cannot start.
    On ``stop`` new connections are refused and responses in flight get
    ``GRACEFUL_SHUTDOWN_SECONDS`` to finish.
    """
    config = uvicorn.Config(
        refuse_ambiguous_framing(app),
        host=host,
        port=port,
        http=GuardedH11Protocol,
        timeout_keep_alive=IDLE_SECONDS,
        limit_concurrency=MAX_CONNECTIONS,
        lifespan="off",
        log_level="warning",
        log_config=None,  # leave logging to the application
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = _Server(config)

    async def run() -> None:
        try:
            await server.serve()
        except SystemExit as error:  # uvicorn exits when it cannot bind; it logged why
            raise ServeError(f"cannot serve HTTP on {host}:{port}") from error

    serving = asyncio.create_task(run(), name="aggregator-http")
    try:
        # uvicorn has no start-up callback; poll its flag (only while starting).
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        if serving.done():
            serving.result()  # raises ServeError
            raise ServeError(f"the HTTP server on {host}:{port} stopped before listening")
        addresses = _bound(server)
        log.info("serving HTTP on %s", ", ".join(f"http://{h}:{p}/" for h, p in addresses))
        if started is not None:
            if isinstance(started, Listening):
                started.addresses = addresses
            started.set()
        await _first(serving, stop.wait())
        server.should_exit = True
        await serving
    finally:
        if not serving.done():  # cancelled: close at once rather than leak the socket
            server.should_exit = server.force_exit = True
            await asyncio.wait({serving})
        if not serving.cancelled():
            serving.exception()  # retrieved: it propagated above, or we are unwinding


async def serve_in_thread(
    app: ASGIApp,
    host: str,
    port: int,
    stop: asyncio.Event,
    started: asyncio.Event | None = None,
) -> None:
    """As ``serve``, with the server in a thread of its own that runs its own event loop.

    The service's loop is busy during a pass (a thousand fetches' callbacks); a request
    served on it waits behind them. On its own loop it waits only for its turn at the
    interpreter lock, which a thread asking for it gets within the switch interval."""
    ended: concurrent.futures.Future[None] = concurrent.futures.Future()
    listening = threading.Event()
    control: dict[str, Any] = {}

    def run_thread() -> None:
        try:
            asyncio.run(_serve_here(app, host, port, control, listening))
        except BaseException as error:  # handed to the caller's loop
            ended.set_exception(error)
        else:
            ended.set_result(None)

    thread = threading.Thread(target=run_thread, name="aggregator-http", daemon=True)
    thread.start()
    ending = asyncio.wrap_future(ended)
    try:
        while not listening.is_set() and not ending.done():
            await asyncio.sleep(0.01)
        if not listening.is_set():
            await ending  # raises ServeError
            raise ServeError(f"the HTTP server on {host}:{port} stopped before listening")
        if started is not None:
            if isinstance(started, Listening):
                started.addresses = control["addresses"]
            started.set()
        await _first(ending, stop.wait())
    finally:
        if "stop" in control:
            loop, inner_stop = control["stop"]
            with contextlib.suppress(RuntimeError):  # its loop already closed
                loop.call_soon_threadsafe(inner_stop.set)
        await asyncio.shield(ending)


async def _serve_here(
    app: ASGIApp, host: str, port: int, control: dict[str, Any], listening: threading.Event
) -> None:
    """``serve`` in this thread's loop, telling ``serve_in_thread`` how to stop it and
    where it listens."""
    inner_stop = asyncio.Event()
    control["stop"] = (asyncio.get_running_loop(), inner_stop)
    started = Listening()
    serving = asyncio.ensure_future(serve(app, host, port, inner_stop, started))
    waiting = asyncio.ensure_future(started.wait())
    await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if started.is_set():
        control["addresses"] = started.addresses
        listening.set()
    await serving


async def _first(task: asyncio.Future[None], waiting: Awaitable[object]) -> None:
    """Wait until ``task`` ends or ``waiting`` completes, whichever is first."""
    other: asyncio.Future[Any] = asyncio.ensure_future(waiting)
    try:
        await asyncio.wait({task, other}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        other.cancel()


def _bound(server: uvicorn.Server) -> list[tuple[str, int]]:
    addresses: list[tuple[str, int]] = []
    for listener in getattr(server, "servers", []):
        for sock in listener.sockets or ():
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                name = sock.getsockname()
                addresses.append((str(name[0]), int(name[1])))
    return addresses
