"""``dedup merge`` makes the stories of two articles one, for good: the story that sorts
first takes the other in (members, keys, word postings), its post stays and the other's
goes, re-fetching keeps them one, and explain says the operator did it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text as sql_text

from aggregator.errors import StoreError
from aggregator.model import story_id
from aggregator.store import Store
from tests import test_story_merge
from tests.cli import run_cli
from tests.feedserver import FeedServer
from tests.test_dedup_review import fetched
from tests.test_story_merge import FLOOD, MORNING, NOW, ROADS, by_guid, save

#: A store in a SQLite file, and one in PostgreSQL.
store_url = test_story_merge.store_url
store = test_story_merge.store

#: Two reports of one storm that share too little to fold by themselves.
TOLD = {
    "alpha": ("Marrow River floods Eldham square", FLOOD, MORNING),
    "beta": ("Kestrel Bridge shut as storm cracks embankment", ROADS, MORNING + timedelta(hours=1)),
}


def channel(config: Path) -> list[dict[str, object]]:
    return json.loads((config.parent / "public" / "feeds" / "all.json").read_bytes())["items"]


def test_merge_makes_two_items_one_and_it_sticks(tmp_path: Path, feed_server: FeedServer) -> None:
    outlets = {source: [(source, "storm", *told)] for source, told in TOLD.items()}
    config = fetched(tmp_path, feed_server, outlets)
    assert len(channel(config)) == 2
    assert len(list((tmp_path / "_posts").glob("*.md"))) == 2
    flood, roads = story_id("alpha", "storm"), story_id("beta", "storm")

    merged = run_cli(config, "dedup", "merge", roads, flood)
    assert merged.returncode == 0, merged.stderr
    assert f"are now story {flood}" in merged.stdout  # the earlier story takes the other in
    (item,) = channel(config)
    assert item["title"] == TOLD["alpha"][0]
    aggregator = item["_aggregator"]
    assert isinstance(aggregator, dict) and aggregator["story"] == flood
    assert [o["source"] for o in aggregator["also_reported_by"]] == ["Beta"]
    (post,) = (tmp_path / "_posts").glob("*.md")  # the absorbed story's post is gone
    assert "marrow-river-floods" in post.name and "- source: Beta" in post.read_text()
    explained = run_cli(config, "dedup", "explain", roads).stdout
    assert f"its story was merged by the operator into {flood}'s" in explained
    # The operator's own merge is not one to review.
    assert "stories merged into another: 0" in run_cli(config, "dedup", "review").stdout

    for route in feed_server.routes.values():
        route.conditional = False
    assert run_cli(config, "fetch", "--all").returncode == 0
    assert len(channel(config)) == 1

    again = run_cli(config, "dedup", "merge", flood, roads)
    assert again.returncode == 2 and "one story already" in again.stderr
    unknown = run_cli(config, "dedup", "merge", flood, "no-such-article")
    assert unknown.returncode == 2 and "no stored article has the id" in unknown.stderr
    assert len(channel(config)) == 1


def test_merge_moves_members_keys_and_postings(store: Store) -> None:
    """In a SQLite file and in PostgreSQL: nothing of the absorbed story stays behind."""
    save(store, "alpha", 1, FLOOD, 0.5)
    save(store, "beta", 1, ROADS, 1.0)
    before = by_guid(store)
    flood, roads = before["alpha-1"].article.id or "", before["beta-1"].article.id or ""
    assert before["alpha-1"].story_id != before["beta-1"].story_id

    assert store.merge(flood, roads, NOW) == flood
    stored = by_guid(store)
    assert {s.story_id for s in stored.values()} == {flood}
    assert (stored["beta-1"].fold_rule, stored["beta-1"].fold_match) == (
        "merged_by_operator",
        flood,
    )
    assert store.merged_since(0) == [roads]
    with store._engine.connect() as conn:
        named = conn.execute(sql_text("SELECT DISTINCT story_id FROM word_postings")).scalars()
        assert set(named) == {flood}
        keys = conn.execute(sql_text("SELECT DISTINCT story_id FROM story_keys")).scalars()
        assert set(keys) == {flood}
        assert list(conn.execute(sql_text("SELECT id FROM stories")).scalars()) == [flood]

    with pytest.raises(StoreError, match="one story already"):
        store.merge(roads, flood, NOW)


def test_the_operator_can_merge_back_what_was_split(store: Store) -> None:
    """A split keeps the rules from merging a story; the operator's merge is a decision
    too, and the later one stands."""
    save(store, "alpha", 1, FLOOD, 0.5)
    save(store, "gamma", 1, FLOOD.replace("before dawn", "at dawn"), 1.0)
    copy = by_guid(store)["gamma-1"].article.id or ""
    flood = by_guid(store)["alpha-1"].article.id or ""
    assert store.split(copy, NOW) == copy

    assert store.merge(copy, flood, NOW) == flood
    stored = by_guid(store)["gamma-1"]
    assert stored.story_id == flood
    assert (stored.fold_rule, stored.fold_match) == ("merged_by_operator", flood)
