"""An article that tells two stories alike merges them: its members, keys and postings
move to the story that sorts first, its founder is marked, a publish removes the absorbed
story's post, and a story the operator split is never merged."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text as sql_text

from aggregator import pipeline
from aggregator.config import parse_config
from aggregator.dedup import Fingerprint
from aggregator.explain import explain_lines
from aggregator.model import Article, Source, StoredArticle, story_id
from aggregator.store import SaveResult, Store
from aggregator.store.story_index import FoldPolicy
from tests.test_store import postgresql_database

NOW = datetime(2026, 5, 4, 18, 0, tzinfo=UTC)
MORNING = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
SOURCES = ("alpha", "beta", "gamma", "delta")

#: Two halves of one report that share nothing: each alone is far from the other.
FLOOD = (
    "Floodwater from the swollen Marrow River reached the main square of Eldham before "
    "dawn, and volunteers stacked sandbags outside the library and the old mill while "
    "the county opened two shelters at the grammar school."
)
ROADS = (
    "Highway engineers closed the Kestrel Bridge and the coastal road near Pellow Cove "
    "after cracks appeared in the embankment; buses to Tarrington will run on the "
    "moorland route until inspectors reopen the crossing."
)


def told(source: str, n: int, text: str, hours: float) -> tuple[str, Article, Fingerprint]:
    guid = f"{source}-{n}"
    article = Article(
        title=f"Report {n} from {source}",
        categories=("News",),
        excerpt=text[:40],
        feature_text=text[:40],
        image=None,
        body=f"<p>{text}</p>",
        date=MORNING + timedelta(hours=hours),
        source=source.title(),
        source_url=f"https://{source}.example/",
        canonical_url=f"https://{source}.example/{n}",
        id=story_id(source, guid),
    )
    return guid, article, Fingerprint.of(article.title, text)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'aggregator.db'}"
    else:
        yield from postgresql_database()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        opened.sync_sources(
            [Source(id=s, url=f"https://{s}.example/rss", name=s, home="") for s in SOURCES]
        )
        yield opened


def save(store: Store, source: str, n: int, text: str, hours: float) -> SaveResult:
    return store.save_articles(source, [told(source, n, text, hours)], NOW, FoldPolicy())


def by_guid(store: Store) -> dict[str, StoredArticle]:
    return {stored.guid: stored for stored in store.articles()}


@pytest.mark.parametrize("roads_first", [False, True])
def test_an_article_telling_two_stories_merges_them_into_the_earlier(
    store: Store, roads_first: bool
) -> None:
    flood_hours, roads_hours = (1.0, 0.5) if roads_first else (0.5, 1.0)
    assert save(store, "alpha", 1, FLOOD, flood_hours) == SaveResult(inserted=1)
    assert save(store, "beta", 1, ROADS, roads_hours) == SaveResult(inserted=1)
    assert save(store, "gamma", 1, f"{FLOOD} {ROADS}", 2.0) == SaveResult(folded=1)

    stored = by_guid(store)
    earlier, later = ("beta-1", "alpha-1") if roads_first else ("alpha-1", "beta-1")
    into = stored[earlier].article.id
    assert {s.story_id for s in stored.values()} == {into}
    assert store.story_count() == 1
    absorbed = stored[later]
    assert absorbed.fold_rule == "merged"
    assert absorbed.fold_match == stored["gamma-1"].article.id
    assert absorbed.fold_evidence and "n-grams" in absorbed.fold_evidence
    assert stored[earlier].fold_rule is None
    assert store.merged_since(0) == [absorbed.article.id]

    # The absorbed story's keys and postings went with it: another outlet's copy found by
    # the absorbed founder's URL joins the merged story, and no posting names it.
    guid, article, fingerprint = told("delta", 1, "An unrelated text.", 3.0)
    same_url = replace(article, canonical_url=absorbed.article.canonical_url)
    store.save_articles("delta", [(guid, same_url, fingerprint)], NOW, FoldPolicy())
    assert by_guid(store)["delta-1"].story_id == into
    with store._engine.connect() as conn:
        named = conn.execute(sql_text("SELECT DISTINCT story_id FROM word_postings")).scalars()
        assert set(named) == {into}
        rows = conn.execute(sql_text("SELECT id FROM stories")).scalars()
        assert list(rows) == [into]


def test_a_newcomer_telling_one_story_merges_nothing(store: Store) -> None:
    save(store, "alpha", 1, FLOOD, 0.5)
    save(store, "beta", 1, ROADS, 1.0)
    assert save(store, "gamma", 1, FLOOD.replace("before dawn", "at dawn"), 2.0) == SaveResult(
        folded=1
    )
    assert store.story_count() == 2
    assert store.merged_since(0) == []


NORTH_FIRE = (
    "A fire at the Harlow paint warehouse in the north district killed 3 workers and "
    "injured 14 others on Tuesday, and 40 firefighters fought the blaze for six hours, the "
    "fire service said."
)
SOUTH_FIRE = (
    "A fire at the Denby timber yard in the south district killed 5 workers and injured 22 "
    "others on Tuesday, and 60 firefighters fought the blaze for nine hours, the fire "
    "service said."
)


def test_a_round_up_of_two_events_merges_nothing(store: Store) -> None:
    """A round-up tells both fires alike, but the two reports give other tolls: they are
    two events, and the round-up joins one of them."""
    save(store, "alpha", 1, NORTH_FIRE, 0.5)
    save(store, "beta", 1, SOUTH_FIRE, 1.0)
    assert store.story_count() == 2
    assert save(store, "gamma", 1, f"{NORTH_FIRE} {SOUTH_FIRE}", 2.0) == SaveResult(folded=1)
    assert store.story_count() == 2
    assert store.merged_since(0) == []


def test_a_story_the_operator_split_is_never_merged(store: Store) -> None:
    save(store, "alpha", 1, FLOOD, 0.5)
    save(store, "beta", 1, ROADS, 1.0)
    save(store, "delta", 1, ROADS.replace("Highway engineers", "Engineers"), 1.5)
    split_off = by_guid(store)["delta-1"].article.id
    assert split_off is not None
    store.split(split_off, NOW)

    save(store, "gamma", 1, f"{FLOOD} {ROADS}", 2.0)
    stored = by_guid(store)
    assert stored["delta-1"].story_id == split_off  # stays on its own
    assert stored["delta-1"].fold_rule == "split"
    assert stored["alpha-1"].story_id == stored["beta-1"].story_id == stored["gamma-1"].story_id


def test_a_merged_founder_split_out_again_is_a_story_once_more(store: Store) -> None:
    save(store, "alpha", 1, FLOOD, 0.5)
    save(store, "beta", 1, ROADS, 1.0)
    save(store, "gamma", 1, f"{FLOOD} {ROADS}", 2.0)
    absorbed = by_guid(store)["beta-1"].article.id
    assert absorbed is not None and store.merged_since(0) == [absorbed]
    assert store.split(absorbed, NOW) == absorbed
    assert store.merged_since(0) == []
    assert store.story(absorbed)[0].fold_rule == "split"


def test_merges_are_forgotten_with_the_articles_retention_removes(store: Store) -> None:
    save(store, "alpha", 1, FLOOD, 0.5)
    save(store, "beta", 1, ROADS, 1.0)
    save(store, "gamma", 1, f"{FLOOD} {ROADS}", 2.0)
    assert store.prune(NOW - timedelta(days=1)) == 0
    assert len(store.merged_since(0)) == 1
    assert store.prune(NOW + timedelta(days=1)) == 3
    assert store.merged_since(0) == []


def _gibberish(rng: random.Random, words: int) -> str:
    """Text of made-up words: no two events share its n-grams."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "do", "pe", "zu", "ha"]
    made = ("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(words))
    return " ".join(made) + "."


def test_writers_merging_at_once_leave_one_story_per_event_and_consistent_rows(
    store_url: str,
) -> None:
    """Two writers save the halves of 12 events and the reports telling both, in other
    orders: every event ends as one story, and the stories, keys and postings agree with
    the articles."""
    rng = random.Random(7)
    events = [(_gibberish(rng, 30), _gibberish(rng, 30)) for _ in range(12)]
    first = [("alpha", n, a, n / 60) for n, (a, _) in enumerate(events)]
    first += [("gamma", n, f"{a} {b}", 1 + n / 60) for n, (a, b) in enumerate(events)]
    second = [("beta", n, b, 0.5 + n / 60) for n, (_, b) in enumerate(events)][::-1]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(items: list[tuple[str, int, str, float]]) -> None:
        try:
            with Store.open(store_url) as opened:
                barrier.wait(timeout=30)
                for source, n, text, hours in items:
                    opened.save_articles(source, [told(source, n, text, hours)], NOW, FoldPolicy())
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(items,)) for items in (first, second)]
    with Store.open(store_url) as opened:  # migrated before the writers race
        opened.sync_sources(
            [Source(id=s, url=f"https://{s}.example/rss", name=s, home="") for s in SOURCES]
        )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store.open(store_url) as opened:
        stored = by_guid(opened)
        for n in range(len(events)):
            told_by = {stored[f"{source}-{n}"].story_id for source in ("alpha", "beta", "gamma")}
            assert len(told_by) == 1, n
        assert opened.story_count() == len(events)
        with opened._engine.connect() as conn:
            for query in (
                "SELECT COUNT(*) FROM stories WHERE id NOT IN (SELECT story_id FROM articles)",
                "SELECT COUNT(*) FROM story_keys WHERE story_id NOT IN (SELECT id FROM stories)",
                "SELECT COUNT(*) FROM word_postings JOIN articles "
                "ON articles.id = word_postings.article_id "
                "WHERE word_postings.story_id <> articles.story_id",
            ):
                assert conn.execute(sql_text(query)).scalar_one() == 0, query


def test_explain_says_which_article_merged_the_story(store: Store, tmp_path: Path) -> None:
    save(store, "alpha", 1, FLOOD, 0.5)
    save(store, "beta", 1, ROADS, 1.0)
    save(store, "gamma", 1, f"{FLOOD} {ROADS}", 2.0)
    settings = parse_config(
        "storage: sqlite:///unused.db\nsources:\n"
        + "".join(f"  - {{id: {s}, url: 'https://{s}.example/rss'}}\n" for s in SOURCES),
        base_dir=tmp_path,
    )
    stored = by_guid(store)
    lines = "\n".join(explain_lines(settings, store, stored["beta-1"].article.id or ""))
    assert f"its story was merged in: {stored['gamma-1'].article.id} told both" in lines
    assert "signals: by similarity to" in lines


CONFIG = """\
site: {{title: T, link: 'https://news.example/', timezone: UTC}}
storage: sqlite:///{db}
output: {{dir: public, posts_dir: _posts}}
sources:
  - {{id: alpha, url: 'https://alpha.example/rss'}}
  - {{id: beta, url: 'https://beta.example/rss'}}
  - {{id: gamma, url: 'https://gamma.example/rss'}}
  - {{id: delta, url: 'https://delta.example/rss'}}
"""


@pytest.mark.parametrize("complete", [False, True])
def test_a_publish_removes_the_post_of_a_merged_story(tmp_path: Path, complete: bool) -> None:
    settings = parse_config(CONFIG.format(db=tmp_path / "db.sqlite"), base_dir=tmp_path)
    posts_dir = settings.output.posts_dir
    assert posts_dir is not None
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        save(store, "alpha", 1, FLOOD, 0.5)
        save(store, "beta", 1, ROADS, 1.0)
        first = pipeline.publish_all(settings, store, NOW)
        assert first.posts_written == 2
        before = sorted(path.name for path in posts_dir.glob("*.md"))

        save(store, "gamma", 1, f"{FLOOD} {ROADS}", 2.0)
        if complete:  # a ledger written for another time zone: every post is named afresh
            settings = parse_config(
                CONFIG.format(db=tmp_path / "db.sqlite").replace("UTC", "Asia/Seoul"),
                base_dir=tmp_path,
            )
        result = pipeline.publish_all(settings, store, NOW)
        after = sorted(path.name for path in posts_dir.glob("*.md"))
    assert len(after) == 1
    assert result.posts_removed == 1
    if not complete:
        assert after[0] in before  # the earlier story keeps its post's name
