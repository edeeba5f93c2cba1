"""Fetching over real HTTP from a server on 127.0.0.1: conditional GET, limits, failures
as values."""

from __future__ import annotations

import asyncio
import gzip

from aggregator.fetch import Fetcher, FetchLimits
from aggregator.model import FetchStatus, Validators
from tests.feedserver import FeedServer

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"


def fetch(url: str, validators: Validators | None = None, **limits: object):  # type: ignore[no-untyped-def]
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
