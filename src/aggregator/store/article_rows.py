"""Writing one article: inserted as a story's founder or member, or refreshed in place.

Runs inside the transaction ``Store.save_articles`` opened; the story is decided by
``story_index``. Also the change-number counter and the dialect's ``INSERT … ON CONFLICT``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, Select, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from aggregator.dedup import Fingerprint
from aggregator.errors import StoreError
from aggregator.model import Article, StoredArticle
from aggregator.store import story_index
from aggregator.store.codec import content_hash, decode_article, encode_article
from aggregator.store.schema import SEQ_COUNTER, articles, counters
from aggregator.store.story_index import FoldPolicy

Outcome = Literal["inserted", "updated", "unchanged", "duplicates", "folded"]


def save_one(
    conn: Connection,
    source_id: str,
    guid: str,
    article: Article,
    fingerprint: Fingerprint | None,
    policy: FoldPolicy,
    now: datetime,
) -> Outcome:
    existing = find_entry(conn, source_id, guid)
    if existing is not None:
        return refresh(conn, existing, article, fingerprint, now)
    assert article.id is not None
    placement = story_index.place(conn, article.id, article, fingerprint, policy)
    encoded = encode_article(article)
    stmt = (
        dialect_insert(conn, articles)
        .values(
            id=article.id,
            seq=next_seq(conn),
            source_id=source_id,
            guid=guid,
            canonical_url=article.canonical_url,
            content_hash=content_hash(encoded),
            title=article.title,
            date=article.date,
            first_seen=now,
            updated_at=now,
            data=encoded,
            **fingerprint_columns(fingerprint),
            **placement_columns(placement),
        )
        .on_conflict_do_nothing()
    )
    # RETURNING, not rowcount: PostgreSQL drivers report -1 for ON CONFLICT inserts.
    if conn.execute(stmt.returning(articles.c.id)).first() is None:
        # A concurrent writer stored the same entry since we looked.
        existing = find_entry(conn, source_id, guid)
        if existing is not None:
            return refresh(conn, existing, article, fingerprint, now)
        return "duplicates"
    claimed = story_index.claim_keys(
        conn, insert_for(conn), article.id, article, fingerprint, placement
    )
    if claimed != placement:
        conn.execute(
            update(articles).where(articles.c.id == article.id).values(**placement_columns(claimed))
        )
    if fingerprint is not None:
        story_index.index_bands(conn, insert_for(conn), article.id, fingerprint, article.date)
    return "inserted" if claimed.rule is None else "folded"


def fingerprint_columns(fingerprint: Fingerprint | None) -> dict[str, Any]:
    if fingerprint is None:
        return {}
    return {
        "text_hash": fingerprint.content_hash,
        "signature": fingerprint.encode_signature(),
        "figures": story_index.encode_figures(fingerprint.figures),
    }


def placement_columns(placement: story_index.Placement) -> dict[str, Any]:
    return {
        "story_id": placement.story_id,
        "fold_rule": placement.rule,
        "fold_match": placement.match,
        "fold_score": placement.score,
    }


def refresh(
    conn: Connection,
    existing: Row[Any],
    article: Article,
    fingerprint: Fingerprint | None,
    now: datetime,
) -> Outcome:
    """Update a stored entry in place if its content changed, keeping its id, its story and
    first_seen: a story's membership is decided once, when an entry first arrives."""
    article = replace(article, id=existing.id)
    encoded = encode_article(article)
    digest = content_hash(encoded)
    if digest == existing.content_hash:
        return "unchanged"
    values: dict[str, Any] = {
        "seq": next_seq(conn),
        "content_hash": digest,
        "title": article.title,
        "date": article.date,
        "canonical_url": article.canonical_url,
        "updated_at": now,
        "data": encoded,
        **fingerprint_columns(fingerprint),
    }
    conn.execute(update(articles).where(articles.c.id == existing.id).values(values))
    if fingerprint is not None:
        story_index.index_bands(
            conn, insert_for(conn), existing.id, fingerprint, article.date, replace=True
        )
    return "updated"


def find_entry(conn: Connection, source_id: str, guid: str) -> Row[Any] | None:
    return conn.execute(
        select(articles.c.id, articles.c.content_hash, articles.c.canonical_url).where(
            articles.c.source_id == source_id, articles.c.guid == guid
        )
    ).first()


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
    )
