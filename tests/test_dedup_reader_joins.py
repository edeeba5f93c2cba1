"""``dedup.reader`` joining: a report written apart that the rules came close to folding
(its closest telling of another story scored from ``dedup.reader.joins_from`` as one
event, under ``dedup.event_score``) is read after the pass beside that telling, and
joins its story when the reader reads one event; the story's kept article never changes
by a reading. Over a real chat completions endpoint on 127.0.0.1, and on the store in a
SQLite file and in PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text as sql_text

from aggregator.config import parse_config
from aggregator.dedup import Fingerprint
from aggregator.fold_reading import read_folds
from aggregator.model import Article, Reading, Source, story_id
from aggregator.store import Store, story_index
from aggregator.store.story_merge import READ_SAME
from tests import test_same_event, test_story_merge
from tests.cli import run_cli
from tests.feedserver import FeedServer
from tests.readerserver import ReaderServer, running_reader
from tests.test_dedup_reader import items, paused_service, reader_section, service_settings
from tests.test_dedup_review import Told, fetched
from tests.test_same_event import FIRE_A, FIRE_B

#: A store in a SQLite file, and one in PostgreSQL.
store_url = test_story_merge.store_url

#: The Port Alder fire, told a third time, later and apart: it names the town only, and
#: none of the figures, so the rules weigh it near the others (0.63 beside the first
#: report) but under ``dedup.event_score``.
FIRE_C: Told = (
    "ledger",
    "fire-c",
    "Smoke over the bay as factory burns",
    "Flames tore through a solvent store at a factory on the edge of Port Alder on "
    "Tuesday morning. Neighbours described a column of black smoke visible across the "
    "bay, and the council advised people nearby to stay indoors while crews worked.",
    datetime(2026, 3, 3, 17, 40, tzinfo=UTC),
)
OUTLETS = {"harbor": [FIRE_A], "meridian": [FIRE_B], "ledger": [FIRE_C]}
FIRE_A_ID, FIRE_C_ID = story_id("harbor", "fire-a"), story_id("ledger", "fire-c")
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
JOINS = story_index.FoldPolicy(joins_from=0.35)


def same_event(body: dict[str, Any]) -> str:
    return '{"same_event": true, "reason": "the Port Alder plant fire"}'


def the_smoke_apart(body: dict[str, Any]) -> str:
    """A reader that reads the third report as another event than the one it came
    closest to, and the fold of the first two as one."""
    if "column of black smoke" in body["messages"][-1]["content"]:
        return '{"same_event": false, "reason": "a factory, not the chemical plant"}'
    return same_event(body)


def test_a_report_the_rules_left_apart_joins_the_story_the_reader_reads_it_in(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    with running_reader(ReaderServer(reply=same_event)) as reader:
        config = fetched(tmp_path, feed_server, OUTLETS, reader_section(reader.url))

        # The fold of the first two, then the near miss, beside the telling it came
        # closest to: the story's first report, as report A.
        assert len(reader.requests) == 2
        near = reader.user_texts()[1]
        assert near.index(FIRE_A[2]) < near.index("<report B>") < near.index(FIRE_C[2])
        assert [item["title"] for item in items(config)] == [FIRE_A[2]]
        explained = run_cli(config, "dedup", "explain", FIRE_C_ID).stdout
        assert f"joined by the reader, as the same event as {FIRE_A_ID}" in explained
        assert f"the reader read one event with {FIRE_A_ID}: the Port Alder plant fire" in (
            explained
        )
        assert "event score 0." in explained  # the rules' signals beside the reading
        review = run_cli(config, "dedup", "review").stdout
        joined = review.split("reports the reader joined to a story: ")[1]
        assert joined.startswith("1 (the lowest score first)\n")
        assert f"  {FIRE_C_ID}  Ledger: {FIRE_C[2]}\n" in joined
        assert f"        joined: {FIRE_A_ID}  Harbor: {FIRE_A[2]}\n" in joined

        # A later pass asks nothing again and keeps it joined.
        again = run_cli(config, "fetch", "--all")
        assert again.returncode == 0, again.stderr
        assert len(reader.requests) == 2 and len(items(config)) == 1

        # The operator overrules the reader: split out, it stays apart, and is not asked.
        assert run_cli(config, "dedup", "split", FIRE_C_ID).returncode == 0
        assert len(items(config)) == 2
        assert run_cli(config, "fetch", "--all").returncode == 0
        assert len(reader.requests) == 2 and len(items(config)) == 2


def test_the_service_publishes_after_the_reader_joined_a_report(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    with running_reader(ReaderServer(reply=same_event)) as reader:
        section = reader_section(reader.url, ", joins_from: 0.35")
        settings = service_settings(tmp_path, feed_server, OUTLETS, section)

        async def passes() -> None:
            with Store.open(settings.storage) as store:
                store.sync_sources(settings.sources)
                async with paused_service(settings, store) as service:
                    harbor, _, ledger = settings.sources
                    for source in (harbor, ledger):
                        await service._pass(source, store.state(source.id))
                        service.scheduler.remove_job("publish")
                    assert service._reading is not None
                    await service._reading
                    assert len(reader.requests) == 1  # the near miss
                    joined = store.article(FIRE_C_ID)
                    assert joined is not None and joined.story_id == FIRE_A_ID
                    assert service.scheduler.get_job("publish") is not None  # for the join

        asyncio.run(passes())


def test_a_near_miss_read_as_another_event_stays_apart_and_is_asked_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    with running_reader(ReaderServer(reply=the_smoke_apart)) as reader:
        config = fetched(tmp_path, feed_server, OUTLETS, reader_section(reader.url))
        assert len(reader.requests) == 2
        assert sorted(item["title"] for item in items(config)) == sorted([FIRE_A[2], FIRE_C[2]])
        explained = run_cli(config, "dedup", "explain", FIRE_C_ID).stdout
        assert "founded the story" in explained
        assert (
            f"read beside {FIRE_A_ID} (the closest telling the rules left apart) by "
            "test-model as another event, left apart: a factory, not the chemical plant"
        ) in explained
        again = run_cli(config, "fetch", "--all")
        assert again.returncode == 0, again.stderr
        assert len(reader.requests) == 2


def test_a_reader_that_only_splits_reads_no_near_miss(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    with running_reader(ReaderServer(reply=same_event)) as reader:
        section = reader_section(reader.url, ", joins_from: 1")
        config = fetched(tmp_path, feed_server, OUTLETS, section)
        assert len(reader.requests) == 1  # the fold of the first two only
        assert len(items(config)) == 2


def told(source: str, guid: str, title: str, body: str, date: datetime) -> Any:
    article = Article(
        title=title,
        categories=("News",),
        excerpt=body[:40],
        feature_text=body[:40],
        image=None,
        body=f"<p>{body}</p>",
        date=date,
        source=source.title(),
        source_url=f"https://{source}.example/",
        canonical_url=f"https://{source}.example/{guid}",
        id=story_id(source, guid),
    )
    return guid, article, Fingerprint.of(title, body)


def save(store: Store, report: Told, policy: story_index.FoldPolicy = JOINS) -> None:
    store.save_articles(report[0], [told(*report)], NOW, policy)


def near_misses(store: Store) -> list[tuple[str, str]]:
    with store._engine.connect() as conn:
        query = sql_text("SELECT article_id, match_id FROM near_misses ORDER BY article_id")
        return [(row[0], row[1]) for row in conn.execute(query)]


def opened(url: str) -> Store:
    store = Store.open(url)
    sources = ("harbor", "meridian", "ledger", "wire")
    store.sync_sources(
        [Source(id=s, url=f"https://{s}.example/rss", name=s, home="") for s in sources]
    )
    return store


def test_a_near_miss_is_kept_only_with_a_reader_that_joins(tmp_path: Path) -> None:
    with opened(f"sqlite:///{tmp_path / 'rules.db'}") as store:
        save(store, FIRE_A, story_index.FoldPolicy())
        save(store, FIRE_C, story_index.FoldPolicy())
        assert near_misses(store) == []
    with opened(f"sqlite:///{tmp_path / 'reader.db'}") as store:
        save(store, FIRE_A)
        save(store, FIRE_C)
        # Kept with its closest telling: the outcome of the rules is the same.
        assert near_misses(store) == [(FIRE_C_ID, FIRE_A_ID)]
        assert store.article(FIRE_C_ID).story_id == FIRE_C_ID  # type: ignore[union-attr]


def test_keeping_near_misses_changes_nothing_the_rules_decide(tmp_path: Path) -> None:
    """Weighed down to ``joins_from`` and further apart in the same look-up, the
    articles fold as the rules alone fold them; the look-alikes that came close are kept
    as near misses, for the reader to read."""
    with Store.open(f"sqlite:///{tmp_path / 'a.db'}") as store:
        store.sync_sources(test_same_event.SOURCE_LIST)
        for source, guid, title, body, date in itertools.chain(*test_same_event.EVENTS.values()):
            entry = test_same_event.article(source, guid, title, body, date)
            fingerprint = Fingerprint.of(title, body)
            store.save_articles(source, [(guid, entry, fingerprint)], NOW, JOINS)
        assert test_same_event.groups(store) == test_same_event.WANTED
        assert near_misses(store)  # look-alikes the rules came close to folding


def test_a_reading_of_one_event_joins_the_report_in_the_same_transaction(
    store_url: str,
) -> None:
    """In a SQLite file and in PostgreSQL."""
    with opened(store_url) as store:
        save(store, FIRE_A)
        save(store, FIRE_C)
        since = NOW - timedelta(days=2)
        ((near, match),) = store.unread_near_misses(since, 10)
        assert (near.article.id, match) == (FIRE_C_ID, FIRE_A_ID)
        assert store.unread_near_misses(NOW + timedelta(seconds=1), 10) == []

        reading = Reading(FIRE_C_ID, FIRE_A_ID, True, "one fire", "m", NOW)
        assert store.record_near_reading(reading) == FIRE_A_ID
        joined = store.article(FIRE_C_ID)
        assert joined is not None and joined.story_id == FIRE_A_ID
        assert (joined.fold_rule, joined.fold_match) == (READ_SAME, FIRE_A_ID)
        assert [m.article.id for m in store.story(FIRE_A_ID)] == [FIRE_A_ID, FIRE_C_ID]
        assert store.merged_since(0) == [FIRE_C_ID]  # its own item is taken down
        assert store.reading(FIRE_C_ID) == reading
        assert store.unread_near_misses(since, 10) == []
        # Read once: a second answer changes nothing.
        assert store.record_near_reading(reading) is None

        # Retention takes the near miss with the article.
        assert store.prune(NOW + timedelta(days=3650)) == 2
        assert near_misses(store) == []


def test_a_reading_joins_nothing_once_the_report_is_not_alone(store_url: str) -> None:
    """In a SQLite file and in PostgreSQL."""
    with opened(store_url) as store:
        save(store, FIRE_A)
        save(store, FIRE_C)
        # A copy of the report joined its story by its text: it is no longer alone, and
        # is not read as a near miss.
        copy = ("wire", "fire-c-copy", FIRE_C[2], FIRE_C[3], FIRE_C[4] + timedelta(minutes=5))
        save(store, copy)
        copy_id = story_id("wire", "fire-c-copy")
        assert store.article(copy_id).story_id == FIRE_C_ID  # type: ignore[union-attr]
        assert store.unread_near_misses(NOW - timedelta(days=2), 10) == []
        reading = Reading(FIRE_C_ID, FIRE_A_ID, True, "one fire", "m", NOW)
        assert store.record_near_reading(reading) is None
        assert store.article(FIRE_C_ID).story_id == FIRE_C_ID  # type: ignore[union-attr]


def test_a_reading_never_makes_a_report_the_story_s_kept_article(store_url: str) -> None:
    """Published the same minute as the story's first report, a report joined could be
    the story's kept article (ties go to the sources' order): a reading joins it to no
    story it is not dated after. In a SQLite file and in PostgreSQL."""
    with opened(store_url) as store:
        save(store, FIRE_A)
        save(store, (*FIRE_C[:4], FIRE_A[4]))
        ((near, match),) = store.unread_near_misses(NOW - timedelta(days=2), 10)
        reading = Reading(near.article.id or "", match, True, "one fire", "m", NOW)
        assert store.record_near_reading(reading) is None
        assert {store.article(i).story_id for i in (FIRE_A_ID, FIRE_C_ID)} == {  # type: ignore[union-attr]
            FIRE_A_ID,
            FIRE_C_ID,
        }
        assert store.reading(reading.article_id) == reading  # kept, and not asked again
        assert store.unread_near_misses(NOW - timedelta(days=2), 10) == []


def test_near_misses_take_half_of_a_pass_s_readings_when_folds_wait_too(
    tmp_path: Path,
) -> None:
    with opened(f"sqlite:///{tmp_path / 'a.db'}") as store:
        for report in (FIRE_A, FIRE_B, FIRE_C):
            save(store, report)
        for n, told in enumerate((test_same_event.OUTBREAK_A, test_same_event.OUTBREAK_B)):
            save(store, (("harbor", "meridian")[n], *told[1:]))
        since = NOW - timedelta(days=2)
        assert len(store.unread_folds(since, 10)) == 2  # the fire's and the outbreak's
        assert len(store.unread_near_misses(since, 10)) == 1

        def clock() -> datetime:
            return NOW

        with running_reader(ReaderServer(reply=same_event)) as reader:
            settings = parse_config(
                "sources: [{id: harbor, url: 'https://harbor.example/rss'}]\n"
                + reader_section(reader.url, ", most_per_pass: 2"),
                base_dir=tmp_path,
            )
            done = asyncio.run(read_folds(settings, store, clock))
            # One fold and the near miss, not the two folds first.
            assert (done.read, done.joined) == (2, 1)
            assert any(FIRE_C[2] in text for text in reader.user_texts())
            assert len(store.unread_folds(since, 10)) == 1
            assert asyncio.run(read_folds(settings, store, clock)).read == 1


def test_a_reader_that_fails_a_known_question_is_not_asked_that_kind(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Checked by questions whose answers are known: a reader that reads everything as
    one event is not asked to join (it would join look-alikes), and one that reads
    everything as two events is not asked to split (it would split every fold)."""
    yes = ReaderServer(reply=same_event, answers_controls=False)
    with running_reader(yes) as reader:
        config = fetched(tmp_path, feed_server, OUTLETS, reader_section(reader.url))
        assert len(reader.requests) == 5  # the four known questions, then the fold
        assert sorted(item["title"] for item in items(config)) == sorted([FIRE_A[2], FIRE_C[2]])
        again = run_cli(config, "fetch", "--all")
        assert "read two fires in one town as one event: it is not asked to join" in again.stderr
        assert len(reader.requests) == 9  # asked again by this process, and nothing else

    def two_events(body: dict[str, Any]) -> str:
        return '{"same_event": false, "reason": "two"}'

    no = ReaderServer(reply=two_events, answers_controls=False)
    (tmp_path / "no").mkdir()
    with running_reader(no) as reader:
        config = fetched(tmp_path / "no", feed_server, OUTLETS, reader_section(reader.url))
        assert len(reader.requests) == 5  # the four known questions, then the near miss
        assert FIRE_C[2] in reader.user_texts()[4]
        assert len(items(config)) == 2  # the fold of the first two stands
        again = run_cli(config, "fetch", "--all")
        assert "read one fire told twice as two events: it is not asked to split" in (again.stderr)
