"""The real command against real HTTP: feeds served on 127.0.0.1, ``aggregator fetch --all``
run as a user runs it, posts and channels checked on disk."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
import pytest

from aggregator import frontmatter
from aggregator.demo import FEEDS
from tests.cli import AGGREGATOR, cli_env, run_cli
from tests.conftest import SEED_PATH, seed_article, seed_content
from tests.feedserver import FeedServer

REFERENCE_KEYS = ("title", "categories", "excerpt", "feature_text", "image", "body")


def seed_rss() -> str:
    """The reference article as its outlet's RSS item: description = excerpt,
    content:encoded = the body between the source's header and footer."""
    article = seed_article()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
<title>adskorea</title><link>https://newsdao.kr</link><description>속보</description>
<item>
<title>{escape(article.title)}</title>
<link>https://newsdao.kr/news/ai-startup-levelup?utm_source=rss</link>
<guid isPermaLink="false">newsdao-ai-startup-levelup</guid>
<pubDate>Fri, 20 Nov 2026 09:30:00 +0900</pubDate>
<category>News</category>
<description>{escape(article.excerpt)}</description>
<content:encoded><![CDATA[{seed_content()}]]></content:encoded>
</item>
<item>
<title>둘째 소식: 국산 반도체 &amp; 배터리 수출 증가</title>
<link>https://newsdao.kr/news/exports</link>
<guid isPermaLink="false">newsdao-exports</guid>
<pubDate>Sat, 21 Nov 2026 08:00:00 +0900</pubDate>
<description>수출이 늘었다.</description>
</item>
</channel>
</rss>"""


def write_config(tmp_path: Path, server: FeedServer, extra_sources: str = "") -> Path:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""
site: {{title: 뉴스 모음, link: "https://news.example.org/", language: ko, timezone: Asia/Seoul}}
storage: sqlite:///data/aggregator.db
output: {{dir: public, posts_dir: _posts}}
fetch: {{allow_private: [127.0.0.1]}}
sources:
  - id: adskorea
    url: {server.url("/adskorea.xml")}
    name: adskorea
    home: https://newsdao.kr
    categories: [News]
    default_image: https://newsdao.kr/res/images/meta/newsdao_breakingnews.jpg
    templates:
      feature_text: "## {{source_name}} 실시간 뉴스 속보입니다.\\n{{excerpt}}"
      header: '<p><img src="{{image}}" alt="{{source_name}} 속보" /></p>'
      footer: '실시간 뉴스 속보는, <a href="{{home}}" rel="dofollow">{{home}}</a>'
  - id: wire-world
    url: {server.url("/wire.atom")}
    name: World Wire
    categories: [World]
  - id: tech-daily
    url: {server.url("/tech.json")}
    name: Tech Daily
    categories: [Tech]
{extra_sources}
channels:
  - id: all
    title: 전체 뉴스
  - id: ai
    title: AI 뉴스
    keywords: [인공지능, AI]
""",
        encoding="utf-8",
    )
    return config


def aggregator(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Not from the config's directory: paths must not depend on the working directory.
    return run_cli(config, *args, cwd=config.parent.parent)


@pytest.fixture
def served(feed_server: FeedServer) -> FeedServer:
    feed_server.serve("/adskorea.xml", seed_rss())
    atom = (FEEDS / "wire-world.atom").read_bytes()
    feed_server.serve("/wire.atom", atom, content_type="application/atom+xml")
    json_feed = (FEEDS / "tech-daily.json").read_bytes()
    feed_server.serve("/tech.json", json_feed, content_type="application/feed+json")
    return feed_server


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        # index.html shows the sources' health (last success), which a fetch refreshes.
        if path.is_file() and "data" not in path.parts and path.name != "index.html"
    }


def test_fetch_all_publishes_the_reference_post_and_valid_channels(
    tmp_path: Path, served: FeedServer
) -> None:
    config = write_config(tmp_path, served)
    result = aggregator(config, "fetch", "--all")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("2 channels published, 9 files changed")
    assert (
        "3 sources: 3 fetched, 0 not modified, 0 failed; 11 new, 0 updated, 2 folded"
        in result.stdout
    )

    # The reference article, written as a post: the reference's keys and body exactly.
    posts = sorted((tmp_path / "_posts").glob("*.md"))
    assert len(posts) == 11  # 13 articles: the sample feeds retell two stories
    seed_post = (
        tmp_path / "_posts" / "2026-11-20-글로벌-유니콘으로-성장하는-초격차-ai-스타트업의-이야기.md"
    )
    text = seed_post.read_text(encoding="utf-8")
    reference = SEED_PATH.read_text(encoding="utf-8")
    front, body = reference.split("image:")[0], reference.split("---\n", 2)[2]
    assert text.startswith(front)
    assert text.split("---\n", 2)[2] == body
    post = frontmatter.loads(text)
    for key in REFERENCE_KEYS:
        assert getattr(post, key) == getattr(seed_article(), key), key
    assert post.canonical_url == "https://newsdao.kr/news/ai-startup-levelup"
    assert post.date is not None and post.date.isoformat() == "2026-11-20T09:30:00+09:00"

    # Channels: every format parses, lists every story once, newest first.
    public = tmp_path / "public"
    rss = feedparser.parse((public / "feeds" / "all.xml").read_bytes())
    atom = feedparser.parse((public / "feeds" / "all.atom").read_bytes())
    json_feed = json.loads((public / "feeds" / "all.json").read_bytes())
    assert rss.bozo == 0 and atom.bozo == 0
    assert len(rss.entries) == len(atom.entries) == len(json_feed["items"]) == 11
    rss_dates = [parsedate_to_datetime(e.published) for e in rss.entries]
    assert rss_dates == sorted(rss_dates, reverse=True)
    stories = [i["_aggregator"]["story"] for i in json_feed["items"]]
    assert [e.aggregator_story for e in rss.entries] == stories
    seed_item = next(e for e in rss.entries if e.title == post.title)
    assert seed_item.aggregator_story == post.id and seed_item.link == post.canonical_url
    assert seed_item.id == f"urn:aggregator:all.xml:{post.id}"
    ai = json.loads((public / "feeds" / "ai.json").read_bytes())["items"]
    assert ai and all(
        "AI" in i["title"] + i.get("summary", "") or "인공지능" in i["title"] + i.get("summary", "")
        for i in ai
    )
    assert (public / "opml.xml").exists() and (public / "index.html").exists()


def test_a_second_run_sends_conditional_requests_and_changes_nothing(
    tmp_path: Path, served: FeedServer
) -> None:
    config = write_config(tmp_path, served)
    assert aggregator(config, "fetch", "--all").returncode == 0
    before = snapshot(tmp_path)
    served.requests.clear()

    again = aggregator(config, "fetch", "--all")
    assert again.returncode == 0, again.stderr
    assert "3 sources: 0 fetched, 3 not modified, 0 failed; 0 new, 0 updated" in again.stdout
    assert len(served.requests) == 3
    for request in served.requests:
        assert request.headers.get("if-none-match") and request.headers.get("if-modified-since")
        assert request.status == 304
    assert snapshot(tmp_path) == before


def test_one_failing_source_does_not_stop_the_others_and_exits_1(
    tmp_path: Path, served: FeedServer
) -> None:
    served.serve("/broken", b"oops", status=500)
    served.serve(
        "/html", b"<!doctype html><html><body>Not a feed</body></html>", content_type="text/html"
    )
    extra = f"""  - id: broken
    url: {served.url("/broken")}
  - id: page
    url: {served.url("/html")}
"""
    config = write_config(tmp_path, served, extra)
    result = aggregator(config, "fetch", "--all")
    assert result.returncode == 1
    assert "failed: broken: HTTP 500 Internal Server Error" in result.stderr
    assert "failed: page: not a feed" in result.stderr
    assert (
        "5 sources: 3 fetched, 0 not modified, 2 failed; 11 new, 0 updated, 2 folded"
        in result.stdout
    )
    assert len(list((tmp_path / "_posts").glob("*.md"))) == 11


def test_only_due_sources_are_fetched_without_all(tmp_path: Path, served: FeedServer) -> None:
    config = write_config(tmp_path, served)
    assert aggregator(config, "fetch").returncode == 0
    served.requests.clear()
    result = aggregator(config, "fetch")
    assert result.returncode == 0 and served.requests == []
    assert result.stdout.startswith("0 sources")
    named = aggregator(config, "fetch", "--source", "tech-daily")
    assert named.returncode == 0 and [r.path for r in served.requests] == ["/tech.json"]


def test_check_prints_the_plan_and_an_invalid_file_exits_2(
    tmp_path: Path, served: FeedServer
) -> None:
    config = write_config(tmp_path, served)
    result = aggregator(config, "check")
    assert result.returncode == 0, result.stderr
    assert "adskorea" in result.stdout and "feeds/ai.xml" in result.stdout
    config.write_text("sources:\n  - id: Bad Id!\n    url: ftp://x\n", encoding="utf-8")
    bad = aggregator(config, "check")
    assert bad.returncode == 2
    assert "feeds.yaml:2:" in bad.stderr


def test_publish_rewrites_outputs_from_the_store(tmp_path: Path, served: FeedServer) -> None:
    config = write_config(tmp_path, served)
    assert aggregator(config, "fetch", "--all").returncode == 0
    (tmp_path / "public" / "feeds" / "all.xml").unlink()
    result = aggregator(config, "publish")
    assert result.returncode == 0, result.stderr
    assert "published 2 channels of 11 stories" in result.stdout
    assert feedparser.parse((tmp_path / "public" / "feeds" / "all.xml").read_bytes()).bozo == 0


def test_run_polls_at_the_interval_publishes_and_stops_cleanly(
    tmp_path: Path, served: FeedServer
) -> None:
    config = write_config(tmp_path, served)
    text = config.read_text(encoding="utf-8").replace(
        "categories: [Tech]", "categories: [Tech]\n    interval: 1s"
    )
    text = "server: {port: 0}\n" + text
    config.write_text(text, encoding="utf-8")
    env = cli_env()
    process = subprocess.Popen(
        [str(AGGREGATOR), "-c", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        # Wait until the 1-second source has been polled again (conditionally) and the
        # first pass has been published.
        feed = tmp_path / "public" / "feeds" / "all.json"
        items: list[object] = []
        while time.monotonic() < deadline:
            items = json.loads(feed.read_bytes())["items"] if feed.exists() else []
            if len(served.requests_to("/tech.json")) >= 3 and len(items) == 11:
                break
            time.sleep(0.1)
        assert len(items) == 11
        assert len(served.requests_to("/tech.json")) >= 3
        assert len(served.requests_to("/adskorea.xml")) == 1  # its interval is 15 minutes
        assert all(r.status == 304 for r in served.requests_to("/tech.json")[1:])
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "stopped" in output


def test_outputs_that_cannot_be_written_are_one_plain_line(tmp_path: Path) -> None:
    # A full disk or an output path taken by a file: a line saying so, not a traceback.
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "storage: sqlite:///db.sqlite\noutput: {dir: public, posts_dir: _posts}\n"
        "sources:\n  - {id: wire, url: 'https://wire.example.com/feed'}\n",
        encoding="utf-8",
    )
    (tmp_path / "public").write_text("a file where the output directory goes", "utf-8")
    result = aggregator(config, "publish")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: [Errno") and "public" in line


def test_a_feed_file_on_this_machine_is_a_source(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    small, big = FEEDS / "tech-daily.json", FEEDS / "wire-world.atom"
    (feeds / "tech.json").write_bytes(small.read_bytes())
    (feeds / "wire.atom").write_bytes(big.read_bytes())
    limit = (small.stat().st_size + big.stat().st_size) // 2
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "storage: sqlite:///data/aggregator.db\n"
        "output: {dir: public, posts_dir: null}\n"
        f"fetch: {{max_bytes: {limit}}}\n"
        "sources:\n"
        f"  - {{id: tech, url: '{(feeds / 'tech.json').as_uri()}'}}\n"
        f"  - {{id: wire, url: '{(feeds / 'wire.atom').as_uri()}'}}\n",
        encoding="utf-8",
    )
    result = run_cli(config, "fetch")
    assert result.returncode == 1
    assert "failed: wire: the feed file" in result.stderr and "fetch.max_bytes" in result.stderr
    assert "2 sources: 1 fetched, 0 not modified, 1 failed; 5 new" in result.stdout
