"""Writing one article: inserted as a story's founder or member, or refreshed in place.

Runs inside the transaction ``Store.save_articles`` opened; the story is decided by
``story_index``. Also the change-number counter and the dialect's ``INSERT … ON CONFLICT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, Select, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from aggregator.dedup import Fingerprint
from aggregator.errors import StoreError
from aggregator.model import Article, StoredArticle
from aggregator.store import story_index, story_merge
from aggregator.store.codec import content_hash, decode_article, encode_article
from aggregator.store.driver import Statements, micros, read_moment
from aggregator.store.schema import SEQ_COUNTER, articles, counters
from aggregator.store.story_index import FoldPolicy
from aggregator.words import Words

Outcome = Literal["inserted", "updated", "unchanged", "duplicates", "folded"]


_INSERT_ARTICLE = (
    "INSERT INTO articles (id, seq, source_id, guid, canonical_url, content_hash, title, date, "
    "first_seen, updated_at, data, text_hash, sketch, figures, words, story_id, fold_rule, "
    "fold_match, fold_score, fold_evidence) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
_NEXT_SEQ = f"UPDATE counters SET value = value + 1 WHERE name = '{SEQ_COUNTER}' RETURNING value"


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """What saving needs of an entry already stored under the same source and guid."""

    id: str
    content_hash: str
    sketch: bytes | None
    date: datetime | None
    story_id: str
    words: Words
    figures: frozenset[str]


def stored_entries(db: Statements, source_id: str, guids: Sequence[str]) -> dict[str, StoredEntry]:
    """The entries of ``source_id`` already stored under any of ``guids``, by guid."""
    found: dict[str, StoredEntry] = {}
    for start in range(0, len(guids), 500):
        chunk = guids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for guid, *values in db.all(
            "SELECT guid, id, content_hash, sketch, date, story_id, words, figures FROM articles "
            f"WHERE source_id = ? AND guid IN ({marks})",
            [source_id, *chunk],
        ):
            found[guid] = _stored_entry(values)
    return found


def _stored_entry(values: Sequence[Any]) -> StoredEntry:
    article_id, digest, sketch, date, story, words, figures = values
    return StoredEntry(
        article_id,
        digest,
        None if sketch is None else bytes(sketch),
        read_moment(date),
        story,
        Words.decode(words),
        story_index.decode_figures(figures),
    )


def save_one(
    db: Statements,
    source_id: str,
    guid: str,
    article: Article,
    fingerprint: Fingerprint | None,
    policy: FoldPolicy,
    now: datetime,
    existing: StoredEntry | None,
) -> Outcome:
    if existing is not None:
        return refresh(db, existing, article, fingerprint, now)
    assert article.id is not None
    # Only its keys place the article now (the same URL, the same text); by n-grams and
    # words it is placed when the pass ends (or this save does), the earliest first
    # (``settling``). Its words are indexed now: they count in how rare a word is, but
    # the article is no one's candidate until placed.
    waits = _waits(policy, article, fingerprint)
    arrival = replace(policy, near_duplicates=False) if waits else policy
    placement = story_index.place(db, article.id, article, fingerprint, arrival)
    encoded = encode_article(article)
    sketch = story_index.sketch_of(fingerprint)
    seq = take_seq(db)
    placement = story_merge.current(db, placement)
    inserted = db.one(
        _INSERT_ARTICLE,
        (
            article.id,
            seq,
            source_id,
            guid,
            article.canonical_url,
            content_hash(encoded),
            article.title,
            db.moment(article.date),
            db.moment(now),
            db.moment(now),
            encoded,
            fingerprint.content_hash if fingerprint else None,
            sketch,
            story_index.encode_figures(fingerprint.figures) if fingerprint else None,
            fingerprint.words.encode() or None if fingerprint else None,
            placement.story_id,
            placement.rule,
            placement.match,
            placement.score,
            placement.evidence,
        ),
    )
    # RETURNING, not rowcount: PostgreSQL drivers report -1 for ON CONFLICT inserts.
    if inserted is None:
        # A concurrent writer stored the same entry since we looked.
        again = stored_entries(db, source_id, [guid]).get(guid)
        if again is not None:
            return refresh(db, again, article, fingerprint, now)
        return "duplicates"
    claimed = story_index.claim_keys(db, article.id, article, fingerprint, placement)
    if claimed != placement:
        db.run(
            "UPDATE articles SET story_id = ?, fold_rule = ?, fold_match = ?, fold_score = ?, "
            "fold_evidence = ? WHERE id = ?",
            (
                claimed.story_id,
                claimed.rule,
                claimed.match,
                claimed.score,
                claimed.evidence,
                article.id,
            ),
        )
    story = claimed.story_id
    if claimed.bridges and claimed == placement:
        story = story_merge.merge_bridged(db, article.id, claimed, seq, now)
    story_index.index_sketch(db, article.id, sketch, article.date)
    if fingerprint is not None:
        story_index.index_words(
            db, article.id, fingerprint.words, fingerprint.figures, article.date, story
        )
    if waits:
        assert article.date is not None
        db.run(_UNSETTLED, (article.id, micros(article.date)))
    # A story is shown (has a row) once placed: a founder that waits may yet join another.
    if not waits or claimed.rule is not None:
        touch_story(db, story, seq)
    return "inserted" if claimed.rule is None else "folded"


_UNSETTLED = "INSERT INTO unsettled (article_id, date) VALUES (?, ?) ON CONFLICT DO NOTHING"


def _waits(policy: FoldPolicy, article: Article, fingerprint: Fingerprint | None) -> bool:
    """Whether the article is to be placed by n-grams or words (``settling``): it has a
    date and something to compare."""
    if not policy.near_duplicates or article.date is None or fingerprint is None:
        return False
    has_words = policy.independent_reports and bool(fingerprint.words)
    return has_words or story_index.sketch_of(fingerprint) is not None


def refresh(
    db: Statements,
    existing: StoredEntry,
    article: Article,
    fingerprint: Fingerprint | None,
    now: datetime,
) -> Outcome:
    """Update a stored entry in place if its content changed, keeping its id, its story and
    first_seen: an entry's story is decided when it first arrives (and changes after only
    when a later arrival merges its story into another, ``story_merge``)."""
    article = replace(article, id=existing.id)
    encoded = encode_article(article)
    digest = content_hash(encoded)
    if digest == existing.content_hash:
        return "unchanged"
    seq = take_seq(db)
    columns: dict[str, Any] = {
        "seq": seq,
        "content_hash": digest,
        "title": article.title,
        "date": db.moment(article.date),
        "canonical_url": article.canonical_url,
        "updated_at": db.moment(now),
        "data": encoded,
    }
    sketch = story_index.sketch_of(fingerprint)
    waiting: tuple[Any, ...] | None = None
    if fingerprint is not None:
        columns.update(
            text_hash=fingerprint.content_hash,
            sketch=sketch,
            figures=story_index.encode_figures(fingerprint.figures),
            words=fingerprint.words.encode() or None,
        )
    assignments = ", ".join(f"{name} = ?" for name in columns)
    db.run(f"UPDATE articles SET {assignments} WHERE id = ?", [*columns.values(), existing.id])
    if fingerprint is not None:
        story_index.unindex_sketch(db, existing.id, existing.sketch, existing.date)
        story_index.index_sketch(db, existing.id, sketch, article.date)
        story_index.unindex_words(db, existing.id, existing.words, existing.figures, existing.date)
        story_index.index_words(
            db,
            existing.id,
            fingerprint.words,
            fingerprint.figures,
            article.date,
            existing.story_id,
        )
        # Not yet placed: it is, in the order of its new date.
        if article.date is not None:
            waiting = db.one(
                "UPDATE unsettled SET date = ? WHERE article_id = ? RETURNING article_id",
                (micros(article.date), existing.id),
            )
        else:
            db.run("DELETE FROM unsettled WHERE article_id = ?", (existing.id,))
    # A founder that waits is shown once placed (``settling``).
    if waiting is None or existing.story_id != existing.id:
        touch_story(db, existing.story_id, seq)
    return "updated"


_TOUCH_STORY = (
    "INSERT INTO stories (id, sort_date, changed_seq) "
    "SELECT story_id, MIN(COALESCE(date, first_seen)), ? FROM articles WHERE story_id = ? "
    "GROUP BY story_id "
    "ON CONFLICT (id) DO UPDATE SET sort_date = excluded.sort_date, "
    "changed_seq = excluded.changed_seq"
)


def touch_story(db: Statements, story_id: str, seq: int) -> None:
    """Bring the story's row up to date after a change (numbered ``seq``) to its members;
    a story left with no members loses its row."""
    db.run(_TOUCH_STORY, (seq, story_id))
    db.run(
        "DELETE FROM stories WHERE id = ? AND NOT EXISTS "
        "(SELECT 1 FROM articles WHERE story_id = ?)",
        (story_id, story_id),
    )


def take_seq(db: Statements) -> int:
    """``next_seq`` on the driver's cursor."""
    row = db.one(_NEXT_SEQ)
    assert row is not None
    return int(row[0])


def next_seq(conn: Connection) -> int:
    """A fresh change number. The counter row stays locked until commit, so change numbers
    are handed out in commit order and a reader never misses a change below one it saw."""
    value = conn.execute(
        update(counters)
        .where(counters.c.name == SEQ_COUNTER)
        .values(value=counters.c.value + 1)
        .returning(counters.c.value)
    ).scalar_one()
    return int(value)


def insert_for(conn: Connection) -> Any:
    """The dialect's ``insert`` (with ON CONFLICT support) as a function of a table."""
    return lambda table: dialect_insert(conn, table)


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"unsupported database {conn.dialect.name!r}; use sqlite or postgresql")


def articles_query() -> Select[Any]:
    return select(
        articles.c.source_id,
        articles.c.guid,
        articles.c.data,
        articles.c.first_seen,
        articles.c.seq,
        articles.c.story_id,
        articles.c.fold_rule,
        articles.c.fold_match,
        articles.c.fold_score,
        articles.c.fold_evidence,
    )


def stored_article(row: Row[Any]) -> StoredArticle:
    return StoredArticle(
        source_id=row.source_id,
        guid=row.guid,
        article=decode_article(row.data),
        first_seen=row.first_seen,
        seq=int(row.seq),
        story_id=row.story_id,
        fold_rule=row.fold_rule,
        fold_match=row.fold_match,
        fold_score=row.fold_score,
        fold_evidence=row.fold_evidence,
    )
