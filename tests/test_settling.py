"""A pass places its articles by their words once all its sources are in, the earliest
first: which source answered first changes neither the stories nor who founded them, and
articles stored by a pass killed before it placed them are placed by the next."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest

from aggregator import pipeline
from aggregator.config import parse_config
from aggregator.digest import story_fingerprint
from aggregator.store import Store
from aggregator.store.story_index import FoldPolicy
from tests import test_story_merge
from tests.feedserver import FeedServer
from tests.test_same_event import FIRE_A, FIRE_B, NOW, SOURCE_LIST, article

Told = tuple[str, str, str, str, datetime]


def rss(told: Told) -> str:
    _, guid, title, body, date = told
    return (
        "<rss version='2.0'><channel><title>t</title><link>https://example.org/</link>"
        f"<item><title>{escape(title)}</title><guid isPermaLink='false'>{guid}</guid>"
        f"<pubDate>{format_datetime(date)}</pubDate>"
        f"<description>{escape(f'<p>{body}</p>')}</description></item></channel></rss>"
    )


@pytest.mark.parametrize("slow", ["harbor", "meridian"])
def test_a_pass_places_by_words_the_same_whichever_source_answers_first(
    tmp_path: Path, feed_server: FeedServer, slow: str
) -> None:
    """The later report's source answers first when the earlier one's is slow: the earlier
    report still founds the story, and the later joins it by the same event."""
    lines = []
    for told in (FIRE_A, FIRE_B):
        source = told[0]
        url = feed_server.serve(f"/{source}.xml", rss(told), delay=0.5 if source == slow else 0)
        lines.append(f"  - {{id: {source}, url: '{url}'}}")
    settings = parse_config(
        "storage: sqlite:///db.sqlite\nfetch: {allow_private: [127.0.0.1]}\n"
        "sources:\n" + "\n".join(lines) + "\n",
        base_dir=tmp_path,
    )
    done: list[str] = []
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        reports = asyncio.run(
            pipeline.run_pass(
                settings, store, settings.sources, lambda: NOW, lambda r: done.append(r.source_id)
            )
        )
        assert [r.status for r in reports] == ["ok", "ok"]
        stored = {a.guid: a for a in store.articles()}
    assert done[-1] == slow
    first, later = stored["fire-a"], stored["fire-b"]
    assert first.fold_rule is None and first.story_id == first.article.id
    assert later.story_id == first.story_id
    assert (later.fold_rule, later.fold_match) == ("same_event", first.article.id)


#: A store in a SQLite file, and one in PostgreSQL.
store_url = test_story_merge.store_url


def save_unsettled(store: Store, told: Told) -> None:
    source, guid, title, body, date = told
    entry = article(source, guid, title, body, date)
    fingerprint = story_fingerprint(title, body)
    store.save_articles(source, [(guid, entry, fingerprint)], NOW, FoldPolicy(), settle=False)


def test_articles_a_killed_pass_stored_are_placed_by_the_next(store_url: str) -> None:
    """Stored without settling (the later report first), both are kept but no story is
    shown yet: either may still join another. Reopened, ``settle`` places them the
    earliest first."""
    with Store.open(store_url) as store:
        store.sync_sources(SOURCE_LIST)
        save_unsettled(store, FIRE_B)
        save_unsettled(store, FIRE_A)
        assert len(store.articles()) == 2
        assert store.story_count() == 0
    with Store.open(store_url) as store:
        told = store.settle(FoldPolicy(), NOW)
        stored = {a.guid: a for a in store.articles()}
        assert store.story_count() == 1
        # Nothing waits any longer: a second call places nothing.
        assert store.settle(FoldPolicy(), NOW) == {}
    first, later = stored["fire-a"], stored["fire-b"]
    assert told == {later.article.id: "meridian"}
    assert first.fold_rule is None and later.story_id == first.article.id
    assert (later.fold_rule, later.fold_match) == ("same_event", first.article.id)


def test_a_waiting_article_is_no_candidate_until_placed(tmp_path: Path) -> None:
    """Stored without settling, an article waits in ``unsettled`` with its words indexed
    (they count in how rare a word is); once placed, it waits no longer."""
    path = tmp_path / "aggregator.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.sync_sources(SOURCE_LIST)
        save_unsettled(store, FIRE_A)
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT article_id FROM unsettled").fetchall() == [
                (article(*FIRE_A).id,)
            ]
            assert db.execute("SELECT COUNT(*) FROM word_postings").fetchone()[0] > 0
        store.settle(FoldPolicy(), NOW)
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT COUNT(*) FROM unsettled").fetchone() == (0,)


def test_a_waiting_article_updated_before_it_is_placed_is_shown_once_placed(
    tmp_path: Path,
) -> None:
    """An entry re-fetched with new text while it waits is updated in place and still
    waits: no story is shown for it until it is placed."""
    with Store.open(f"sqlite:///{tmp_path / 'aggregator.db'}") as store:
        store.sync_sources(SOURCE_LIST)
        save_unsettled(store, FIRE_A)
        source, guid, title, body, date = FIRE_A
        save_unsettled(
            store, (source, guid, title, body + " Two were released on Wednesday.", date)
        )
        assert [a.article.body for a in store.articles()] == [
            f"<p>{body} Two were released on Wednesday.</p>"
        ]
        assert store.story_count() == 0
        store.settle(FoldPolicy(), NOW)
        assert store.story_count() == 1
