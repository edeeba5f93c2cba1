"""WebSub: feeds declare the hub, and changed feeds are announced to a real hub stub on
127.0.0.1 with one form-encoded ``hub.mode=publish`` POST per topic."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import httpx
import pytest
from lxml import etree

from aggregator.config import parse_config
from aggregator.errors import ConfigError
from aggregator.publish import channel_meta, render_site
from aggregator.syndication import render_atom, render_json_feed, render_rss
from aggregator.websub import announce, ping, topics
from tests.cli import run_cli
from tests.feedserver import running_server
from tests.test_syndication import ITEMS, META, NOW

HUB = "https://hub.example.org/"
ATOM = "{http://www.w3.org/2005/Atom}"


class HubStub:
    """A hub on 127.0.0.1 that records each request and answers ``status`` with ``body``
    (after ``delay`` seconds)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.status = 204
        self.body = b""
        self.delay = 0.0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                hub.requests.append(("POST", self.path, headers, body))
                time.sleep(hub.delay)
                try:
                    self.send_response(hub.status)
                    self.send_header("Content-Length", str(len(hub.body)))
                    self.end_headers()
                    self.wfile.write(hub.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/hub"

    def forms(self) -> list[dict[str, list[str]]]:
        return [parse_qs(body.decode("ascii"), strict_parsing=True) for *_, body in self.requests]

    def __enter__(self) -> HubStub:
        serve = self._httpd.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def hub() -> Iterator[HubStub]:
    with HubStub() as stub:
        yield stub


def run_ping(hub_url: str, feed_urls: list[str], timeout: float = 5.0) -> list[str]:
    async def go() -> list[str]:
        async with httpx.AsyncClient(timeout=timeout) as client:
            return await ping(hub_url, feed_urls, client)

    return asyncio.run(go())


TOPICS = ["https://news.example.org/feeds/all.xml", "https://news.example.org/feeds/ai.atom"]


# --- ping ------------------------------------------------------------------------------------


def test_ping_posts_one_publish_form_per_topic(hub: HubStub) -> None:
    assert run_ping(hub.url, TOPICS) == []

    assert [(method, path) for method, path, _, _ in hub.requests] == [("POST", "/hub")] * 2
    for _, _, headers, _ in hub.requests:
        assert headers["content-type"] == "application/x-www-form-urlencoded"
    forms = sorted(hub.forms(), key=lambda form: form["hub.url"])
    assert forms == [
        {"hub.mode": ["publish"], "hub.url": ["https://news.example.org/feeds/ai.atom"]},
        {"hub.mode": ["publish"], "hub.url": ["https://news.example.org/feeds/all.xml"]},
    ]
    # The topic is percent-encoded in the body, as a form value must be.
    bodies = sorted(body for *_, body in hub.requests)
    assert bodies[0] == b"hub.mode=publish&hub.url=https%3A%2F%2Fnews.example.org%2Ffeeds%2Fai.atom"


@pytest.mark.parametrize("status", [200, 202, 204])
def test_every_success_status_is_no_problem(hub: HubStub, status: int) -> None:
    hub.status = status
    assert run_ping(hub.url, TOPICS[:1]) == []


def test_a_refusing_hub_is_a_problem_per_topic_quoting_its_answer(hub: HubStub) -> None:
    hub.status, hub.body = 400, b"hub.url is not\n a known topic" + b" x" * 500
    problems = run_ping(hub.url, TOPICS)

    assert len(problems) == 2
    for problem, topic in zip(problems, TOPICS, strict=True):
        assert problem.startswith(f"WebSub hub {hub.url}: announcing {topic} was refused: ")
        assert "HTTP 400 Bad Request: hub.url is not a known topic" in problem
        assert len(problem) < 400  # the answer is quoted, not dumped


def test_an_unreachable_hub_is_a_problem_not_an_exception() -> None:
    with HubStub() as stub:
        url = stub.url
    problems = run_ping(url, TOPICS)
    assert len(problems) == 2
    assert all("failed: ConnectError" in problem for problem in problems)


def test_a_hub_that_does_not_answer_in_time_is_a_problem(hub: HubStub) -> None:
    hub.delay = 2.0
    started = time.monotonic()
    problems = run_ping(hub.url, TOPICS[:1], timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert len(problems) == 1 and "ReadTimeout" in problems[0]


@pytest.mark.parametrize("url", ["not a url", "ftp://hub.example.org/", ""])
def test_an_unusable_hub_url_is_a_problem(url: str) -> None:
    problems = run_ping(url, TOPICS[:1])
    assert len(problems) == 1 and problems[0].startswith(f"WebSub hub {url}: announcing")


def test_no_topics_no_requests(hub: HubStub) -> None:
    assert run_ping(hub.url, []) == []
    assert hub.requests == []


# --- which feeds are topics, and announcing after a publish ----------------------------------

CONFIG = """
site: {{title: News, link: "https://news.example.org/news"}}
output: {{dir: public, posts_dir: null}}
{publish}
sources:
  - {{id: wire, url: "https://wire.example.com/feed"}}
channels:
  - {{id: all, title: All}}
  - {{id: ai, title: AI, keywords: [AI]}}
"""


def settings(tmp_path: Path, hub: str | None):  # type: ignore[no-untyped-def]
    publish = f'publish: {{websub_hub: "{hub}"}}' if hub else ""
    return parse_config(CONFIG.format(publish=publish), base_dir=tmp_path)


def test_topics_are_the_absolute_urls_of_the_changed_feeds(tmp_path: Path) -> None:
    config = settings(tmp_path, HUB)
    changed = [
        "feeds/all.xml",
        "index.html",
        "feed.xsl",
        "feeds/ai.json",
        "opml.xml",
        "feeds/gone.xml",  # not a configured channel
        "feeds/all.atom",
        "feeds/all.txt",
    ]
    assert topics(config, changed) == [
        "https://news.example.org/news/feeds/all.xml",
        "https://news.example.org/news/feeds/ai.json",
        "https://news.example.org/news/feeds/all.atom",
    ]


def test_announce_pings_the_configured_hub_with_the_changed_feeds(
    tmp_path: Path, hub: HubStub
) -> None:
    config = settings(tmp_path, hub.url)
    problems = asyncio.run(announce(config, ["index.html", "feeds/ai.xml", "feeds/ai.atom"]))

    assert problems == []
    assert sorted(form["hub.url"][0] for form in hub.forms()) == [
        "https://news.example.org/news/feeds/ai.atom",
        "https://news.example.org/news/feeds/ai.xml",
    ]
    agent = hub.requests[0][2]["user-agent"]
    assert agent == config.fetch.user_agent


def test_announce_does_nothing_without_a_hub_or_changed_feeds(tmp_path: Path, hub: HubStub) -> None:
    assert asyncio.run(announce(settings(tmp_path, None), ["feeds/all.xml"])) == []
    assert asyncio.run(announce(settings(tmp_path, hub.url), ["index.html", "opml.xml"])) == []
    assert hub.requests == []


def test_announce_reports_a_refusing_hub(tmp_path: Path, hub: HubStub) -> None:
    hub.status = 500
    problems = asyncio.run(announce(settings(tmp_path, hub.url), ["feeds/all.xml"]))
    assert len(problems) == 1 and "HTTP 500" in problems[0]


# --- configuration ---------------------------------------------------------------------------


def test_the_hub_is_off_by_default_and_must_be_an_absolute_http_url(tmp_path: Path) -> None:
    assert settings(tmp_path, None).publish.websub_hub is None
    assert settings(tmp_path, HUB).publish.websub_hub == HUB
    empty = CONFIG.format(publish="publish:")
    assert parse_config(empty, base_dir=tmp_path).publish.websub_hub is None
    with pytest.raises(ConfigError) as refused:
        settings(tmp_path, "/hub")
    assert "publish.websub_hub: expected an http(s):// URL" in str(refused.value)
    with pytest.raises(ConfigError) as unknown:
        parse_config(CONFIG.format(publish="publish: {hub: x}"), base_dir=tmp_path)
    assert "publish.hub" in str(unknown.value)


# --- the feeds declare the hub ---------------------------------------------------------------

WITH_HUB = dataclasses.replace(META, hub=HUB)


def test_rss_declares_the_hub_beside_its_self_link() -> None:
    data = render_rss(WITH_HUB, ITEMS, NOW)
    assert feedparser.parse(io.BytesIO(data)).bozo == 0
    channel = etree.fromstring(data).find("channel")
    assert channel is not None
    links = [(link.get("rel"), link.get("href")) for link in channel.iter(f"{ATOM}link")]
    assert links == [("self", "http://127.0.0.1:8080/feeds/all.xml"), ("hub", HUB)]


def test_atom_declares_the_hub_beside_its_self_link() -> None:
    data = render_atom(WITH_HUB, ITEMS, NOW)
    parsed = feedparser.parse(io.BytesIO(data))
    assert parsed.bozo == 0
    assert [(link.rel, link.href) for link in parsed.feed.links] == [
        ("self", "http://127.0.0.1:8080/feeds/all.atom"),
        ("hub", HUB),
        ("alternate", "https://news.example.org/"),
    ]


def test_json_feed_lists_the_hub() -> None:
    document = json.loads(render_json_feed(WITH_HUB, ITEMS, NOW))
    assert document["hubs"] == [{"type": "WebSub", "url": HUB}]
    assert document["feed_url"] == "http://127.0.0.1:8080/feeds/all.json"


def test_no_hub_is_declared_without_one() -> None:
    assert b'rel="hub"' not in render_rss(META, ITEMS, NOW)
    assert b'rel="hub"' not in render_atom(META, ITEMS, NOW)
    assert "hubs" not in json.loads(render_json_feed(META, ITEMS, NOW))


def test_the_published_site_declares_the_configured_hub(tmp_path: Path) -> None:
    config = settings(tmp_path, HUB)
    assert channel_meta(config, "all", "All", "").hub == HUB
    files = render_site(config, [], datetime(2026, 1, 1, tzinfo=UTC))
    assert f'<atom:link href="{HUB}" rel="hub"/>'.encode() in files["feeds/all.xml"]
    assert f'<link href="{HUB}" rel="hub"/>'.encode() in files["feeds/all.atom"]
    assert json.loads(files["feeds/ai.json"])["hubs"][0]["url"] == HUB


# --- every command that publishes announces ---------------------------------------------------


def test_fetch_and_publish_announce_the_changed_feeds_as_run_does(
    tmp_path: Path, hub: HubStub
) -> None:
    # Only `run` announced: the cron path (`fetch`, `publish`) left hub subscribers waiting
    # although every channel declares the hub.
    with running_server() as server:
        feed = server.serve("/wire.xml", WIRE_RSS)
        config = tmp_path / "feeds.yaml"
        config.write_text(
            "site: {title: News, link: 'https://news.example.org/'}\n"
            "storage: sqlite:///data/aggregator.db\n"
            "output: {dir: public, posts_dir: null}\n"
            "fetch: {allow_private: [127.0.0.1]}\n"
            f"publish: {{websub_hub: '{hub.url}'}}\n"
            f"sources:\n  - {{id: wire, url: '{feed}'}}\n",
            encoding="utf-8",
        )
        fetched = run_cli(config, "fetch", "--all")
    assert fetched.returncode == 0, fetched.stderr
    announced = sorted(form["hub.url"][0] for form in hub.forms())
    assert announced == [f"https://news.example.org/feeds/all.{kind}" for kind in TOPIC_KINDS]

    hub.requests.clear()
    republished = run_cli(config, "publish")
    assert republished.returncode == 0 and hub.requests == []  # nothing changed, no ping

    hub.status = 500
    (tmp_path / "public" / "feeds" / "all.xml").unlink()  # publish writes it again
    refused = run_cli(config, "publish")
    assert refused.returncode == 0
    assert [form["hub.url"][0] for form in hub.forms()] == [
        "https://news.example.org/feeds/all.xml"
    ]
    assert "warning:" in refused.stderr and "HTTP 500" in refused.stderr


TOPIC_KINDS = ("atom", "json", "xml")
WIRE_RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
    "<link>https://wire.example.com/</link><description>d</description><item>"
    "<title>Port reopens after the storm</title><link>https://wire.example.com/a</link>"
    "<guid>a</guid><pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate>"
    "<description>The port reopened on Monday.</description></item></channel></rss>"
)
