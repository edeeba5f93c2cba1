"""The HTTP server over real sockets: the published files from memory with validators,
conditional requests, compression, HEAD, errors, path traversal, /healthz, /metrics,
and updates that never show a request half of one site and half of another."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import brotli
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import ASGIApp, Receive, Scope, Send

from aggregator import http_guard
from aggregator.config import parse_config
from aggregator.http_rules import choose_coding, site_key
from aggregator.metrics import Metrics
from aggregator.model import Article, StoredArticle
from aggregator.publish import render_site
from aggregator.server import (
    Listening,
    PublishedSite,
    ServeError,
    create_app,
    serve,
    serve_in_thread,
)

T1 = datetime(2026, 11, 25, 12, 0, 0, 250_000, tzinfo=UTC)
T2 = T1 + timedelta(hours=1)
HOUR = timedelta(hours=1)
CONFIG = """
site: {title: Server test, link: "https://news.example.org/", timezone: Asia/Seoul}
sources:
  - {id: a, url: "https://a.example/feed"}
channels:
  - {id: all, title: All}
  - {id: ai, title: AI, keywords: [AI]}
"""

#: Request path → (key in the site map, Content-Type, Cache-Control).
PATHS = {
    "/": ("index.html", "text/html; charset=utf-8", "max-age=60"),
    "/index.html": ("index.html", "text/html; charset=utf-8", "max-age=60"),
    "/feeds/all.xml": ("feeds/all.xml", "application/rss+xml; charset=utf-8", "public, max-age=60"),
    "/feeds/all.atom": (
        "feeds/all.atom",
        "application/atom+xml; charset=utf-8",
        "public, max-age=60",
    ),
    "/feeds/all.json": (
        "feeds/all.json",
        "application/feed+json; charset=utf-8",
        "public, max-age=60",
    ),
    "/feeds/ai.xml": ("feeds/ai.xml", "application/rss+xml; charset=utf-8", "public, max-age=60"),
    "/opml.xml": ("opml.xml", "text/x-opml; charset=utf-8", "public, max-age=60"),
}

#: Request targets, sent byte for byte, that must never reach anything: traversal in
#: every spelling, backslashes, absolute paths, NUL, and odd spellings of real keys.
HOSTILE_TARGETS = [
    b"/feeds/../feeds.yaml",
    b"/../feeds.yaml",
    b"/feeds/../../etc/passwd",
    b"/%2e%2e/feeds.yaml",
    b"/%2E%2E/%2E%2E/etc/passwd",
    b"/feeds/..%2ffeeds.yaml",
    b"/feeds/%2e%2e%2ffeeds.yaml",
    b"/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    b"/%252e%252e/feeds.yaml",
    b"/feeds/%252e%252e%252ffeeds.yaml",
    b"/%252e%252e%252fetc%252fpasswd",
    b"/feeds/x/../all.xml",
    b"/feeds/%2e%2e/feeds/all.xml",
    b"/./index.html",
    b"/feeds/./all.xml",
    b"/feeds\\..\\feeds.yaml",
    b"/feeds\\all.xml",
    b"/feeds%5call.xml",
    b"/feeds%5c..%5cfeeds.yaml",
    b"//etc/passwd",
    b"/etc/passwd",
    b"/%2fetc%2fpasswd",
    b"//feeds/all.xml",
    b"/feeds//all.xml",
    b"/C:/Windows/win.ini",
    b"/feeds/all.xml%00",
    b"/feeds/all.xml%00.html",
    b"/index.html%00",
    b"/%00",
    b"/feeds/all.xml/",
    b"/feeds/all.xml/..",
    b"/feeds.yaml",
    b"/aggregator.db",
    b"/.aggregator-posts.json",
]


# --- the site's bytes ------------------------------------------------------------------


def stored(seq: int, title: str, day: int) -> StoredArticle:
    words = " ".join(f"{title} paragraph {i} about the AI news of the day." for i in range(12))
    article = Article(
        title=title,
        categories=("World",),
        excerpt=f"{title}. {words[:200]}",
        feature_text=f"## Wire\n{title}",
        image=None,
        body=f"<p>{words}</p>",
        date=datetime(2026, 11, day, 3, tzinfo=UTC),
        source="Wire",
        canonical_url=f"https://a.example/{seq}",
        id=f"{seq:016x}",
    )
    return StoredArticle("a", f"g{seq}", article, T1, seq)


def site_files(tmp_path: Path, count: int = 6) -> dict[str, bytes]:
    settings = parse_config(CONFIG, base_dir=tmp_path)
    articles = [stored(i, f"AI story {i}", 1 + i) for i in range(1, count + 1)]
    return render_site(settings, articles, T1)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, bytes]:
    built = site_files(tmp_path)
    assert all(len(built[key]) > 1024 for key, _, _ in PATHS.values() if key != "opml.xml")
    return built


# --- a real server on 127.0.0.1 --------------------------------------------------------


class ServerThread:
    """``serve`` in its own event loop on a background thread, on a free port."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.port = 0
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-http", daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        assert self._ready.wait(10), "server did not start"
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "server did not stop"
        if self.error is not None:
            raise self.error

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:
            self.error = error
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        started = Listening()
        serving = asyncio.create_task(serve(self.app, "127.0.0.1", 0, self.stop, started))
        listening = asyncio.create_task(started.wait())
        await asyncio.wait({serving, listening}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if started.is_set():
            self.port = started.port
            self._ready.set()
        await serving


class Running:
    def __init__(self, site: PublishedSite, metrics: Metrics, server: ServerThread) -> None:
        self.site, self.metrics, self.server = site, metrics, server
        self.health: dict[str, object] = {"sources": 1, "failing": []}

    def client(self, accept_encoding: str | None = None) -> httpx.Client:
        """An HTTP client that sends exactly the Accept-Encoding given (none for None)."""
        client = httpx.Client(base_url=self.server.base, timeout=10)
        del client.headers["accept-encoding"]
        if accept_encoding is not None:
            client.headers["accept-encoding"] = accept_encoding
        return client


class Swappable:
    """An ASGI app that forwards to whichever app a test puts in, so one server (started
    once per module) can serve each test its own fresh site."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[tuple[ServerThread, Swappable]]:
    swappable = Swappable()
    with ServerThread(swappable) as server:
        yield server, swappable


@pytest.fixture
def running(
    files: dict[str, bytes], shared_server: tuple[ServerThread, Swappable]
) -> Iterator[Running]:
    server, swappable = shared_server
    site = PublishedSite()
    site.update(files, T1)
    metrics = Metrics()
    current = Running(site, metrics, server)
    swappable.app = create_app(site, lambda: current.health, metrics)
    yield current
    swappable.app = None


def raw_request(
    port: int, target: bytes, method: bytes = b"GET", headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request written byte for byte on a socket, so nothing normalizes the target."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()).encode("latin-1")
    request = (
        method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    ) + extra
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request + b"\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), fields, body


def tag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def decode(body: bytes, coding: str | None) -> bytes:
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "br":
        return brotli.decompress(body)
    assert coding is None, coding
    return body


def get_raw(client: httpx.Client, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """A GET whose body is returned as sent on the wire (not decompressed by httpx)."""
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


# --- serving the published files -------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_each_published_path_has_its_headers_and_bytes(
    running: Running, files: dict[str, bytes], path: str
) -> None:
    key, content_type, cache_control = PATHS[path]
    with running.client() as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.content == files[key]
    headers = response.headers
    assert headers["content-type"] == content_type
    assert headers["cache-control"] == cache_control
    feed = path.endswith((".xml", ".atom")) and path.startswith("/feeds/")
    assert headers["vary"] == ("Accept-Encoding, Accept" if feed else "Accept-Encoding")
    assert headers["content-length"] == str(len(files[key]))
    assert headers["etag"] == f'"{tag_of(files[key])}"'
    assert "content-encoding" not in headers  # no Accept-Encoding: identity
    assert parsedate_to_datetime(headers["last-modified"]) == T1.replace(microsecond=0)
    assert headers["last-modified"] == "Wed, 25 Nov 2026 12:00:00 GMT"


def test_a_query_string_does_not_change_what_is_served(
    running: Running, files: dict[str, bytes]
) -> None:
    with running.client() as client:
        response = client.get("/feeds/all.xml?utm_source=x")
    assert response.status_code == 200
    assert response.content == files["feeds/all.xml"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("accept", [None, "gzip", "br"])
def test_head_has_the_get_headers_and_no_body(
    running: Running, path: str, accept: str | None
) -> None:
    with running.client(accept) as client:
        get = client.get(path)
        head = client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    ignore = {"date"}
    assert {k: v for k, v in head.headers.items() if k not in ignore} == {
        k: v for k, v in get.headers.items() if k not in ignore
    }
    # And on the wire, too: the socket closes after the headers.
    key = PATHS[path][0]
    status, fields, body = raw_request(running.server.port, path.encode(), b"HEAD")
    assert (status, body) == (200, b"")
    assert fields["etag"] == f'"{tag_of(running.site.get(key).body)}"'  # type: ignore[union-attr]


# --- conditional requests --------------------------------------------------------------


@pytest.mark.parametrize(
    "if_none_match",
    [
        "{etag}",
        "W/{etag}",
        '"nope", {etag}',
        '"nope",{etag} , "other"',
        "*",
    ],
)
def test_if_none_match_answers_304_without_a_body(
    running: Running, files: dict[str, bytes], if_none_match: str
) -> None:
    etag = f'"{tag_of(files["feeds/all.xml"])}"'
    with running.client() as client:
        response = client.get(
            "/feeds/all.xml", headers={"if-none-match": if_none_match.format(etag=etag)}
        )
        head = client.head("/feeds/all.xml", headers={"if-none-match": etag})
    for answer in (response, head):
        assert answer.status_code == 304
        assert answer.content == b""
        assert answer.headers["etag"] == etag
        assert answer.headers["cache-control"] == "public, max-age=60"
        assert answer.headers["vary"] == "Accept-Encoding, Accept"
        assert "last-modified" in answer.headers
        assert "content-length" not in answer.headers or answer.headers["content-length"] == "0"


def test_if_none_match_on_several_lines(running: Running, files: dict[str, bytes]) -> None:
    etag = f'"{tag_of(files["feeds/all.json"])}"'
    with running.client("identity;q=1, gzip;q=0") as client:
        response = client.get(
            "/feeds/all.json", headers=[("if-none-match", '"stale"'), ("if-none-match", etag)]
        )
    assert response.status_code == 304


def test_if_none_match_that_differs_gets_the_body(
    running: Running, files: dict[str, bytes]
) -> None:
    with running.client() as client:
        response = client.get("/feeds/all.xml", headers={"if-none-match": '"stale", W/"older"'})
    assert response.status_code == 200
    assert response.content == files["feeds/all.xml"]


def test_the_etag_of_an_encoding_validates_only_that_encoding(
    running: Running, files: dict[str, bytes]
) -> None:
    plain = f'"{tag_of(files["feeds/all.xml"])}"'
    with running.client("gzip") as gz:
        first = gz.get("/feeds/all.xml")
        assert first.headers["content-encoding"] == "gzip"
        assert first.headers["etag"] == plain[:-1] + '-gz"'
        again = gz.get("/feeds/all.xml", headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["etag"] == first.headers["etag"]
        # The identity validator does not vouch for the gzip bytes.
        other = gz.get("/feeds/all.xml", headers={"if-none-match": plain})
        assert other.status_code == 200
    with running.client() as identity:
        response = identity.get("/feeds/all.xml", headers={"if-none-match": first.headers["etag"]})
        assert response.status_code == 200
        assert response.content == files["feeds/all.xml"]


def test_if_modified_since(running: Running) -> None:
    published = format_datetime(T1.replace(microsecond=0), usegmt=True)
    later = format_datetime(T1 + timedelta(days=1), usegmt=True)
    earlier = format_datetime(T1 - timedelta(seconds=1), usegmt=True)
    with running.client() as client:
        for since, status in [
            (published, 304),
            (later, 304),
            (earlier, 200),
            ("not a date", 200),
            ("", 200),
        ]:
            response = client.get("/feeds/all.atom", headers={"if-modified-since": since})
            assert response.status_code == status, since
            assert (response.content == b"") == (status == 304)
        # Ignored when If-None-Match is present, whatever it says.
        response = client.get(
            "/feeds/all.atom", headers={"if-modified-since": later, "if-none-match": '"stale"'}
        )
        assert response.status_code == 200


def test_last_modified_stays_with_unchanged_bytes_and_moves_with_changed_ones(
    running: Running, tmp_path: Path, files: dict[str, bytes]
) -> None:
    changed = dict(files)
    changed["feeds/ai.xml"] = files["feeds/ai.xml"].replace(b"AI story 1", b"AI story one")
    changed.pop("feeds/ai.json")
    running.site.update(changed, T2)
    with running.client() as client:
        same = client.get("/feeds/all.xml")
        moved = client.get("/feeds/ai.xml")
        gone = client.get("/feeds/ai.json")
        old_validator = client.get(
            "/feeds/ai.xml", headers={"if-modified-since": format_datetime(T1, usegmt=True)}
        )
    assert parsedate_to_datetime(same.headers["last-modified"]) == T1.replace(microsecond=0)
    assert same.headers["etag"] == f'"{tag_of(files["feeds/all.xml"])}"'
    assert parsedate_to_datetime(moved.headers["last-modified"]) == T2.replace(microsecond=0)
    assert moved.content == changed["feeds/ai.xml"]
    assert moved.headers["etag"] == f'"{tag_of(changed["feeds/ai.xml"])}"'
    assert gone.status_code == 404
    assert old_validator.status_code == 200
    # Back to the first bytes: new bytes for this site, so stamped with the new time.
    running.site.update(files, T2 + timedelta(minutes=5))
    with running.client() as client:
        back = client.get("/feeds/ai.xml")
    assert back.headers["etag"] == f'"{tag_of(files["feeds/ai.xml"])}"'
    moved_again = (T2 + timedelta(minutes=5)).replace(microsecond=0)
    assert parsedate_to_datetime(back.headers["last-modified"]) == moved_again


# --- compression -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br", "br"),
        ("gzip, br", "br"),
        ("BR;Q=1, GZIP", "br"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0.0, gzip;q=0.000", None),
        ("gzip;q=0", None),
        ("*", "br"),
        ("*;q=0", None),
        ("*;q=0.5, br;q=0", "gzip"),
        ("deflate", None),
        ("zstd, deflate", None),
        ("identity;q=1, gzip;q=0.5", None),
        ("identity;q=0.5, gzip;q=0.5", "gzip"),
        ("gzip;q=nonsense, br;q=0.1", "br"),
        (" , ;q=1, gzip ", "gzip"),
    ],
)
def test_choose_coding(accept: str | None, expected: str | None) -> None:
    assert choose_coding(accept, {"br": 1, "gzip": 1}) == expected


def test_choose_coding_only_offers_what_is_there() -> None:
    assert choose_coding("br, gzip", {"gzip": 1}) == "gzip"
    assert choose_coding("br, gzip", {}) is None


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br", "br"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0, br;q=0", None),
        ("deflate", None),
        (None, None),
    ],
)
@pytest.mark.parametrize("path", ["/", "/feeds/all.xml", "/feeds/all.atom", "/feeds/all.json"])
def test_compressed_bodies_decompress_to_the_original(
    running: Running, files: dict[str, bytes], path: str, accept: str | None, coding: str | None
) -> None:
    key = PATHS[path][0]
    with running.client(accept) as client:
        response, wire = get_raw(client, path)
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert response.headers["vary"].startswith("Accept-Encoding")
    assert response.headers["content-length"] == str(len(wire))
    assert decode(wire, coding) == files[key]
    suffix = {"gzip": "-gz", "br": "-br", None: ""}[coding]
    assert response.headers["etag"] == f'"{tag_of(files[key])}{suffix}"'
    if coding:
        assert len(wire) < len(files[key])


def test_small_bodies_are_sent_as_they_are(tmp_path: Path) -> None:
    site = PublishedSite()
    small = b'{"version": "https://jsonfeed.org/version/1.1", "items": []}'
    site.update({"feeds/tiny.json": small, "feeds/big.json": small * 40}, T1)
    tiny, big = site.get("feeds/tiny.json"), site.get("feeds/big.json")
    assert tiny is not None and big is not None
    assert dict(tiny.encodings) == {}
    assert set(big.encodings) == {"br", "gzip"}
    assert gzip.decompress(big.encodings["gzip"].body) == small * 40
    assert brotli.decompress(big.encodings["br"].body) == small * 40


# --- what is not served ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/nope.xml",
        "/feeds/nope.atom",
        "/feeds/nope.json",
        "/feeds/all.rss",
        "/feeds/all",
        "/feeds/",
        "/feeds",
        "/index.htm",
        "/INDEX.HTML",
        "/opml",
        "/healthz/",
        "/favicon.ico",
    ],
)
def test_unknown_paths_and_channels_are_404_plain_text(running: Running, path: str) -> None:
    with running.client() as client:
        response = client.get(path)
        head = client.head(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert head.status_code == 404


@pytest.mark.parametrize("target", HOSTILE_TARGETS, ids=lambda t: t.decode("latin-1"))
def test_traversal_and_odd_spellings_are_404(
    running: Running, tmp_path: Path, target: bytes
) -> None:
    # A real file beside the config, which a file server rooted nearby could leak.
    (tmp_path / "feeds.yaml").write_text("secret: true\n")
    status, fields, body = raw_request(running.server.port, target)
    assert status == 404, target
    assert fields["content-type"].startswith("text/plain")
    assert b"secret" not in body
    assert b"<rss" not in body and b"<html" not in body.lower()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "index.html"),
        ("/index.html", "index.html"),
        ("/feeds/all.xml", "feeds/all.xml"),
        ("/feeds/../feeds.yaml", None),
        ("/feeds/%2e%2e/feeds.yaml", "feeds/%2e%2e/feeds.yaml"),  # not decoded twice
        ("/feeds\\all.xml", None),
        ("/feeds/all.xml\x00", None),
        ("//etc/passwd", None),
        ("/feeds//all.xml", None),
        ("/./index.html", None),
        ("feeds/all.xml", None),
        ("", None),
    ],
)
def test_site_key(path: str, expected: str | None) -> None:
    assert site_key(path) == expected


@pytest.mark.parametrize("method", [b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS"])
@pytest.mark.parametrize("path", [b"/", b"/feeds/all.xml", b"/opml.xml"])
def test_other_methods_are_405(running: Running, method: bytes, path: bytes) -> None:
    status, fields, _ = raw_request(running.server.port, path, method)
    assert status == 405
    assert fields["allow"] == "GET, HEAD"


def test_post_elsewhere(running: Running) -> None:
    with running.client() as client:
        assert client.post("/healthz").status_code == 405
        assert client.post("/metrics").status_code == 405
        assert client.post("/feeds/nope.xml").status_code == 404
        assert client.post("/feeds/../feeds.yaml").status_code == 404


def test_an_empty_site_serves_nothing_but_health(files: dict[str, bytes]) -> None:
    site = PublishedSite()
    assert site.published_at is None
    with ServerThread(create_app(site, dict, Metrics())) as server:
        with httpx.Client(base_url=server.base) as client:
            assert client.get("/").status_code == 404
            health = client.get("/healthz")
        site.update(files, T1)
        with httpx.Client(base_url=server.base) as client:
            assert client.get("/").status_code == 200
    assert health.json() == {"status": "ok", "published_at": None}


# --- /healthz and /metrics -------------------------------------------------------------


def test_healthz(running: Running) -> None:
    with running.client() as client:
        ok = client.get("/healthz")
        running.health = {"status": "degraded", "failing": ["a"]}
        degraded = client.get("/healthz")
        head = client.head("/healthz")
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "application/json"
    assert ok.headers["cache-control"] == "no-store"
    assert ok.json() == {
        "status": "ok",
        "published_at": "2026-11-25T12:00:00+00:00",
        "sources": 1,
        "failing": [],
    }
    assert degraded.status_code == 200
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["failing"] == ["a"]
    assert head.status_code == 200 and head.content == b""


def test_healthz_when_the_check_itself_fails(files: dict[str, bytes]) -> None:
    def broken() -> Mapping[str, object]:
        raise RuntimeError("store is gone")

    site = PublishedSite()
    site.update(files, T1)
    server = ServerThread(create_app(site, broken, Metrics()))
    with server, httpx.Client(base_url=server.base) as client:
        response = client.get("/healthz")
        feed = client.get("/feeds/all.xml")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "error": "RuntimeError: store is gone"}
    assert feed.status_code == 200


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_over_http(running: Running) -> None:
    metrics = running.metrics
    metrics.track_sources(["a", "b"])
    metrics.record_fetch("a", "ok", inserted=5, folded=2)
    metrics.record_fetch("a", "not_modified", inserted=0, folded=0)
    metrics.record_fetch("b", "error", inserted=0, folded=0)
    metrics.record_fetch("b", "error", inserted=0, folded=0)
    metrics.record_success("a", datetime(2026, 11, 25, 12, tzinfo=UTC))
    metrics.observe_publish(0.2, stories=42)
    with running.client() as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    seen = samples(response.text)
    assert seen[("fetches_total", (("source", "a"), ("status", "ok")))] == 1
    assert seen[("fetches_total", (("source", "a"), ("status", "not_modified")))] == 1
    assert seen[("fetches_total", (("source", "b"), ("status", "error")))] == 2
    assert seen[("fetch_errors_total", (("source", "a"),))] == 0
    assert seen[("fetch_errors_total", (("source", "b"),))] == 2
    assert seen[("articles_stored_total", (("source", "a"),))] == 5
    assert seen[("articles_stored_total", (("source", "b"),))] == 0
    assert seen[("articles_folded_total", (("source", "a"),))] == 2
    assert seen[("source_last_success_timestamp_seconds", (("source", "a"),))] == (
        datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp()
    )
    assert seen[("publish_seconds_count", ())] == 1
    assert seen[("publish_seconds_sum", ())] == pytest.approx(0.2)
    assert seen[("publish_seconds_bucket", (("le", "0.25"),))] == 1
    assert seen[("publish_seconds_bucket", (("le", "0.1"),))] == 0
    assert seen[("stories_published", ())] == 42


def test_metrics_registries_are_private() -> None:
    first, second = Metrics(), Metrics()  # no "Duplicated timeseries" between them
    first.record_fetch("a", "ok", 1, 0)
    assert samples(first.render().decode())[("fetches_total", (("source", "a"), ("status", "ok")))]
    assert ("fetches_total", (("source", "a"), ("status", "ok"))) not in samples(
        second.render().decode()
    )
    naive = datetime(2026, 1, 1, 0, 0)
    second.record_success("x", naive)
    value = samples(second.render().decode())[
        ("source_last_success_timestamp_seconds", (("source", "x"),))
    ]
    assert value == naive.replace(tzinfo=UTC).timestamp()


# --- updates under load ----------------------------------------------------------------


def test_requests_during_updates_never_see_a_mix(running: Running, tmp_path: Path) -> None:
    """Hammer from threads while the site flips between two versions: every body matches
    its own ETag and Content-Encoding, and is one version's file, whole."""
    version_a = site_files(tmp_path / "a", count=6)
    version_b = site_files(tmp_path / "b", count=9)
    assert all(version_a[key] != version_b[key] for key in ("feeds/all.xml", "index.html"))
    paths = list(PATHS)
    encodings = [None, "gzip", "br"]
    stop = threading.Event()
    failures: list[str] = []
    seen: set[str] = set()

    def hammer(seed: int) -> int:
        rng = random.Random(seed)
        done = 0
        clients = {accept: running.client(accept) for accept in encodings}
        try:
            while not stop.is_set() or done < 20:
                accept = rng.choice(encodings)
                path = rng.choice(paths)
                response, wire = get_raw(clients[accept], path)
                body = decode(wire, response.headers.get("content-encoding"))
                etag = response.headers["etag"].strip('"')
                tag, _, suffix = etag.partition("-")
                key = PATHS[path][0]
                if tag != tag_of(body) or body not in (version_a[key], version_b[key]):
                    failures.append(f"{path} {accept}: body does not match {etag}")
                seen.add("a" if body == version_a[key] else "b")
                if suffix != {"gzip": "gz", "br": "br", None: ""}[accept] and len(body) > 1024:
                    failures.append(f"{path} {accept}: etag {etag} for the wrong encoding")
                if response.headers["content-length"] != str(len(wire)):
                    failures.append(f"{path} {accept}: content-length mismatch")
                done += 1
        finally:
            for client in clients.values():
                client.close()
        return done

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(hammer, seed) for seed in range(6)]
        for round_ in range(40):
            version = version_a if round_ % 2 else version_b
            running.site.update(version, T1 + timedelta(seconds=round_))
            # Paced, so requests land under both versions even on a loaded machine (40
            # updates in a row could all happen between two requests).
            time.sleep(0.02)
        stop.set()
        counts = [future.result() for future in futures]
    assert not failures, failures[:5]
    assert sum(counts) >= 120
    assert seen == {"a", "b"}  # the requests really did run across the updates


def test_an_unchanged_update_keeps_every_prepared_file(files: dict[str, bytes]) -> None:
    site = PublishedSite()
    site.update(files, T1)
    before = {key: site.get(key) for key in files}
    site.update(dict(files), T2)
    assert all(site.get(key) is before[key] for key in files)
    assert site.published_at == T2.replace(microsecond=0)
    assert sorted(site.paths()) == sorted(files)


def test_naive_times_are_taken_as_utc(files: dict[str, bytes]) -> None:
    site = PublishedSite()
    site.update(files, datetime(2026, 1, 2, 3, 4, 5, 600))
    published = site.get("opml.xml")
    assert published is not None
    assert published.last_modified_http == "Fri, 02 Jan 2026 03:04:05 GMT"


# --- starting and stopping -------------------------------------------------------------


def test_serve_stops_when_asked_and_frees_the_port(files: dict[str, bytes]) -> None:
    site = PublishedSite()
    site.update(files, T1)
    with ServerThread(create_app(site, dict, Metrics())) as server:
        port = server.port
        with httpx.Client(base_url=server.base) as client:
            assert client.get("/").status_code == 200  # a kept-alive connection, too
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_serve_raises_when_the_port_is_taken(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def attempt() -> None:
            await serve(
                create_app(PublishedSite(), dict, Metrics()), "127.0.0.1", port, asyncio.Event()
            )

        with pytest.raises(ServeError, match=f"127.0.0.1:{port}"):
            asyncio.run(attempt())


def test_a_server_in_its_own_thread_answers_while_the_callers_loop_is_blocked(
    files: dict[str, bytes],
) -> None:
    # Under `run` the service's loop is busy for seconds at a time during a pass; the
    # server's own loop answers meanwhile. Here the caller's loop is blocked until the
    # answer arrives: on that loop the request could never be served.
    site = PublishedSite()
    site.update(files, T1)
    answered = threading.Event()
    statuses: list[int] = []

    def ask(port: int) -> None:
        with httpx.Client(timeout=30) as client:
            statuses.append(client.get(f"http://127.0.0.1:{port}/opml.xml").status_code)
        answered.set()

    async def main() -> None:
        stop, started = asyncio.Event(), Listening()
        serving = asyncio.create_task(
            serve_in_thread(create_app(site, dict, Metrics()), "127.0.0.1", 0, stop, started)
        )
        await started.wait()
        threading.Thread(target=ask, args=(started.port,)).start()
        blocked_until_answered = answered.wait(30)  # blocks this loop
        stop.set()
        await serving
        assert blocked_until_answered

    asyncio.run(main())
    assert statuses == [200]


def test_a_server_in_its_own_thread_raises_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = create_app(PublishedSite(), dict, Metrics())
        with pytest.raises(ServeError, match=f"127.0.0.1:{port}"):
            asyncio.run(serve_in_thread(app, "127.0.0.1", port, asyncio.Event()))


def test_serve_is_cancellable(files: dict[str, bytes]) -> None:
    async def main() -> int:
        started = Listening()
        task = asyncio.create_task(
            serve(
                create_app(PublishedSite(), dict, Metrics()),
                "127.0.0.1",
                0,
                asyncio.Event(),
                started,
            )
        )
        await started.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return started.port

    port = asyncio.run(main())
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_serve_leaves_the_signals_to_its_caller(files: dict[str, bytes]) -> None:
    """The caller's SIGTERM handler stays in place and stops the server gracefully."""
    site = PublishedSite()
    site.update(files, T1)
    before = signal.getsignal(signal.SIGINT)

    async def main() -> int:
        ours = signal.getsignal(signal.SIGINT)  # asyncio.run's own
        stop, started = asyncio.Event(), Listening()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        try:
            task = asyncio.create_task(
                serve(create_app(site, dict, Metrics()), "127.0.0.1", 0, stop, started)
            )
            await started.wait()
            assert signal.getsignal(signal.SIGINT) is ours
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{started.port}") as client:
                assert (await client.get("/opml.xml")).status_code == 200
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(task, timeout=10)
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
        return started.port

    port = asyncio.run(main())
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


# --- what one connection may do -------------------------------------------------------------


def test_a_client_that_never_finishes_its_headers_is_cut_off(
    files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A byte every 0.1 s used to hold the connection for ever; a few hundred such clients
    # used every file descriptor. Others are served meanwhile.
    monkeypatch.setattr(http_guard, "HEADER_SECONDS", 0.5)
    site = PublishedSite()
    site.update(files, T1)
    with ServerThread(create_app(site, dict, Metrics())) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            closed = False
            for _ in range(100):  # 10 s at most
                try:
                    slow.sendall(b"X")
                except OSError:
                    closed = True
                    break
                slow.settimeout(0.1)
                try:
                    if slow.recv(1024) == b"":
                        closed = True
                        break
                except TimeoutError:
                    continue
                except ConnectionResetError:  # closed with our bytes unread: a reset
                    closed = True
                    break
            assert closed
        with httpx.Client(base_url=server.base) as client:
            assert client.get("/opml.xml").status_code == 200


def test_a_request_with_two_framings_is_refused_and_its_connection_closed(
    files: dict[str, bytes],
) -> None:
    # Content-Length and Transfer-Encoding together: a proxy reading the other one would
    # pass the pipelined request after it as a second, smuggled one.
    site = PublishedSite()
    site.update(files, T1)
    with ServerThread(create_app(site, dict, Metrics())) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
            raw.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                b"GET /opml.xml HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            answer = b""
            while chunk := raw.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert answer.count(b"HTTP/1.1 ") == 1  # the pipelined request was not served


def test_a_pipelined_request_slower_than_the_header_deadline_is_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The deadline is for headers only: a request already read may take its time.
    monkeypatch.setattr(http_guard, "HEADER_SECONDS", 0.5)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/slow":
            await asyncio.sleep(1.5)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    with (
        ServerThread(app) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw,
    ):
        raw.sendall(
            b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 200 ") == 2 and b"\r\n/slow\r\n" in answer


def test_a_restart_keeps_last_modified_for_bytes_already_on_disk(
    tmp_path: Path, shared_server: tuple[ServerThread, Swappable]
) -> None:
    # Last-Modified was the time the process started: after each restart an old
    # If-Modified-Since got the same bytes again with 200.
    written = datetime(2026, 11, 20, 9, 30, 7, tzinfo=UTC)
    feed = tmp_path / "feeds" / "all.xml"
    feed.parent.mkdir()
    feed.write_bytes(b"<rss>same</rss>")
    os.utime(feed, (written.timestamp(), written.timestamp()))
    site = PublishedSite(tmp_path)  # a new process: nothing held yet
    site.update({"feeds/all.xml": b"<rss>same</rss>", "feeds/new.xml": b"<rss>new</rss>"}, T2)
    same, new = site.get("feeds/all.xml"), site.get("feeds/new.xml")
    assert same is not None and new is not None
    assert same.last_modified == written and new.last_modified == T2.replace(microsecond=0)
    site.update({"feeds/all.xml": b"<rss>changed</rss>"}, T2 + HOUR)
    changed = site.get("feeds/all.xml")
    assert changed is not None and changed.last_modified == T2.replace(microsecond=0) + HOUR

    server, swappable = shared_server
    site.update({"feeds/all.xml": b"<rss>same</rss>"}, T2)  # what the next start serves
    restarted = PublishedSite(tmp_path)
    restarted.update({"feeds/all.xml": b"<rss>same</rss>"}, T2 + timedelta(days=1))
    swappable.app = create_app(restarted, dict, Metrics())
    try:
        answer = httpx.get(
            f"{server.base}/feeds/all.xml",
            headers={"If-Modified-Since": format_datetime(written, usegmt=True)},
        )
    finally:
        swappable.app = None
    assert answer.status_code == 304
