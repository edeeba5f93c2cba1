"""Tests of the store against real SQLite files: migrations, dedup rules, ordering, round
trips, fetch state, change numbers, errors and concurrent writers."""

from __future__ import annotations

import io
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from aggregator import words
from aggregator.dedup import Fingerprint
from aggregator.errors import StoreError
from aggregator.model import Article, Mention, Source, SourceState, Validators, story_id
from aggregator.store import FetchRecord, SaveResult, Store, retention, settling, story_index
from aggregator.store.codec import encode_article
from aggregator.store.migrate import alembic_config, head_revision
from aggregator.store.schema import metadata
from aggregator.store.store import WRITE_BATCH
from aggregator.store.story_index import FoldPolicy

KST = timezone(timedelta(hours=9))
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_article(n: int, *, source_id: str = "alpha", **changes: object) -> Article:
    article = Article(
        title=f"Story {n}",
        categories=("News",),
        excerpt=f"Excerpt {n}.",
        feature_text=f"## Alpha\nExcerpt {n}.",
        image=f"https://alpha.example/img/{n}.jpg",
        body=f"<p>Body {n}</p>",
        date=datetime(2025, 3, 1, 9, n % 60, tzinfo=KST),
        source="Alpha",
        source_url="https://alpha.example/",
        canonical_url=f"https://alpha.example/news/{n}",
        id=story_id(source_id, f"guid-{n}"),
    )
    return replace(article, **changes)  # type: ignore[arg-type]


def entry(n: int, *, source_id: str = "alpha", **changes: object) -> tuple[str, Article]:
    return f"guid-{n}", make_article(n, source_id=source_id, **changes)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'aggregator.db'}"


def postgresql_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server at 127.0.0.1:5432, dropped afterwards."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need psycopg (pip install -e '.[dev]')")
    admin = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    name = f"aggregator_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"no PostgreSQL server at 127.0.0.1:5432: {error.orig}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, db_url: str) -> Iterator[str]:
    """Each store test runs on a SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        yield db_url
    else:
        yield from postgresql_database()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        opened.sync_sources(
            [
                Source(id="alpha", url="https://alpha.example/rss", name="Alpha", home="x"),
                Source(id="beta", url="https://beta.example/rss", name="Beta", home="x"),
            ]
        )
        yield opened


def raw(db_url: str) -> sqlite3.Connection:
    return sqlite3.connect(db_url.removeprefix("sqlite:///"))


# -- opening and migrating ----------------------------------------------------------------------


def test_open_creates_the_file_and_migrates_to_head(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "aggregator.db"
    with Store.open(f"sqlite:///{path}"):
        pass
    assert path.is_file()
    with sqlite3.connect(path) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version == head_revision()
    assert {"sources", "articles", "counters", "alembic_version"} <= tables


def test_reopening_is_idempotent_and_keeps_data(db_url: str) -> None:
    with Store.open(db_url) as first:
        first.save_articles("alpha", [entry(1)], NOW)
    with Store.open(db_url) as second, Store.open(db_url) as third:
        assert [a.guid for a in second.articles()] == ["guid-1"]
        assert third.last_seq() == 1
    with raw(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_schema_objects_match_the_migration(store: Store, db_url: str) -> None:
    with store._engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_the_migration_renders_for_postgresql() -> None:
    # Offline mode needs no server or driver: it checks the DDL is not SQLite-only.
    config = alembic_config()
    config.output_buffer = io.StringIO()
    config.set_main_option("sqlalchemy.url", "postgresql://aggregator@localhost/news")
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    assert "created_at TIMESTAMP WITH TIME ZONE NOT NULL" in sql
    assert (
        "CREATE UNIQUE INDEX ix_articles_canonical_url ON articles (canonical_url) "
        "WHERE canonical_url IS NOT NULL"
    ) in sql


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db_url: str) -> None:
    store = Store.open(db_url)
    with raw(db_url) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with store._engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert conn.execute(text("PRAGMA temp_store")).scalar() == 2  # MEMORY
    store.close()


def test_a_directory_as_database_file_raises_store_error(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(f"sqlite:///{tmp_path / 'db'}")


def test_a_file_that_is_not_a_database_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database, just text " * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(f"sqlite:///{path}")


@pytest.mark.parametrize("url", ["not a url", "mysql://localhost/db"])
def test_bad_urls_raise_store_error(url: str) -> None:
    with pytest.raises(StoreError, match="storage"):
        Store.open(url)


def test_a_database_from_a_newer_version_is_refused(db_url: str) -> None:
    with Store.open(db_url):
        pass
    with raw(db_url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="'9999'"):
        Store.open(db_url)


def test_a_closed_store_refuses_work(db_url: str) -> None:
    store = Store.open(db_url)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.articles()


# -- saving and deduplicating -------------------------------------------------------------------


def test_the_same_entry_twice_is_stored_once(store: Store) -> None:
    assert store.save_articles("alpha", [entry(1)], NOW) == SaveResult(inserted=1)
    later = NOW + timedelta(hours=1)
    result = store.save_articles("alpha", [entry(1)], later)
    assert result == SaveResult(unchanged=1)
    assert not result.changed
    assert len(store.articles()) == 1


def test_a_changed_entry_is_updated_in_place(store: Store) -> None:
    store.save_articles("alpha", [entry(1)], NOW)
    before = store.articles()[0]
    later = NOW + timedelta(hours=1)
    result = store.save_articles("alpha", [entry(1, title="Story 1, corrected")], later)
    assert result == SaveResult(updated=1)
    assert result.changed
    [after] = store.articles()
    assert after.article.title == "Story 1, corrected"
    assert after.article.id == before.article.id
    assert after.first_seen == before.first_seen == NOW
    assert after.seq > before.seq


def test_an_update_keeps_the_stored_id(store: Store) -> None:
    store.save_articles("alpha", [entry(1)], NOW)
    store.save_articles("alpha", [entry(1, title="New", id="other-id")], NOW)
    [stored] = store.articles()
    assert stored.article.id == story_id("alpha", "guid-1")
    assert store.article("other-id") is None


def test_the_same_canonical_url_from_another_source_joins_its_story(store: Store) -> None:
    store.save_articles("alpha", [entry(1)], NOW)
    copy = make_article(1, id="beta-1", source_id="beta", source="Beta", title="Same, reworded")
    result = store.save_articles("beta", [("beta-guid", copy)], NOW)
    assert result == SaveResult(folded=1)
    founder = store.article(story_id("alpha", "guid-1"))
    assert founder is not None
    member = store.article("beta-1")
    assert member is not None and member.story_id == founder.story_id == founder.article.id
    assert (member.fold_rule, member.fold_match) == ("canonical_url", founder.article.id)
    assert store.state("beta").article_count == 1


def test_duplicates_inside_one_batch_are_stored_once(store: Store) -> None:
    same_guid = entry(1, title="Second copy")
    same_url = ("guid-other", make_article(1, id="other-id", title="Third copy"))
    result = store.save_articles("alpha", [entry(1), same_guid, same_url, entry(2)], NOW)
    assert result == SaveResult(inserted=2, duplicates=1, folded=1)
    stories = {a.story_id for a in store.articles()}
    assert len(stories) == 2


def test_articles_without_canonical_url_are_told_apart_by_guid(store: Store) -> None:
    batch = [entry(1, canonical_url=None), entry(2, canonical_url=None)]
    assert store.save_articles("alpha", batch, NOW) == SaveResult(inserted=2)


def test_a_missing_article_id_becomes_the_story_id(store: Store) -> None:
    store.save_articles("alpha", [entry(1, id=None)], NOW)
    stored = store.article(story_id("alpha", "guid-1"))
    assert stored is not None
    assert stored.article.id == story_id("alpha", "guid-1")


def test_an_update_never_moves_an_entry_to_another_story(store: Store) -> None:
    store.save_articles("alpha", [entry(1), entry(2)], NOW)
    moved = entry(2, canonical_url="https://alpha.example/news/1", title="Moved")
    assert store.save_articles("alpha", [moved], NOW) == SaveResult(updated=1)
    assert [a.article.title for a in store.articles()] == ["Moved", "Story 1"]
    assert len({a.story_id for a in store.articles()}) == 2
    # The first story still owns its URL: a third copy joins it.
    third = ("guid-3", make_article(3, canonical_url="https://alpha.example/news/1"))
    assert store.save_articles("alpha", [third], NOW) == SaveResult(folded=1)
    joined = next(a for a in store.articles() if a.guid == "guid-3")
    assert joined.story_id == next(a for a in store.articles() if a.guid == "guid-1").story_id


def test_saving_for_an_unsynced_source_creates_its_row(store: Store) -> None:
    store.save_articles("gamma", [entry(7, source_id="gamma")], NOW)
    assert store.state("gamma").article_count == 1


# -- reading ------------------------------------------------------------------------------------


def test_articles_are_newest_first_with_undated_last(store: Store) -> None:
    base = datetime(2025, 3, 1, tzinfo=UTC)
    store.save_articles(
        "alpha",
        [
            entry(1, date=base),
            entry(2, date=None),
            entry(3, date=base + timedelta(hours=2)),
            # Earlier instant written with a later wall-clock time: instants decide.
            entry(4, date=(base + timedelta(hours=1)).astimezone(KST)),
            entry(5, date=None),
        ],
        NOW,
    )
    store.save_articles("beta", [entry(6, source_id="beta", date=base, canonical_url=None)], NOW)
    titles = [a.article.title for a in store.articles()]
    assert titles == ["Story 3", "Story 4", "Story 6", "Story 1", "Story 5", "Story 2"]
    assert [a.article.title for a in store.articles(limit=2)] == ["Story 3", "Story 4"]
    assert [a.source_id for a in store.articles(source_ids=["beta"])] == ["beta"]
    assert store.articles(source_ids=[]) == []


def test_an_article_round_trips_unchanged(store: Store) -> None:
    article = Article(
        title='속보: "인공지능" 규제 # 첫 --- 회의',
        categories=("News", "AI"),
        excerpt="정부가 인공지능 기본법 시행령을 발표했다.\n두 번째 줄.",
        feature_text="## 뉴스다오 실시간 뉴스 속보입니다.\n정부가…",
        image="https://newsdao.kr/res/images/meta/newsdao_breakingnews.jpg",
        body='<p><img src="https://x.example/a.jpg" alt="속보" /></p><p>본문 &amp; 끝</p>',
        date=datetime(2025, 2, 28, 23, 15, 30, 123456, tzinfo=KST),
        source="뉴스다오",
        source_url="https://newsdao.kr",
        canonical_url="https://newsdao.kr/news/1234",
        id=story_id("alpha", "https://newsdao.kr/news/1234"),
        author="홍길동",
        tags=("인공지능", "규제"),
        also_reported_by=(
            Mention(source="연합뉴스", link="https://yna.example/1"),
            Mention(source="KBS", link="https://kbs.example/2"),
        ),
    )
    store.save_articles("alpha", [("https://newsdao.kr/news/1234", article)], NOW)
    stored = store.article(article.id or "")
    assert stored is not None
    assert stored.article == article
    assert stored.article.date is not None and stored.article.date.utcoffset() == timedelta(hours=9)
    assert stored.source_id == "alpha"
    assert stored.guid == "https://newsdao.kr/news/1234"
    assert stored.first_seen == NOW
    assert stored.first_seen.tzinfo is not None
    assert store.article("no-such-id") is None


# -- fetch state --------------------------------------------------------------------------------


def test_an_unknown_source_has_an_empty_state(store: Store) -> None:
    assert store.state("nobody") == SourceState(source_id="nobody")


def test_record_fetch_state_transitions(store: Store) -> None:
    t0 = datetime(2025, 3, 1, 9, 0, tzinfo=KST)
    due = t0 + timedelta(minutes=15)
    store.record_fetch(
        "alpha",
        at=t0,
        status="ok",
        validators=Validators(etag='"v1"', last_modified="Sat, 01 Mar 2025 00:00:00 GMT"),
        error=None,
        next_due=due,
    )
    state = store.state("alpha")
    assert state.validators == Validators('"v1"', "Sat, 01 Mar 2025 00:00:00 GMT")
    assert state.last_fetch == state.last_success == t0
    assert state.last_fetch is not None and state.last_fetch.tzinfo == UTC
    assert state.next_due == due
    assert (state.last_status, state.error_count, state.last_error) == ("ok", 0, None)

    t1, t2 = t0 + timedelta(minutes=15), t0 + timedelta(minutes=30)
    for at in (t1, t2):
        store.record_fetch(
            "alpha",
            at=at,
            status="error",
            validators=None,
            error="timed out after 20s",
            next_due=None,
        )
    state = store.state("alpha")
    assert (state.error_count, state.last_error, state.last_status) == (
        2,
        "timed out after 20s",
        "error",
    )
    assert state.validators.etag == '"v1"'
    assert state.last_fetch == t2
    assert state.last_success == t0
    assert state.next_due is None

    t3 = t0 + timedelta(hours=1)
    store.record_fetch(
        "alpha", at=t3, status="not_modified", validators=None, error=None, next_due=None
    )
    state = store.state("alpha")
    assert (state.error_count, state.last_error, state.last_status) == (0, None, "not_modified")
    assert state.last_success == t3
    assert state.validators.etag == '"v1"'

    # An empty Validators() forgets them (a body that did not parse is refetched in full).
    store.record_fetch(
        "alpha", at=t3, status="error", validators=Validators(), error="bad", next_due=None
    )
    assert store.state("alpha").validators == Validators()

    store.record_fetch(
        "alpha", at=t3, status="ok", validators=Validators(), error=None, next_due=None
    )
    assert store.state("alpha").validators == Validators()


def test_sync_sources_keeps_state_and_articles(store: Store) -> None:
    store.save_articles("alpha", [entry(1)], NOW)
    store.record_fetch("alpha", at=NOW, status="error", validators=None, error="x", next_due=None)
    # Same url as the fixture configured: the state stays.
    store.sync_sources([Source(id="alpha", url="https://alpha.example/rss", name="A", home="x")])
    states = store.states()
    assert set(states) == {"alpha", "beta"}
    assert states["alpha"].error_count == 1
    assert states["alpha"].article_count == 1
    assert states["beta"].article_count == 0


def test_a_source_whose_url_changed_starts_afresh(store: Store) -> None:
    store.save_articles("alpha", [entry(1)], NOW)
    store.record_fetch(
        "alpha",
        at=NOW,
        status="error",
        validators=None,
        error="HTTP 410 Gone",
        next_due=None,
        next_reason="disabled",
        http_status=410,
        moved_to="https://alpha.example/moved",
        disabled="gone (HTTP 410)",
    )
    gone = store.state("alpha")
    assert gone.disabled == "gone (HTTP 410)" and gone.moved_to == "https://alpha.example/moved"
    assert gone.http_status == 410 and gone.next_reason == "disabled"
    store.sync_sources([Source(id="alpha", url="https://alpha.example/v2", name="A", home="x")])
    fresh = store.state("alpha")
    assert fresh.disabled is None and fresh.moved_to is None and fresh.error_count == 0
    assert fresh.validators == Validators() and fresh.next_due is None
    assert fresh.article_count == 1


def test_an_unknown_status_is_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        store.record_fetch(
            "alpha", at=NOW, status="odd", validators=None, error=None, next_due=None
        )


# -- change numbers -----------------------------------------------------------------------------


def test_changed_since_and_last_seq(store: Store) -> None:
    assert store.last_seq() == 0
    assert not store.changed_since(0)
    store.save_articles("alpha", [entry(1), entry(2)], NOW)
    seen = store.last_seq()
    assert seen == 2
    assert store.changed_since(0)
    assert not store.changed_since(seen)
    store.save_articles("alpha", [entry(1), entry(2)], NOW)
    assert not store.changed_since(seen)
    store.save_articles("alpha", [entry(1, title="Edited")], NOW)
    assert store.changed_since(seen)
    assert store.last_seq() > seen


# -- concurrency --------------------------------------------------------------------------------


def test_two_stores_writing_the_same_articles_store_each_once(store_url: str) -> None:
    db_url = store_url
    batches = [[entry(n) for n in range(i, i + 10)] for i in range(0, 100, 10)]
    barrier = threading.Barrier(2)
    results: list[SaveResult] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer() -> None:
        try:
            barrier.wait(timeout=30)  # open the new file together: migrations race too
            with Store.open(db_url) as store:
                for batch in batches:
                    result = store.save_articles("alpha", batch, NOW)
                    with lock:
                        results.append(result)
        except BaseException as e:  # surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r.inserted for r in results) == 100
    assert sum(r.unchanged for r in results) == 100
    with Store.open(db_url) as store:
        stored = store.articles()
        assert len(stored) == 100
        assert len({a.article.id for a in stored}) == 100
        # Change numbers may skip where a racing insert lost (PostgreSQL); never repeat.
        assert len({a.seq for a in stored}) == 100 and store.last_seq() >= 100


# -- stories ------------------------------------------------------------------------------------


def fingerprinted(
    n: int, source_id: str, text: str, **changes: object
) -> tuple[str, Article, Fingerprint]:
    article = make_article(
        n, source_id=source_id, canonical_url=f"https://{source_id}.example/{n}", **changes
    )
    return f"guid-{n}", article, Fingerprint.of(article.title, text)


WIRE = (
    "The central bank held its key rate at 3.5 percent on Thursday, citing slowing inflation "
    "and a weaker labour market, and said it would watch prices closely before moving again."
)


def test_a_similar_story_from_another_outlet_joins_and_can_be_split_for_good(store: Store) -> None:
    store.save_articles("alpha", [fingerprinted(1, "alpha", WIRE)], NOW)
    retold = WIRE.replace("on Thursday", "Thursday").replace("closely", "carefully")
    result = store.save_articles("beta", [fingerprinted(1, "beta", retold)], NOW)
    assert result == SaveResult(folded=1)
    founder, member = sorted(store.articles(), key=lambda a: a.source_id)
    assert member.source_id == "beta"
    assert member.story_id == founder.article.id
    assert member.fold_rule == "similarity" and member.fold_match == founder.article.id
    assert member.fold_score is not None and member.fold_score >= 0.7

    new_story = store.split(member.article.id or "", NOW)
    assert new_story == member.article.id
    assert [m.guid for m in store.story(founder.story_id)] == [founder.guid]
    again = store.save_articles("beta", [fingerprinted(1, "beta", retold, title="Edited")], NOW)
    assert again == SaveResult(updated=1)
    split = store.article(member.article.id or "")
    assert split is not None and split.story_id == new_story and split.fold_rule == "split"
    with pytest.raises(StoreError, match="only member"):
        store.split(founder.article.id or "", NOW)


def test_different_figures_keep_template_stories_apart(store: Store) -> None:
    close = "The KOSPI closed at {a} on {day}, {move} {b} points, as foreign investors {verb}."
    monday = close.format(a="2,501.32", day="Monday", move="up", b="12.40", verb="bought")
    tuesday = close.format(a="2,480.15", day="Tuesday", move="down", b="21.17", verb="sold")
    store.save_articles("alpha", [fingerprinted(1, "alpha", monday)], NOW)
    result = store.save_articles("beta", [fingerprinted(2, "beta", tuesday)], NOW)
    assert result == SaveResult(inserted=1)


def test_near_duplicates_can_be_turned_off_and_respect_the_window(store: Store) -> None:
    store.save_articles("alpha", [fingerprinted(1, "alpha", WIRE)], NOW)
    off = FoldPolicy(near_duplicates=False)
    assert (
        store.save_articles("beta", [fingerprinted(1, "beta", WIRE + " More.")], NOW, off).inserted
        == 1
    )
    late = fingerprinted(2, "gamma", WIRE + " Later.", date=NOW + timedelta(days=10))
    assert (
        store.save_articles("gamma", [late], NOW, FoldPolicy(window=timedelta(hours=72))).inserted
        == 1
    )


def test_a_store_from_before_compact_sketches_keeps_folding(tmp_path: Path) -> None:
    # A store at revision 0004 holds hex sketches and text band keys; 0005 converts them,
    # and a retelling saved afterwards still finds the story through the converted index.
    from aggregator.dedup import band_index_keys, band_keys, read_stored_sketch, stored_sketch

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0004")
    guid, article, fingerprint = fingerprinted(1, "alpha", WIRE)
    assert article.id is not None and article.date is not None
    date = article.date.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO sources (id, url, name, created_at) VALUES ('alpha', '', 'a', :d)"),
            {"d": date},
        )
        conn.execute(
            text(
                "INSERT INTO articles (id, seq, source_id, guid, content_hash, title, date, "
                "first_seen, updated_at, data, story_id, text_hash, signature, figures) VALUES "
                "(:id, 1, 'alpha', :guid, 'x', :title, :d, :d, :d, :data, :id, :th, :sig, '')"
            ),
            {
                "id": article.id,
                "guid": guid,
                "title": article.title,
                "d": date,
                "data": encode_article(article),
                "th": fingerprint.content_hash,
                "sig": fingerprint.encode_signature(),
            },
        )
        conn.execute(
            text("INSERT INTO bands (band, article_id, date) VALUES (:band, :id, :d)"),
            [
                {"band": key, "id": article.id, "d": date}
                for key in band_keys(fingerprint.signature)
            ],
        )
        conn.execute(text("UPDATE counters SET value = 1 WHERE name = 'seq'"))
    engine.dispose()

    with Store.open(url) as store:
        # 0007 counted the article already stored.
        assert store.state("alpha").article_count == 1
        retold = WIRE.replace("on Thursday", "Thursday").replace("closely", "carefully")
        assert store.save_articles("beta", [fingerprinted(1, "beta", retold)], NOW) == SaveResult(
            folded=1
        )
        assert store.state("beta").article_count == 1
    with raw(url) as conn:
        (sketch,) = conn.execute(
            "SELECT sketch FROM articles WHERE id = ?", (article.id,)
        ).fetchone()
        keys = {
            key
            for (key,) in conn.execute(
                "SELECT key FROM sketch_bands WHERE article_id = ?", (article.id,)
            )
        }
    assert sketch == stored_sketch(fingerprint.signature)
    assert keys == set(band_index_keys(read_stored_sketch(sketch)))


# -- a fetch recorded with its articles, in bounded transactions -------------------------------


def fetched_at(moment: datetime) -> FetchRecord:
    return FetchRecord(
        at=moment,
        status="ok",
        validators=Validators(etag='"v2"', last_modified=None),
        error=None,
        next_due=moment + timedelta(minutes=15),
        next_reason="interval 15m",
        http_status=200,
    )


def test_a_big_batch_is_saved_in_bounded_transactions_with_its_fetch(store: Store) -> None:
    batch = [entry(n) for n in range(WRITE_BATCH * 2 + 50)]
    result = store.save_articles("alpha", batch, NOW, fetched=fetched_at(NOW))
    assert result.inserted == len(batch)
    state = store.state("alpha")
    assert state.last_status == "ok" and state.last_success == NOW
    assert state.validators == Validators(etag='"v2"', last_modified=None)
    assert state.article_count == len(batch)
    # Nothing new: still recorded (a fetch with no entries, too).
    later = NOW + timedelta(hours=1)
    assert store.save_articles("alpha", [], later, fetched=fetched_at(later)) == SaveResult()
    assert store.state("alpha").last_fetch == later


def test_a_save_that_fails_halfway_keeps_the_finished_batches_and_records_no_fetch(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aggregator.store.store as store_module

    real_save_one = store_module.save_one
    saved: list[str] = []

    def failing_save_one(db, source_id, guid, *rest):  # type: ignore[no-untyped-def]
        if len(saved) == WRITE_BATCH + 10:
            raise OSError("disk gone")
        saved.append(guid)
        return real_save_one(db, source_id, guid, *rest)

    monkeypatch.setattr(store_module, "save_one", failing_save_one)
    batch = [entry(n) for n in range(WRITE_BATCH * 2)]
    with pytest.raises(OSError):
        store.save_articles("alpha", batch, NOW, fetched=fetched_at(NOW))
    state = store.state("alpha")
    assert state.article_count == WRITE_BATCH  # the first transaction, not the one that failed
    assert state.last_fetch is None and state.validators == Validators()

    monkeypatch.setattr(store_module, "save_one", real_save_one)
    result = store.save_articles("alpha", batch, NOW, fetched=fetched_at(NOW))
    assert (result.inserted, result.unchanged) == (WRITE_BATCH, WRITE_BATCH)
    assert store.state("alpha").last_fetch == NOW


def test_migration_0006_fills_the_stories_table_from_the_articles(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.sync_sources([Source(id="alpha", url="https://a.example/", name="A", home="x")])
        early = entry(1, date=datetime(2025, 3, 1, 8, 0, tzinfo=UTC))
        same_url = entry(2, date=datetime(2025, 3, 1, 7, 0, tzinfo=UTC))
        same_url = (same_url[0], replace(same_url[1], canonical_url=early[1].canonical_url))
        undated = entry(3, date=None)
        store.save_articles("alpha", [early, same_url, undated], NOW)
        expected = store.newest_stories(10)
        mark = store.change_mark()
    assert [date for _, date in expected] == [NOW, datetime(2025, 3, 1, 7, 0, tzinfo=UTC)]
    engine = create_engine(store_url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    engine.dispose()
    with Store.open(store_url) as store:  # upgraded again: filled from the articles
        assert store.newest_stories(10) == expected
        assert store.stories_changed_since(0) == sorted(story for story, _ in expected)
        assert store.stories_changed_since(mark) == []


FIRE_REPORT = (
    "Four workers were injured on Tuesday when fire broke out at the Kestrel Chemicals "
    "plant in Port Alder. About 120 firefighters fought the blaze, which started in a "
    "solvent storage building, for nearly five hours."
)


def test_migration_0010_names_each_postings_story(store_url: str) -> None:
    """Postings written before 0010 take their article's story when it is applied."""
    told = [
        ("Kestrel Chemicals plant fire injures four in Port Alder", 0),
        ("Port Alder residents told to stay indoors after Kestrel Chemicals fire", 50),
    ]
    with Store.open(store_url) as store:
        store.sync_sources([Source(id="alpha", url="https://a.example/", name="A", home="x")])
        for n, (title, minutes) in enumerate(told):
            guid, article = entry(n, date=datetime(2025, 3, 1, 8, minutes, tzinfo=UTC))
            article = replace(article, title=title)
            fingerprint = Fingerprint.of(title, f"{title}. {FIRE_REPORT}")
            store.save_articles("alpha", [(guid, article, fingerprint)], NOW)
        stories = {a.article.id: a.story_id for a in store.articles()}
    engine = create_engine(store_url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0009")
    engine.dispose()
    with Store.open(store_url):  # upgraded again: filled from the articles
        pass
    engine = create_engine(store_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT article_id, story_id FROM word_postings")).all()
    engine.dispose()
    assert rows and {article: story for article, story in rows} == stories


# -- retention ---------------------------------------------------------------------------------


def count(store_url: str, table: str) -> int:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_pruning_removes_exactly_what_is_older_than_the_cutoff(store_url: str) -> None:
    old_time, cutoff, recent = NOW - timedelta(days=100), NOW - timedelta(days=90), NOW
    with Store.open(store_url) as store:
        store.sync_sources(
            [
                Source(id="alpha", url="https://a.example/", name="A", home="x"),
                Source(id="beta", url="https://b.example/", name="B", home="x"),
            ]
        )
        # Seen and dated long ago: goes. Founds a story a recent article joins by URL.
        gone = fingerprinted(1, "alpha", WIRE)
        gone = (gone[0], replace(gone[1], date=old_time), gone[2])
        store.save_articles("alpha", [gone], old_time)
        joins = fingerprinted(2, "beta", WIRE)
        joins = (joins[0], replace(joins[1], canonical_url=gone[1].canonical_url), joins[2])
        # Seen long ago but dated recently (a feed that re-dates its items): stays.
        redated = entry(3, date=recent)
        # Seen recently, dated long ago (an old item just published): stays.
        late = entry(4, date=old_time)
        store.save_articles("alpha", [redated], old_time)
        store.save_articles("alpha", [late], recent)
        store.save_articles("beta", [joins], recent)
        story = store.article(joins[1].id or "")
        assert story is not None and story.story_id == gone[1].id  # folded by URL
        bands_before = count(store_url, "sketch_bands")
        mark = store.change_mark()

        assert store.prune(cutoff) == 1
        assert store.article(gone[1].id or "") is None
        remaining = {a.article.id for a in store.articles()}
        assert remaining == {joins[1].id, redated[1].id, late[1].id}
        # The story keeps its id with its remaining member, and moves to its date...
        assert [a.story_id for a in store.story(story.story_id)] == [story.story_id]
        assert (story.story_id, joins[1].date) in store.newest_stories(10)
        # ...without being marked changed: its post stays as written.
        assert store.stories_changed_since(mark) == []
        assert count(store_url, "sketch_bands") < bands_before
        # The URL key is still the story's: the remaining member holds it.
        fourth = entry(5, canonical_url=gone[1].canonical_url)
        assert store.save_articles("beta", [fourth], recent).folded == 1

    with Store.open(store_url) as store:  # across a restart: nothing more to prune
        assert store.prune(cutoff) == 0
        assert len(store.articles()) == 4


def test_a_story_pruned_whole_leaves_no_row_key_or_band(store_url: str) -> None:
    old_time = NOW - timedelta(days=100)
    with Store.open(store_url) as store:
        store.sync_sources([Source(id="alpha", url="https://a.example/", name="A", home="x")])
        gone = fingerprinted(1, "alpha", WIRE)
        gone = (gone[0], replace(gone[1], date=old_time), gone[2])
        store.save_articles("alpha", [gone], old_time)
        assert store.prune(NOW - timedelta(days=90)) == 1
        assert store.story_count() == 0 and store.articles() == []
    for table in ("sketch_bands", "word_postings", "story_keys", "stories"):
        assert count(store_url, table) == 0, table


LONG_REPORT = (
    "Four workers were injured on Tuesday when fire broke out at the Kestrel Chemicals plant "
    "in Port Alder. About 120 firefighters from Brenton, Calloway and Dunmore fought the "
    "blaze, which started in a solvent storage building, for nearly five hours. Plant "
    "manager Rosalind Achterberg said 2,350 litres of toluene and 1,870 litres of acetone "
    "were stored there, and that 46 residents of Quayside Road were evacuated."
)


def postings_of(store_url: str) -> dict[str, int]:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT article_id, COUNT(*) FROM word_postings GROUP BY article_id")
            ).all()
    finally:
        engine.dispose()
    return {article_id: n for article_id, n in rows}


def test_postings_an_earlier_version_indexed_leave_with_their_article(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Articles indexed under more terms than are looked up now (16 key words and 8 telling
    figures, as before) leave none of their postings behind when updated or pruned, and
    all of them move with the article when it is split out."""
    old_time = NOW - timedelta(days=100)
    pruned = fingerprinted(1, "alpha", LONG_REPORT, date=old_time)
    updated = fingerprinted(2, "alpha", LONG_REPORT, date=NOW)
    copy = fingerprinted(3, "alpha", LONG_REPORT, date=NOW)
    with Store.open(store_url) as store:
        store.sync_sources([Source(id="alpha", url="https://a.example/", name="A", home="x")])
        with monkeypatch.context() as earlier:
            earlier.setattr(words, "KEY_WORDS", 16)
            earlier.setattr(story_index, "TELLING_KEYS", 8)
            store.save_articles("alpha", [pruned], old_time)
            store.save_articles("alpha", [updated], NOW)
            assert store.save_articles("alpha", [copy], NOW).folded == 1
        split_into = store.split(copy[1].id or "", NOW)
        engine = create_engine(store_url)
        with engine.connect() as conn:
            moved = conn.execute(
                text("SELECT DISTINCT story_id FROM word_postings WHERE article_id = :id"),
                {"id": copy[1].id},
            ).scalars()
            assert list(moved) == [split_into]
        engine.dispose()
        now_indexed = len(story_index.index_terms(updated[2].words, updated[2].figures))
        before = postings_of(store_url)
        assert before[updated[1].id or ""] > now_indexed  # more than the code looks up now

        rewritten = fingerprinted(2, "alpha", FIRE_REPORT, date=NOW, body=f"<p>{FIRE_REPORT}</p>")
        store.save_articles("alpha", [rewritten], NOW)
        expected = len(story_index.index_terms(rewritten[2].words, rewritten[2].figures))
        assert postings_of(store_url)[updated[1].id or ""] == expected

        assert store.prune(NOW - timedelta(days=90)) == 1
        left = before[copy[1].id or ""]
        assert postings_of(store_url) == {updated[1].id: expected, copy[1].id: left}


def test_migration_0012_removes_the_postings_of_articles_gone(store_url: str) -> None:
    """Postings an earlier prune left behind (of articles no longer stored) go when 0012 is
    applied; those of stored articles stay."""
    with Store.open(store_url) as store:
        store.sync_sources([Source(id="alpha", url="https://a.example/", name="A", home="x")])
        kept = fingerprinted(1, "alpha", LONG_REPORT, date=NOW)
        store.save_articles("alpha", [kept], NOW)
    stored = postings_of(store_url)
    engine = create_engine(store_url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0011")
        conn.execute(
            text(
                "INSERT INTO word_postings (key, date, article_id, story_id) "
                "VALUES (1, 2, 'gone', 'gone'), (3, 4, 'gone', 'gone')"
            )
        )
    engine.dispose()
    assert postings_of(store_url) == {**stored, "gone": 2}
    with Store.open(store_url):  # upgraded again
        pass
    assert postings_of(store_url) == stored and stored[kept[1].id or ""] > 0


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_each_sources_article_count_follows_inserts_folds_updates_and_prunes(
    store: Store,
) -> None:
    # Kept as a column: reading every source's health used to count the articles table.
    def counted() -> dict[str, int]:
        return {s: st.article_count for s, st in store.states().items()}

    def actual() -> dict[str, int]:
        return {s: len(store.articles(source_ids=[s])) for s in ("alpha", "beta") if s in counted()}

    old, recent = NOW - timedelta(days=400), NOW
    store.save_articles("alpha", [entry(n, date=old) for n in range(5)], old)
    store.save_articles("alpha", [entry(n) for n in range(5, 8)], recent)
    # A retelling folded into alpha's story, a duplicate guid, an edit of a stored article.
    store.save_articles(
        "beta",
        [
            entry(1, source_id="beta", canonical_url="https://alpha.example/news/6"),
            entry(1, source_id="beta"),
            entry(2, source_id="beta"),
        ],
        recent,
    )
    store.save_articles("alpha", [entry(5, title="Edited headline")], recent)
    assert counted() == actual() == {"alpha": 8, "beta": 2}
    assert store.prune(NOW - timedelta(days=90)) == 5
    assert counted() == actual() == {"alpha": 3, "beta": 2}


@pytest.mark.parametrize(
    "statement",
    [
        settling.MOVE_KEYS,
        story_index.holder_sql("hash"),
        story_index.holder_sql("hash", other_than=True),
        story_index.holder_sql("url"),
        retention._OLDEST,
    ],
)
def test_look_ups_by_story_text_and_age_read_an_index_not_every_row(
    tmp_path: Path, statement: str
) -> None:
    """Moving a story's keys when an article placed by its words joins another, finding
    the earliest holder of a copy's text or URL, and taking the oldest articles for
    retention each find their rows by an index: a scan of the table costs what the store
    holds, on every join, copy and prune."""
    database = tmp_path / "aggregator.db"
    Store.open(f"sqlite:///{database}").close()
    with sqlite3.connect(database) as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {statement}", [0] * statement.count("?"))
        details = [str(row[-1]) for row in plan.fetchall()]
    assert not [step for step in details if step.startswith("SCAN")], details
