"""Fetching over real HTTP from a server on 127.0.0.1: conditional GET, limits, failures
as values."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpcore
import httpx
import pytest

from aggregator import address_guard
from aggregator.address_guard import AddressPolicy
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.model import FetchOutcome, FetchStatus, Validators
from tests.feedserver import FeedServer, running_server

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"


#: The test servers listen on 127.0.0.1: allowed, as feeds.yaml would allow them.
LOCAL = AddressPolicy.of(["127.0.0.1"])


def fetch(url: str, validators: Validators | None = None, **limits: object):  # type: ignore[no-untyped-def]
    limits.setdefault("addresses", LOCAL)

    async def go():  # type: ignore[no-untyped-def]
        async with Fetcher(FetchLimits(**limits)) as fetcher:  # type: ignore[arg-type]
            return await fetcher.fetch(url, validators)

    return asyncio.run(go())


def test_a_good_feed_comes_back_with_its_validators(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", RSS)
    outcome = fetch(url, user_agent="aggregator-test/1")
    assert outcome.status is FetchStatus.OK and outcome.http_status == 200
    assert outcome.body == RSS
    assert outcome.content_type == "application/rss+xml; charset=utf-8"
    assert outcome.validators.etag and outcome.validators.last_modified
    seen = feed_server.requests_to("/feed.xml")[0].headers
    assert seen["user-agent"] == "aggregator-test/1"
    assert "application/rss+xml" in seen["accept"]


def test_conditional_get_sends_validators_and_takes_a_304(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", RSS)
    first = fetch(url)
    second = fetch(url, first.validators)
    assert second.status is FetchStatus.NOT_MODIFIED and second.http_status == 304
    assert second.body is None
    headers = feed_server.requests_to("/feed.xml")[1].headers
    assert headers["if-none-match"] == first.validators.etag
    assert headers["if-modified-since"] == first.validators.last_modified


def test_http_errors_are_values_not_exceptions(feed_server: FeedServer) -> None:
    url = feed_server.serve("/gone", b"", status=410)
    outcome = fetch(url)
    assert outcome.status is FetchStatus.ERROR and outcome.http_status == 410
    assert outcome.error == "HTTP 410 Gone"
    missing = fetch(feed_server.url("/nothing-here"))
    assert missing.error == "HTTP 404 Not Found"


def test_a_refused_connection_is_reported(feed_server: FeedServer) -> None:
    outcome = fetch("http://127.0.0.1:9/feed.xml", timeout=2)
    assert outcome.status is FetchStatus.ERROR
    assert outcome.error is not None and outcome.error.startswith("could not connect")


def test_a_trickling_server_is_cut_off_at_the_timeout(feed_server: FeedServer) -> None:
    url = feed_server.serve("/slow", RSS, trickle=0.2)
    outcome = fetch(url, timeout=1.0)
    assert outcome.status is FetchStatus.ERROR
    assert outcome.error == "timed out after 1s"


def test_the_body_limit_holds_after_decompression(feed_server: FeedServer) -> None:
    bomb = gzip.compress(b"<rss>" + b" " * 5_000_000)
    url = feed_server.serve("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    outcome = fetch(url, max_bytes=1_000_000)
    assert len(bomb) < 1_000_000
    assert outcome.status is FetchStatus.ERROR
    assert outcome.error == "body larger than 1000000 bytes; stopped reading"


def test_redirects_are_followed_and_loops_stopped(feed_server: FeedServer) -> None:
    feed_server.serve("/new.xml", RSS)
    moved = feed_server.serve("/old.xml", b"", status=301, headers={"Location": "/new.xml"})
    outcome = fetch(moved)
    assert outcome.status is FetchStatus.OK and outcome.final_url == feed_server.url("/new.xml")
    loop = feed_server.serve("/loop", b"", status=302, headers={"Location": "/loop"})
    looped = fetch(loop)
    assert looped.status is FetchStatus.ERROR and "redirect" in (looped.error or "")


def test_a_permanent_redirect_is_reported_and_a_temporary_one_is_not(
    feed_server: FeedServer,
) -> None:
    feed_server.serve("/new.xml", RSS)
    feed_server.serve("/temporary", b"", status=302, headers={"Location": "/new.xml"})
    feed_server.serve("/moved", b"", status=308, headers={"Location": "/temporary"})
    assert fetch(feed_server.url("/temporary")).permanent_redirect is None
    moved = fetch(feed_server.url("/moved"))
    # The permanent hop points at /temporary; what follows it is not permanent.
    assert moved.status is FetchStatus.OK
    assert moved.permanent_redirect == feed_server.url("/temporary")


def test_retry_after_is_read_from_429_and_503(feed_server: FeedServer) -> None:
    seconds = feed_server.serve("/busy", b"", status=429, headers={"Retry-After": "90"})
    outcome = fetch(seconds)
    assert outcome.error == "HTTP 429 Too Many Requests"
    assert outcome.retry_after == timedelta(seconds=90)
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    dated = feed_server.serve("/down", b"", status=503, headers={"Retry-After": later})
    wait = fetch(dated).retry_after
    assert wait is not None and timedelta(minutes=59) < wait <= timedelta(hours=1)
    ignored = feed_server.serve("/err", b"", status=500, headers={"Retry-After": "90"})
    assert fetch(ignored).retry_after is None


def test_gzip_and_both_kinds_of_deflate_are_decoded(feed_server: FeedServer) -> None:
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = raw.compress(RSS) + raw.flush()
    bodies = {
        "/gz": (gzip.compress(RSS), "gzip"),
        "/zlib": (zlib.compress(RSS), "deflate"),
        "/raw": (raw_deflate, "deflate"),
    }
    for path, (body, encoding) in bodies.items():
        url = feed_server.serve(path, body, headers={"Content-Encoding": encoding})
        outcome = fetch(url)
        assert outcome.status is FetchStatus.OK, (path, outcome.error)
        assert outcome.body == RSS
    assert feed_server.requests_to("/gz")[0].headers["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize("value", ["99999999999999", "9" * 5000, "²"])
def test_an_absurd_retry_after_is_a_long_wait_not_an_error(value: str) -> None:
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers=[(b"Retry-After", value.encode("latin-1"))])

    async def go() -> FetchOutcome:
        async with Fetcher(FetchLimits(), transport=httpx.MockTransport(busy)) as fetcher:
            return await fetcher.fetch("https://feed.example/rss")

    outcome = asyncio.run(go())
    assert outcome.status is FetchStatus.ERROR and outcome.http_status == 429
    if value.isascii():
        assert outcome.retry_after == timedelta(seconds=10**9)
    else:
        assert outcome.retry_after is None


# --- addresses only this machine can reach ---------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/feed.xml",
        "http://[::ffff:127.0.0.2]:{port}/feed.xml",
        "http://2130706434:{port}/feed.xml",
        "http://0x7f000002:{port}/feed.xml",
        "http://127.2:{port}/feed.xml",
        "http://[::1]:{port}/feed.xml",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1:{port}/feed.xml",
        "http://[::ffff:7f00:2]:{port}/feed.xml",
    ],
)
def test_a_redirect_to_a_private_address_is_refused(feed_server: FeedServer, target: str) -> None:
    # An allowed source that answers with a redirect into this machine's network: the
    # private address is not fetched (its server sees nothing), and the error says why.
    with running_server(host="127.0.0.2") as private:
        private.serve("/feed.xml", RSS)
        location = target.format(port=private.port)
        hop = feed_server.serve("/hop", b"", status=302, headers={"Location": location})
        outcome = fetch(feed_server.serve("/start", b"", status=301, headers={"Location": hop}))
        assert outcome.status is FetchStatus.ERROR
        assert "private address" in (outcome.error or ""), outcome.error
        assert "fetch.allow_private" in (outcome.error or "")
        assert private.requests == []
        # Allowed, the same redirect is followed to the document.
        if target.startswith("http://127.0.0.2"):
            allowed = fetch(hop, addresses=AddressPolicy.of(["127.0.0.0/8"]))
            assert allowed.status is FetchStatus.OK and allowed.body
            assert len(private.requests) == 1


def test_private_addresses_are_refused_unless_allowed(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", RSS)
    refused = fetch(url, addresses=AddressPolicy())
    assert refused.status is FetchStatus.ERROR and "private address (127.0.0.1)" in (
        refused.error or ""
    )
    assert feed_server.requests == []
    for allowed in (AddressPolicy.of(True), AddressPolicy.of(["127.0.0.1/32"])):
        assert fetch(url, addresses=allowed).status is FetchStatus.OK
    # A host name allowed by name, whatever it resolves to; or by the addresses allowed
    # among those it resolves to (localhost is 127.0.0.1 and often ::1 too).
    by_name = url.replace("127.0.0.1", "localhost")
    assert fetch(by_name, addresses=AddressPolicy.of(["localhost"])).status is FetchStatus.OK
    assert fetch(by_name, addresses=AddressPolicy.of(["127.0.0.1"])).status is FetchStatus.OK


class _RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        self.hosts.append(host)
        return object()

    async def sleep(self, seconds: float) -> None:
        return None


def test_a_name_is_reached_only_at_the_addresses_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolved(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address("::1"), ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(address_guard, "_resolve", resolved)
    inner = _RecordingBackend()
    allowed = address_guard.GuardedBackend(inner, AddressPolicy.of(["127.0.0.1"]))
    asyncio.run(allowed.connect_tcp("feeds.internal", 80))
    assert inner.hosts == ["127.0.0.1"]  # never ::1, which is not allowed
    refused = address_guard.GuardedBackend(inner, AddressPolicy())
    with pytest.raises(httpcore.ConnectError, match=r"private address \(::1\)"):
        asyncio.run(refused.connect_tcp("feeds.internal", 80))
    assert inner.hosts == ["127.0.0.1"]
