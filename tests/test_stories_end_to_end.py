"""Same story, one item: four outlets (RSS, RSS, Atom, JSON Feed) fetched over real HTTP
tell one story; template stories with different figures stay apart; re-fetching and
splitting behave."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from aggregator import frontmatter
from tests.cli import run_cli
from tests.feedserver import FeedServer

STORY = (
    "The central bank kept its benchmark interest rate unchanged at 3.5 percent on Thursday, "
    "saying inflation had slowed for a third straight month while the labour market was "
    "cooling faster than expected. Governor Lee Chang-yong told reporters the board would "
    "watch prices closely before deciding on any cut next year, and warned that household "
    "debt remained a risk to financial stability."
)
TELLINGS = {
    # outlet: (title, text, date)
    "wire": ("Central bank holds rate at 3.5 percent", STORY, "2026-11-20T01:00:00Z"),
    "daily": (
        "Bank of Korea keeps rate steady at 3.5%",
        "SEOUL, Nov 20 (Daily) - " + STORY.replace("on Thursday, saying", "on Thursday and said"),
        "2026-11-20T01:20:00Z",
    ),
    "atomnews": (
        "Rates unchanged as inflation slows",
        STORY.replace("Governor Lee Chang-yong told reporters", "Governor Lee Chang-yong said")
        + " © 2026 Atom News. All rights reserved.",
        "2026-11-20T01:40:00Z",
    ),
    "jsonwire": (
        "BOK leaves benchmark rate at 3.5 pct",
        STORY.replace("cooling faster than expected", "cooling more quickly than expected"),
        "2026-11-20T02:00:00Z",
    ),
}
CLOSE = (
    "The KOSPI closed at {index} on {day}, {direction} {points} points or {pct} percent, as "
    "foreign investors were net {side} of {amount} billion won worth of shares. Trading volume "
    "was moderate at {volume} million shares, and the won ended at {won} against the dollar."
)
CLOSES = [
    (
        "KOSPI closes higher",
        CLOSE.format(
            index="2,501.32",
            day="Monday",
            direction="up",
            points="12.40",
            pct="0.5",
            side="buyers",
            amount="320",
            volume="410",
            won="1,391.2",
        ),
        "2026-11-23T07:00:00Z",
    ),
    (
        "KOSPI closes lower",
        CLOSE.format(
            index="2,480.15",
            day="Tuesday",
            direction="down",
            points="21.17",
            pct="0.8",
            side="sellers",
            amount="515",
            volume="388",
            won="1,402.7",
        ),
        "2026-11-24T07:00:00Z",
    ),
]


def rss(items: list[tuple[str, str, str, str]]) -> str:
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{date}</pubDate><description>{escape(text)}</description></item>"
        for t, text, date, link in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><link>https://x.example/</link><description>x</description>{body}</channel></rss>'


def rfc822(iso: str) -> str:
    from datetime import datetime
    from email.utils import format_datetime

    return format_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")))


def serve_outlets(server: FeedServer) -> None:
    wire_t, wire_x, wire_d = TELLINGS["wire"]
    server.serve("/wire.xml", rss([
        (wire_t, wire_x, rfc822(wire_d), "https://wire.example/rates"),
        (CLOSES[0][0], CLOSES[0][1], rfc822(CLOSES[0][2]), "https://wire.example/close-mon"),
    ]))  # fmt: skip
    daily_t, daily_x, daily_d = TELLINGS["daily"]
    server.serve("/daily.xml", rss([
        (daily_t, daily_x, rfc822(daily_d), "https://daily.example/economy/1"),
        (CLOSES[1][0], CLOSES[1][1], rfc822(CLOSES[1][2]), "https://daily.example/close-tue"),
    ]))  # fmt: skip
    atom_t, atom_x, atom_d = TELLINGS["atomnews"]
    server.serve(
        "/atom.xml",
        f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title>
<id>urn:atomnews</id><updated>{atom_d}</updated><entry><id>urn:atomnews:rates</id>
<title>{escape(atom_t)}</title><link href="https://atom.example/rates"/><updated>{atom_d}</updated>
<content type="text">{escape(atom_x)}</content></entry></feed>""",
        content_type="application/atom+xml",
    )
    json_t, json_x, json_d = TELLINGS["jsonwire"]
    server.serve(
        "/feed.json",
        json.dumps({
            "version": "https://jsonfeed.org/version/1.1", "title": "JSON Wire",
            "items": [{"id": "jw-rates", "url": "https://jsonwire.example/rates", "title": json_t,
                       "content_text": json_x, "date_published": json_d}],
        }),
        content_type="application/feed+json",
    )  # fmt: skip


@pytest.fixture
def setup(tmp_path: Path, feed_server: FeedServer) -> tuple[Path, FeedServer]:
    serve_outlets(feed_server)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "site: {link: 'https://agg.example/'}\n"
        "fetch: {allow_private: [127.0.0.1]}\n"
        "sources:\n"
        f"  - {{id: wire, name: Wire, url: '{feed_server.url('/wire.xml')}'}}\n"
        f"  - {{id: daily, name: Daily, url: '{feed_server.url('/daily.xml')}'}}\n"
        f"  - {{id: atomnews, name: Atom News, url: '{feed_server.url('/atom.xml')}'}}\n"
        f"  - {{id: jsonwire, name: JSON Wire, url: '{feed_server.url('/feed.json')}'}}\n",
        encoding="utf-8",
    )
    return config, feed_server


def aggregator(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(config, *args)


def channel(config: Path) -> list[dict[str, object]]:
    return json.loads((config.parent / "public" / "feeds" / "all.json").read_bytes())["items"]


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        # index.html shows the sources' health (last success), which a fetch refreshes.
        if p.is_file() and "data" not in p.parts and p.name != "index.html"
    }


def test_four_outlets_one_item_and_template_stories_stay_apart(
    setup: tuple[Path, FeedServer],
) -> None:
    config, server = setup
    result = aggregator(config, "fetch", "--all")
    assert result.returncode == 0, result.stderr
    assert "3 folded into stories already told" in result.stdout

    items = channel(config)
    assert len(items) == 3  # the rate story and two market closes
    story = next(i for i in items if "rate" in str(i["title"]).lower())
    # The earliest telling is kept; the three others are listed.
    assert story["title"] == TELLINGS["wire"][0]
    others = story["_aggregator"]["also_reported_by"]  # type: ignore[index]
    assert [o["source"] for o in others] == ["Daily", "Atom News", "JSON Wire"]
    assert [o["link"] for o in others] == [
        "https://daily.example/economy/1", "https://atom.example/rates", "https://jsonwire.example/rates",
    ]  # fmt: skip
    closes = [i for i in items if "KOSPI" in str(i["title"])]
    assert len(closes) == 2

    posts = list((config.parent / "_posts").glob("*.md"))
    assert len(posts) == 3
    post = next(frontmatter.loads(p.read_text("utf-8")) for p in posts if "rate" in p.name)
    assert [m.source for m in post.also_reported_by] == ["Daily", "Atom News", "JSON Wire"]
    assert post.id == story["_aggregator"]["story"]

    # Re-fetching, even in full (no validators honoured), changes nothing.
    before = snapshot(config.parent)
    for route in server.routes.values():
        route.conditional = False
    again = aggregator(config, "fetch", "--all")
    assert again.returncode == 0, again.stderr
    assert "0 new, 0 updated, 0 folded" in again.stdout
    assert snapshot(config.parent) == before


def test_explain_and_a_split_that_sticks(setup: tuple[Path, FeedServer]) -> None:
    config, server = setup
    assert aggregator(config, "fetch", "--all").returncode == 0
    story = next(i for i in channel(config) if "rate" in str(i["title"]).lower())

    # The item's id as a reader shows it names the story too.
    explained = aggregator(config, "dedup", "explain", str(story["id"]))
    assert explained.returncode == 0, explained.stderr
    lines = explained.stdout
    assert f"story {story['_aggregator']['story']}: 4 articles" in lines
    assert "founded the story" in lines
    assert lines.count("joined by similarity") == 3

    member_id = next(
        # "* " marks the article asked about, which may be this one: the story takes the
        # id of whichever telling was stored first, and the four are fetched concurrently.
        line.lstrip("* ").split()[0]
        for line in lines.splitlines()
        if line.strip().endswith("JSON Wire")
    )
    split = aggregator(config, "dedup", "split", member_id)
    assert split.returncode == 0, split.stderr
    items = channel(config)
    assert len(items) == 4
    story_after = next(i for i in items if i["id"] == story["id"])
    assert [o["source"] for o in story_after["_aggregator"]["also_reported_by"]] == [
        "Daily",
        "Atom News",
    ]  # type: ignore[index]

    for route in server.routes.values():
        route.conditional = False
    assert aggregator(config, "fetch", "--all").returncode == 0
    assert len(channel(config)) == 4  # the split stuck
    assert "split out of story" in aggregator(config, "dedup", "explain", member_id).stdout
