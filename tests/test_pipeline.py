"""The pipeline's pure parts: which entries a pass keeps and what it warns about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.config import parse_config
from aggregator.digest import articles_of, newest, story_fingerprint
from aggregator.model import Entry, ParsedFeed

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def entry(n: int, days_ago: float | None) -> Entry:
    when = NOW - timedelta(days=days_ago) if days_ago is not None else None
    return Entry(guid=f"g{n}", link=f"https://w.example/{n}", title=f"Story {n}", published=when)


def test_newest_keeps_the_most_recent_in_feed_order() -> None:
    entries = [entry(1, 5), entry(2, None), entry(3, 1), entry(4, 3), entry(5, 2)]
    assert [e.guid for e in newest(entries, 3)] == ["g3", "g4", "g5"]
    assert newest(entries, None) == entries
    assert newest(entries, 10) == entries


def test_max_items_future_dates_and_bad_entries(tmp_path: Path) -> None:
    settings = parse_config(
        "sources:\n  - {id: w, url: 'https://w.example/feed', max_items: 3, exclude: ['^Skip']}\n",
        base_dir=tmp_path,
    )
    source = settings.sources[0]
    entries = (
        entry(1, 1),
        entry(2, -3),  # three days ahead
        Entry(guid="g3", link="https://w.example/3", title="Skip me", published=NOW),
        entry(4, 9),  # oldest: beyond max_items
    )
    parsed = ParsedFeed("t", None, "https://w.example/feed", entries, warnings=("ill-formed",))
    articles, warnings = articles_of(parsed, source, settings.site.excerpt_length, NOW)
    assert [guid for guid, _, _ in articles] == ["g1", "g2"]
    by_guid = {guid: article for guid, article, _ in articles}
    assert by_guid["g2"].date == NOW
    assert warnings == ("ill-formed", "1 entries dated in the future; dated when fetched instead")


def test_short_texts_are_not_compared_by_similarity() -> None:
    short = story_fingerprint("Story 1", "Summary of story 1.")
    long = story_fingerprint("Central bank holds rates", "The central bank held its key rate " * 8)
    assert short.signature == () and short.content_hash
    assert len(long.signature) > 0
