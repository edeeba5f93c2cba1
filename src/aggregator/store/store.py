"""The store: the single source of truth for sources' fetch state and stored articles.

``Store`` is the only code that reads or writes the database. Uniqueness holds under
concurrent writers (threads, processes, scale-out workers) because the schema enforces it:
UNIQUE (source_id, guid), a unique article id, one story per canonical URL and per content
hash (``story_keys``), and inserts are ``INSERT ... ON CONFLICT DO NOTHING RETURNING``,
classified by what they return.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from aggregator.dedup import Fingerprint
from aggregator.errors import StoreError
from aggregator.model import (
    Article,
    Cadence,
    Reading,
    Source,
    SourceState,
    StoredArticle,
    Validators,
    story_id,
)
from aggregator.store import migrate, settling, story_index, story_merge
from aggregator.store.article_rows import (
    articles_query,
    dialect_insert,
    next_seq,
    save_one,
    stored_article,
    stored_entries,
    touch_story,
)
from aggregator.store.copying import copy_rows
from aggregator.store.driver import Statements
from aggregator.store.engine import WRITE_OPTION, create_store_engine, parse_url
from aggregator.store.leadership import Leadership
from aggregator.store.retention import prune_batch, prune_merges
from aggregator.store.schema import (
    SEQ_COUNTER,
    articles,
    as_utc,
    counters,
    merges,
    near_misses,
    readings,
    sources,
    splits,
    stories,
    story_keys,
)
from aggregator.store.source_rows import (
    FetchRecord,
    cadence_values,
    ensure_source,
    record_fetch_row,
    source_state,
    states_query,
)
from aggregator.store.story_index import FoldPolicy
from aggregator.words import Words

#: Times a write transaction PostgreSQL rolled back to break a deadlock is tried at most,
#: and the pause before the next try (times the tries so far).
WRITE_ATTEMPTS = 5
RETRY_PAUSE = 0.05
#: Articles pruned per write transaction at most.
PRUNE_BATCH = 500
#: Entries saved per write transaction at most: a big document never holds the write
#: lock (and, on SQLite, every other writer) for long.
WRITE_BATCH = 100

#: One entry to save: its guid, the article, and the fingerprint of its story text.
Incoming = tuple[str, Article] | tuple[str, Article, Fingerprint | None]
#: What a write transaction's work returns.
_Done = TypeVar("_Done")


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What ``Store.save_articles`` did with a batch; the counts add up to its length."""

    #: New stories stored.
    inserted: int = 0
    #: Entries already stored (same source and guid) whose content changed: updated in place.
    updated: int = 0
    #: Entries already stored, unchanged.
    unchanged: int = 0
    #: Entries not stored: the same guid earlier in the batch.
    duplicates: int = 0
    #: New entries stored as members of a story already told (same canonical URL, same
    #: content, or similar enough): they add to its ``also_reported_by``.
    folded: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything stored changed, i.e. channels need publishing."""
        return self.inserted > 0 or self.updated > 0 or self.folded > 0


class Store:
    """Sources' state and articles in a SQLite file or a PostgreSQL database.

    Open with ``Store.open(url)`` (migrates to the current schema), close with ``close()`` or
    use as a context manager. One instance may be shared by threads; many instances and
    processes may share one database. Every database failure is raised as ``StoreError``.
    """

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose database is already migrated; use ``Store.open``."""
        self._engine = engine
        # The write path runs on the driver's own cursor (``Statements``): its errors come
        # unwrapped by SQLAlchemy.
        self._database_errors: tuple[type[BaseException], ...] = (
            SQLAlchemyError,
            engine.dialect.loaded_dbapi.Error,
        )
        self._closed = False
        # Writers in this process take turns here rather than in the database's busy wait,
        # which is bounded (5 s) and meant for other processes.
        self._write_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to ``url`` (a SQLAlchemy URL), creating a SQLite file and its directory if
        needed, and migrate the schema to the head revision."""
        parsed = parse_url(url)
        where = parsed.render_as_string(hide_password=True)
        engine: Engine | None = None
        try:
            engine = create_store_engine(parsed)
            head = migrate.head_revision()
            with engine.connect() as conn:
                current = migrate.current_revision(conn)
            if current != head:
                with engine.connect() as conn:
                    conn.execution_options(**{WRITE_OPTION: True})
                    with conn.begin():
                        migrate.upgrade_to_head(conn)
        except StoreError as e:
            if engine is not None:
                engine.dispose()
            raise StoreError(f"cannot open the store at {where}: {e}") from e
        except ModuleNotFoundError as e:
            raise StoreError(
                f"cannot open the store at {where}: the database driver is not installed "
                f"({e.name}); install it, e.g. `pip install psycopg[binary]` for PostgreSQL"
            ) from e
        except Exception as e:  # SQLAlchemy, Alembic, OS: whatever stops opening
            if engine is not None:
                engine.dispose()
            raise StoreError(
                f"cannot open the store at {where}: {_reason(e)}; storage must name a "
                "writable SQLite file or a reachable PostgreSQL database"
            ) from e
        return cls(engine)

    def copy_into(
        self, target: Store, progress: Callable[[str, int], None] = lambda _t, _n: None
    ) -> dict[str, int]:
        """Copy everything this store holds into ``target``, which must hold no articles
        (see ``copying.copy_rows``); the rows copied per table."""
        with (
            self._read("read the store to copy") as source,
            target._write("copy into the store") as into,
        ):
            return copy_rows(source, into, progress)

    def leadership(self, name: str) -> Leadership:
        """The job ``name`` done by one process among those sharing this store."""
        return Leadership(self._engine, name)

    def close(self) -> None:
        """Release every connection. The store cannot be used afterwards."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sources -----------------------------------------------------------------------------

    def sync_sources(self, configured: Sequence[Source]) -> None:
        """Add or update a row per configured source (id, url, name), keeping its fetch
        state. A source whose url changed starts afresh: its validators, errors, redirect
        and disabled marks belong to the old url. Sources no longer configured, and their
        articles, are kept."""
        if not configured:
            return
        now = _utcnow()
        fresh_start = {
            "etag": None,
            "last_modified": None,
            "error_count": 0,
            "last_error": None,
            "next_due": None,
            "next_reason": None,
            "http_status": None,
            "moved_to": None,
            "disabled": None,
            **cadence_values(Cadence()),
        }
        with self._write("sync sources") as conn:
            rows = conn.execute(select(sources.c.id, sources.c.url))
            known: dict[str, str] = {row.id: row.url for row in rows}
            for source in configured:
                if source.id not in known:
                    # Workers starting together each add the new sources: one wins.
                    conn.execute(
                        dialect_insert(conn, sources)
                        .values(id=source.id, url=source.url, name=source.name, created_at=now)
                        .on_conflict_do_nothing(index_elements=[sources.c.id])
                    )
                    continue
                values: dict[str, Any] = {"url": source.url, "name": source.name}
                if known[source.id] not in ("", source.url):
                    values.update(fresh_start)
                conn.execute(update(sources).where(sources.c.id == source.id).values(values))

    def claim_due(
        self,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        among: Sequence[str],
    ) -> list[str]:
        """Lease up to ``limit`` of the sources ``among`` that are due at ``now`` (not
        disabled, ``next_due`` passed or never fetched) and not leased to anyone, until
        ``now + lease``, to ``owner``; their ids, the longest overdue first. Recording
        the fetch (``record_fetch``) ends the lease; a worker that dies leaves it to run
        out, and the source is claimed again after that.

        On PostgreSQL the due rows are read ``FOR UPDATE SKIP LOCKED``: workers claiming
        at once each take other sources without waiting for each other. SQLite has one
        writer at a time, which gives the same."""
        if not among or limit <= 0:
            return []
        now = as_utc(now)
        with self._write("claim due sources") as conn:
            due = (
                select(sources.c.id)
                .where(
                    sources.c.id.in_(list(among)),
                    sources.c.disabled.is_(None),
                    or_(sources.c.next_due.is_(None), sources.c.next_due <= now),
                    or_(sources.c.lease_until.is_(None), sources.c.lease_until <= now),
                )
                .order_by(sources.c.next_due.asc().nulls_first(), sources.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            claimed = [row.id for row in conn.execute(due)]
            if claimed:
                conn.execute(
                    update(sources)
                    .where(sources.c.id.in_(claimed))
                    .values(lease_owner=owner, lease_until=now + lease)
                )
            return claimed

    def lease_owners(self) -> set[str]:
        """Who holds a lease on some source now (``claim_due``'s ``owner`` values)."""
        with self._read("read leases") as conn:
            rows = conn.execute(select(sources.c.lease_owner).distinct())
            return {row.lease_owner for row in rows if row.lease_owner is not None}

    def release_leases(self, owners: Collection[str]) -> None:
        """End the leases ``owners`` hold (processes known to have died)."""
        if not owners:
            return
        with self._write("release leases") as conn:
            conn.execute(
                update(sources)
                .where(sources.c.lease_owner.in_(list(owners)))
                .values(lease_owner=None, lease_until=None)
            )

    def state(self, source_id: str) -> SourceState:
        """The source's stored fetch state; an empty state for a source never seen."""
        with self._read("read source state") as conn:
            row = conn.execute(states_query().where(sources.c.id == source_id)).first()
            if row is None:
                return SourceState(source_id=source_id)
            return source_state(row)

    def states(self) -> dict[str, SourceState]:
        """Every stored source's fetch state, by source id."""
        with self._read("read source states") as conn:
            return {row.id: source_state(row) for row in conn.execute(states_query())}

    def record_fetch(
        self,
        source_id: str,
        *,
        at: datetime,
        status: str,
        validators: Validators | None,
        error: str | None,
        next_due: datetime | None,
        next_reason: str | None = None,
        http_status: int | None = None,
        moved_to: str | None = None,
        disabled: str | None = None,
        cadence: Cadence | None = None,
    ) -> None:
        """Record how a fetch of the source ended.

        ``ok`` / ``not_modified``: a success; the error count and last error are cleared.
        ``error``: the error count goes up and ``error`` is remembered. ``validators``
        replace the stored ones when given (None keeps them; an empty ``Validators()``
        forgets them, so the next request is unconditional). Always: ``last_fetch``,
        ``last_status``, ``next_due`` and its reason, the HTTP status, the permanent
        redirect seen (None: none) and the disabled mark are set. ``cadence`` (the feed's
        hints and publishing rate) replaces the stored one when given; None keeps it.
        """
        record = FetchRecord(
            at, status, validators, error, next_due, next_reason, http_status, moved_to,
            disabled, cadence,
        )  # fmt: skip
        self.record(source_id, record)

    def record(self, source_id: str, record: FetchRecord) -> None:
        """``record_fetch`` with its values in one ``FetchRecord``."""
        with self._write("record a fetch") as conn:
            record_fetch_row(conn, source_id, record)

    # -- articles ----------------------------------------------------------------------------

    def save_articles(
        self,
        source_id: str,
        batch: Sequence[Incoming],
        now: datetime,
        policy: FoldPolicy | None = None,
        fetched: FetchRecord | None = None,
        settle: bool = True,
    ) -> SaveResult:
        """Store a source's entries, ``WRITE_BATCH`` to a transaction, and then how its
        fetch went (``fetched``, see ``record_fetch``) in the same transaction as the last
        of them: a process killed halfway has recorded no fetch, so the next pass asks
        for the whole document again and stores what is missing.

        For each entry, in order: one already stored under the same source and guid is
        updated in place if its content changed (keeping its id, story and first_seen) or
        left alone; else it is inserted, founding a story or joining one (see
        ``story_index.place``: same canonical URL, same content, or similar within the
        window of ``policy``). ``article.id`` is the article's id; when None,
        ``story_id(source_id, guid)`` is used.

        Then, with ``settle``, every article waiting to be placed by its content words is
        (``settle``), these among them; a fetch pass saves each source's articles
        without, and settles once all are in.
        """
        counts = {"inserted": 0, "updated": 0, "unchanged": 0, "duplicates": 0, "folded": 0}
        if not batch and fetched is None:
            return SaveResult()
        policy = policy or FoldPolicy()
        now = as_utc(now)
        seen_guids: set[str] = set()
        # Founders of a story now, which may join one by their words when settled.
        new_ids: list[str] = []
        starts = range(0, len(batch), WRITE_BATCH) if batch else range(1)
        for start in starts:
            part = batch[start : start + WRITE_BATCH]
            save_part = functools.partial(
                _save_part,
                source_id=source_id,
                part=part,
                seen_before=seen_guids,
                policy=policy,
                now=now,
                fetched=fetched if start == starts[-1] else None,
            )
            done, inserted, seen_guids = self._write_retried("save articles", save_part)
            for outcome, count in done.items():
                counts[outcome] += count
            new_ids.extend(inserted)
        if settle and (counts["inserted"] or counts["folded"]):
            told = self.settle(policy, now)
            moved = sum(article_id in told for article_id in new_ids)
            counts["inserted"] -= moved
            counts["folded"] += moved
        return SaveResult(**counts)

    def settle(
        self, policy: FoldPolicy | None = None, now: datetime | None = None
    ) -> dict[str, str]:
        """Place every article waiting to be placed by n-grams and words, the earliest
        first (``settling``), ``settling.SETTLE_BATCH`` to a transaction; returns those
        that founded a story on arrival and joined another since, with their sources.
        Killed halfway, the rest wait for the next call."""
        policy = policy or FoldPolicy()
        now = as_utc(now or datetime.now(UTC))
        told: dict[str, str] = {}

        def settle_batch(conn: Connection) -> dict[str, str] | None:
            db = Statements(conn)
            batch = settling.waiting(db)
            if not batch:
                return None
            story_index.lock_settling(db, batch)
            placed: dict[str, str] = {}
            for article_id in batch:
                source_id = settling.settle_one(db, article_id, policy, now)
                if source_id is not None:
                    placed[article_id] = source_id
            return placed

        while True:
            placed = self._write_retried("place articles by their words", settle_batch)
            if placed is None:
                return told
            told.update(placed)

    def articles(
        self, *, source_ids: Sequence[str] | None = None, limit: int | None = None
    ) -> list[StoredArticle]:
        """Stored articles, newest first by article date (undated last), then latest change
        first; only from ``source_ids`` when given; at most ``limit``."""
        if source_ids is not None and not source_ids:
            return []
        query = articles_query().order_by(
            articles.c.date.desc().nulls_last(), articles.c.seq.desc()
        )
        if source_ids is not None:
            query = query.where(articles.c.source_id.in_(list(source_ids)))
        if limit is not None:
            query = query.limit(limit)
        with self._read("read articles") as conn:
            return [stored_article(row) for row in conn.execute(query)]

    def article(self, article_id: str) -> StoredArticle | None:
        """The stored article with this story id, if any."""
        with self._read("read an article") as conn:
            row = conn.execute(articles_query().where(articles.c.id == article_id)).first()
            return None if row is None else stored_article(row)

    def folded_by_rule(self, rule: str, since: datetime, limit: int) -> list[StoredArticle]:
        """Articles first stored at or after ``since`` that joined their story by ``rule``
        (``fold_rule``), the lowest ``fold_score`` first (then the latest stored), at most
        ``limit``: what ``dedup review`` lists."""
        query = (
            articles_query()
            .where(articles.c.fold_rule == rule, articles.c.first_seen >= since)
            .order_by(articles.c.fold_score.asc().nulls_first(), articles.c.seq.desc())
            .limit(limit)
        )
        with self._read("read folded articles") as conn:
            return [stored_article(row) for row in conn.execute(query)]

    def story(self, story_id: str) -> list[StoredArticle]:
        """The members of a story, in the order they were stored."""
        query = articles_query().where(articles.c.story_id == story_id).order_by(articles.c.seq)
        with self._read("read a story") as conn:
            return [stored_article(row) for row in conn.execute(query)]

    def split(self, article_id: str, now: datetime) -> str:
        """Take an article out of its story, for good: it becomes a story of its own (and
        keeps its canonical URL and content for that story). Returns its new story id."""
        with self._write("split an article out of its story") as conn:
            return _split_out(conn, article_id, now)

    def unread_folds(self, since: datetime, limit: int) -> list[StoredArticle]:
        """Articles first stored at or after ``since`` that joined their story as the
        same event, or founded a story merged into another, or joined it by similarity
        without sharing their wording (``read_by_reader``), and that the reader has not
        read yet, in ``_reading_order``, at most ``limit``."""
        unread = ~exists().where(readings.c.article_id == articles.c.id)
        matched = articles.alias("matched")
        still_there = exists().where(matched.c.id == articles.c.fold_match)  # not pruned
        query = (
            articles_query()
            .where(
                _read_fold(),
                articles.c.first_seen >= since,
                unread,
                still_there,
            )
            .order_by(*_reading_order())
            .limit(limit)
        )
        with self._read("read the folds not yet read") as conn:
            return [stored_article(row) for row in conn.execute(query)]

    def record_reading(self, reading: Reading) -> str | None:
        """Keep what the reader made of a fold, and when it read two events, take the
        article out of its story in the same transaction (as ``split``). A fold changed
        since it was read (either report split out or merged elsewhere) is left as it is
        now. Returns the article's new story id when it was split out."""
        with self._write("record a reading") as conn:
            if not _insert_reading(conn, reading) or reading.same_event is not False:
                return None
            told = {
                row.id: row
                for row in conn.execute(
                    select(
                        articles.c.id,
                        articles.c.story_id,
                        articles.c.fold_rule,
                        articles.c.fold_match,
                        articles.c.fold_score,
                    ).where(articles.c.id.in_((reading.article_id, reading.match_id)))
                )
            }
            article, match = told.get(reading.article_id), told.get(reading.match_id)
            if (
                article is None
                or match is None
                or not read_by_reader(article.fold_rule, article.fold_score)
                or article.fold_match != reading.match_id
                or article.story_id != match.story_id
            ):
                return None
            return _split_out(conn, reading.article_id, reading.at, take_along=True)

    def unread_near_misses(self, since: datetime, limit: int) -> list[tuple[StoredArticle, str]]:
        """Reports first stored at or after ``since`` that founded a story alone and are
        kept with the story they came closest to (``near_misses``), still alone in it and
        not read yet, each with the telling it came closest to, in ``_reading_order``, at
        most ``limit``."""
        unread = ~exists().where(readings.c.article_id == articles.c.id)
        matched = articles.alias("matched")
        others = articles.alias("others")
        alone = ~exists().where(
            others.c.story_id == articles.c.story_id, others.c.id != articles.c.id
        )
        query = (
            articles_query()
            .add_columns(near_misses.c.match_id)
            .join(near_misses, near_misses.c.article_id == articles.c.id)
            .join(matched, matched.c.id == near_misses.c.match_id)  # not pruned
            .where(
                articles.c.story_id == articles.c.id,
                articles.c.fold_rule.is_(None),
                articles.c.first_seen >= since,
                matched.c.story_id != articles.c.story_id,
                unread,
                alone,
            )
            .order_by(*_reading_order())
            .limit(limit)
        )
        with self._read("read the near misses not yet read") as conn:
            return [(stored_article(row), row.match_id) for row in conn.execute(query)]

    def record_near_reading(self, reading: Reading) -> str | None:
        """Keep what the reader made of a report the rules left apart and the telling it
        came closest to, and when it read one event, join the report to that story in the
        same transaction (``story_merge.join_by_reader``: only if it is still alone and
        dated after the story's earliest member). Returns the story it joined."""
        with self._write("record a reading of a near miss") as conn:
            if not _insert_reading(conn, reading) or reading.same_event is not True:
                return None
            # Taken before the stories are read: it waits for any writer placing
            # articles now (PostgreSQL), so what is read is what they left.
            seq = next_seq(conn)
            db = Statements(conn)
            joined = story_merge.join_by_reader(db, reading, seq)
            if joined is not None:
                touch_story(db, joined, seq)
            return joined

    def split_by_reader(self, since: datetime, limit: int) -> list[Reading]:
        """The readings of "another event" that split a report out, of the reports first
        stored at or after ``since``, the latest read first, at most ``limit``: what
        ``dedup review`` lists for the operator to check the reader by."""
        query = (
            select(readings)
            .join(articles, articles.c.id == readings.c.article_id)
            .where(
                readings.c.same_event.is_(False),
                articles.c.fold_rule == story_merge.SPLIT,
                articles.c.first_seen >= since,
            )
            .order_by(readings.c.at.desc(), readings.c.article_id)
            .limit(limit)
        )
        with self._read("read the reader's splits") as conn:
            return [
                Reading(row.article_id, row.match_id, False, row.reason, row.model, row.at)
                for row in conn.execute(query)
            ]

    def reading(self, article_id: str) -> Reading | None:
        """What the reader made of the fold of ``article_id``, if it read it."""
        with self._read("read a reading") as conn:
            row = conn.execute(select(readings).where(readings.c.article_id == article_id)).first()
        if row is None:
            return None
        same = None if row.same_event is None else bool(row.same_event)
        return Reading(row.article_id, row.match_id, same, row.reason, row.model, row.at)

    def merge(self, article_id: str, other_id: str, now: datetime) -> str:
        """Make the stories of two articles one, for good (``dedup merge``): the story that
        sorts first takes the other in, with its members, keys and word postings, as a
        merge by an article does (``story_merge.merge_by_operator``). Returns the story
        they now are."""
        with self._write("merge two stories") as conn:
            named = (article_id, other_id)
            query = select(articles.c.id, articles.c.story_id).where(articles.c.id.in_(named))
            found: dict[str, str] = {row.id: row.story_id for row in conn.execute(query)}
            for wanted in named:
                if wanted not in found:
                    raise StoreError(f"no stored article has the id {wanted!r}")
            stories = (found[article_id], found[other_id])
            if stories[0] == stories[1]:
                raise StoreError(
                    f"articles {article_id} and {other_id} are one story already: {stories[0]}"
                )
            seq = next_seq(conn)
            db = Statements(conn)
            into = story_merge.merge_by_operator(db, named, stories, seq, now)
            touch_story(db, into, seq)
            return into

    def prune(self, cutoff: datetime) -> int:
        """Remove the articles first seen and dated before ``cutoff`` (see
        ``retention``), ``PRUNE_BATCH`` to a transaction; how many went."""
        removed = 0
        cutoff = as_utc(cutoff)
        while True:
            count = self._write_retried(
                "prune old articles",
                lambda conn: prune_batch(Statements(conn), cutoff, PRUNE_BATCH),
            )
            removed += count
            if count < PRUNE_BATCH:
                break
        self._write_retried("prune old merges", lambda conn: prune_merges(Statements(conn), cutoff))
        return removed

    # -- what publishing reads --------------------------------------------------------------

    def change_mark(self) -> int:
        """The latest change number handed out: every change to articles and stories up
        to it is committed or rolled back, later ones number above it."""
        with self._read("read the change number") as conn:
            query = select(counters.c.value).where(counters.c.name == SEQ_COUNTER)
            return int(conn.execute(query).scalar_one_or_none() or 0)

    def stories_changed_since(self, seq: int) -> list[str]:
        """Ids of the stories whose members changed after change number ``seq``."""
        # Sorted here: ordering in SQL makes SQLite walk the primary key, not the index.
        query = select(stories.c.id).where(stories.c.changed_seq > seq)
        with self._read("read changed stories") as conn:
            return sorted(conn.execute(query).scalars())

    def merged_since(self, seq: int) -> list[str]:
        """Ids of the stories merged into another after change number ``seq``."""
        query = select(merges.c.story_id).where(merges.c.seq > seq)
        with self._read("read merged stories") as conn:
            return sorted(conn.execute(query).scalars())

    def newest_stories(
        self, limit: int, offset: int = 0, sources: Collection[str] = ()
    ) -> list[tuple[str, datetime]]:
        """(story id, its earliest member's date or first_seen), newest first (then by id);
        with ``sources``, only stories one of those sources told."""
        query = select(stories.c.id, stories.c.sort_date)
        if sources:
            # IN, not EXISTS: SQLite then reads those sources' articles by the
            # (source_id, guid) index instead of probing every story newest first.
            told = select(articles.c.story_id).where(articles.c.source_id.in_(sorted(sources)))
            query = query.where(stories.c.id.in_(told))
        query = (
            query.order_by(stories.c.sort_date.desc(), stories.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self._read("read the newest stories") as conn:
            return [(row.id, row.sort_date) for row in conn.execute(query)]

    def story_members(self, story_ids: Sequence[str]) -> list[StoredArticle]:
        """Every member of these stories."""
        found: list[StoredArticle] = []
        with self._read("read stories") as conn:
            for start in range(0, len(story_ids), 500):
                chunk = list(story_ids[start : start + 500])
                query = articles_query().where(articles.c.story_id.in_(chunk))
                found += [stored_article(row) for row in conn.execute(query)]
        return found

    def story_count(self) -> int:
        with self._read("count stories") as conn:
            return int(conn.execute(select(func.count()).select_from(stories)).scalar_one())

    def changed_since(self, seq: int) -> bool:
        """Whether any article was inserted or updated after change number ``seq``."""
        with self._read("check for changes") as conn:
            return bool(conn.execute(select(exists().where(articles.c.seq > seq))).scalar())

    def last_seq(self) -> int:
        """The change number of the latest insert or update; 0 for an empty store."""
        with self._read("read the change number") as conn:
            query = select(func.coalesce(func.max(articles.c.seq), 0))
            return int(conn.execute(query).scalar_one())

    # -- connections -------------------------------------------------------------------------

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        with self._errors(action), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        with self._write_lock, self._errors(action), self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def _write_retried(self, action: str, work: Callable[[Connection], _Done]) -> _Done:
        """``work`` in a write transaction, tried again when PostgreSQL ended it to break a
        deadlock (or a serialization failure): a save and another worker's settle lock
        the rows of one waiting article in turn, and advisory keys besides, so either may
        wait for the other (and a prune deletes what both write); the one PostgreSQL
        picks is rolled back whole, and goes again once the other has committed. ``work``
        must leave nothing behind but its transaction's writes and what it returns."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._write(action) as conn:
                    return work(conn)
            except StoreError as error:
                if attempt == WRITE_ATTEMPTS or not _ended_by_the_server(error):
                    raise
                time.sleep(RETRY_PAUSE * attempt)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        if self._closed:
            raise StoreError(f"cannot {action}: the store is closed")
        try:
            yield
        except self._database_errors as e:
            raise StoreError(f"cannot {action}: {_reason(e)}") from e


def _save_part(
    conn: Connection,
    source_id: str,
    part: Sequence[Incoming],
    seen_before: set[str],
    policy: FoldPolicy,
    now: datetime,
    fetched: FetchRecord | None,
) -> tuple[dict[str, int], list[str], set[str]]:
    """Save one transaction's share of ``Store.save_articles``, and ``fetched`` with it:
    what each entry came to, the articles inserted, and the guids seen so far. Counted
    apart from the batch's totals, so that a transaction tried again counts once."""
    done = {"inserted": 0, "updated": 0, "unchanged": 0, "duplicates": 0, "folded": 0}
    inserted: list[str] = []
    seen = set(seen_before)
    ensure_source(conn, source_id, now)
    db = Statements(conn)
    added = 0
    guids = list(dict.fromkeys(i[0] for i in part if i[0] not in seen))
    existing = stored_entries(db, source_id, guids) if guids else {}
    # Copies only: by their words, articles are placed when settled.
    story_index.lock_placement(
        db,
        (item[2] for item in part if len(item) > 2 and item[0] not in existing),  # type: ignore[misc]
        by_words=False,
    )
    for item in part:
        guid, article = item[0], item[1]
        fingerprint = item[2] if len(item) > 2 else None  # type: ignore[misc]
        if guid in seen:
            done["duplicates"] += 1
            continue
        seen.add(guid)
        if article.id is None:
            article = replace(article, id=story_id(source_id, guid))
        outcome = save_one(
            db, source_id, guid, article, fingerprint, policy, now, existing.get(guid)
        )
        done[outcome] += 1
        if outcome == "inserted":
            inserted.append(article.id)
        if outcome in ("inserted", "folded"):  # a new row either way
            added += 1
    if added:
        db.run(
            "UPDATE sources SET article_count = article_count + ? WHERE id = ?",
            (added, source_id),
        )
    if fetched is not None:
        record_fetch_row(conn, source_id, fetched)
    return done, inserted, seen


def _utcnow() -> datetime:
    return datetime.now(UTC)


#: SQLSTATEs of a transaction PostgreSQL rolled back for another's sake: deadlock
#: detected, serialization failure. Nothing of it was written; it can run again.
_TRY_AGAIN = frozenset({"40P01", "40001"})


def _ended_by_the_server(error: StoreError) -> bool:
    cause = error.__cause__
    orig = getattr(cause, "orig", cause)  # SQLAlchemy's, or the driver's own
    return getattr(orig, "sqlstate", None) in _TRY_AGAIN


def _reason(error: BaseException) -> str:
    """The driver's own words for a database error, without SQLAlchemy's SQL dump."""
    orig = getattr(error, "orig", None)
    return str(orig if orig is not None else error).strip() or type(error).__name__


#: The folds the reader (``dedup.reader``) reads: a report written apart that joined a
#: story as the same event, and the founder of a story merged into another by a report
#: that told both (read against that report; split out, its story is one again).
READ_RULES = ("same_event", "merged")

#: A fold by ``similarity`` sharing less than this of its n-grams is read too: at that
#: share two texts no longer share their wording. Reports of one event written apart
#: fold so from 0.23 to 0.31 of their n-grams, and so does now and then a look-alike
#: (0.23), where copies and trimmed headlines share 0.45 or more.
READ_SIMILAR_BELOW = 0.35


def read_by_reader(rule: str | None, score: float | None) -> bool:
    """Whether the reader reads a fold by ``rule`` at ``score`` (``READ_RULES``,
    ``READ_SIMILAR_BELOW``)."""
    if rule in READ_RULES:
        return True
    return rule == "similarity" and score is not None and score < READ_SIMILAR_BELOW


def _reading_order() -> tuple[ColumnElement[Any], ...]:
    """The order the reader is asked in: the earliest dated first, then by id. Not the
    order stored in, which follows the order the sources answered in: which reading
    comes first can decide a story (a report joined, then its telling split out), and
    the same reports are then read the same way however they arrived."""
    return (func.coalesce(articles.c.date, articles.c.first_seen), articles.c.id)


def _read_fold() -> ColumnElement[bool]:
    """``read_by_reader`` as a condition on ``articles``."""
    return or_(
        articles.c.fold_rule.in_(READ_RULES),
        and_(
            articles.c.fold_rule == "similarity",
            articles.c.fold_score < READ_SIMILAR_BELOW,
        ),
    )


def _insert_reading(conn: Connection, reading: Reading) -> bool:
    """Keep a reading; False when the article was read already (the first stands)."""
    inserted = conn.execute(
        dialect_insert(conn, readings)
        .values(
            article_id=reading.article_id,
            match_id=reading.match_id,
            same_event=reading.same_event,
            reason=reading.reason,
            model=reading.model,
            at=as_utc(reading.at),
        )
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: PostgreSQL drivers report -1 for ON CONFLICT.
        .returning(readings.c.article_id)
    ).first()
    return inserted is not None


#: The folds by which a report is in a story through another report: it joined that
#: report, or founded a story merged in because that report told both.
_JOINS_THROUGH = ("similarity", "same_event", "merged")


def _joined_through(conn: Connection, story: str, article_id: str) -> list[str]:
    """The members of ``story`` that are in it through ``article_id``: matched to it, or
    to a report that was, or in a story merged in because it told both (a copy of a
    report the reader reads as another event is another event's too, and a story that
    report alone brought in leaves with it)."""
    along: list[str] = []
    through = [article_id]
    while through:
        through = list(
            conn.execute(
                select(articles.c.id).where(
                    articles.c.story_id == story,
                    articles.c.fold_match.in_(through),
                    articles.c.fold_rule.in_(_JOINS_THROUGH),
                    articles.c.id.not_in([article_id, *along]),
                )
            ).scalars()
        )
        along += through
    return along


def _split_out(conn: Connection, article_id: str, now: datetime, take_along: bool = False) -> str:
    """Take an article out of its story in the transaction on ``conn`` (``Store.split``):
    its new story id. With ``take_along``, the reports that joined the story through it
    (``_joined_through``) go with it."""
    old = conn.execute(select(articles.c.story_id).where(articles.c.id == article_id)).scalar()
    if old is None:
        raise StoreError(f"no stored article has the id {article_id!r}")
    count = conn.execute(select(func.count()).where(articles.c.story_id == old)).scalar_one()
    if count < 2:
        raise StoreError(f"article {article_id} is the only member of its story")
    # The story keeps its id; the founder leaving it takes a derived one.
    new = article_id if article_id != old else story_id(article_id, "split")
    seq = next_seq(conn)
    conn.execute(
        update(articles)
        .where(articles.c.id == article_id)
        .values(
            story_id=new,
            fold_rule=story_merge.SPLIT,
            fold_match=old,
            fold_score=None,
            fold_evidence=None,
            seq=seq,
        )
    )
    along = _joined_through(conn, old, article_id) if take_along else []
    for follower in along:  # each change of an article takes a change number of its own
        seq = next_seq(conn)
        # It keeps the fold by which it joined: the report it joined is with it.
        conn.execute(
            update(articles).where(articles.c.id == follower).values(story_id=new, seq=seq)
        )
    db = Statements(conn)
    touch_story(db, old, seq)  # fewer members: its date and its item change
    touch_story(db, new, seq)
    moved = conn.execute(
        select(
            articles.c.id,
            articles.c.canonical_url,
            articles.c.text_hash,
            articles.c.words,
            articles.c.figures,
            articles.c.date,
        ).where(articles.c.id.in_([article_id, *along]))
    ).all()
    for row in moved:
        story_index.move_words(
            db,
            row.id,
            Words.decode(row.words),
            story_index.decode_figures(row.figures),
            row.date,
            new,
        )
        for kind, key, column in (
            ("url", row.canonical_url, articles.c.canonical_url),
            ("hash", row.text_hash, articles.c.text_hash),
        ):
            if key is None:
                continue
            shared = conn.execute(
                select(exists().where(articles.c.story_id == old, column == key))
            ).scalar()
            if not shared:  # the key was the moved reports' alone: it goes with them
                conn.execute(
                    update(story_keys)
                    .where(
                        story_keys.c.kind == kind,
                        story_keys.c.key == key,
                        story_keys.c.story_id == old,
                    )
                    .values(story_id=new)
                )
    # A story merged away earlier and split out again is a story once more.
    conn.execute(delete(merges).where(merges.c.story_id == new))
    conn.execute(
        dialect_insert(conn, splits)
        .values(article_id=article_id, from_story=old, at=as_utc(now))
        .on_conflict_do_nothing()
    )
    return new
