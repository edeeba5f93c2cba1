"""Retention: articles older than the configured window leave the store, with their rows
in the sketch and word indexes, the story keys only they held, their split marks and
what the reader made of their folds.

An article goes when it was first seen before the cutoff and is dated (or, undated, first
seen) before it too. A story keeps its id and its remaining members; its place in the
channels follows them, but it is not marked changed, so the post already written for it
stays as it is. A story left with no member loses its row; its post stays too. A record
of a story merged into another (``merges``) goes once it is older than the cutoff: the
publishes since have removed the absorbed story's post.
"""

from __future__ import annotations

from datetime import datetime

from aggregator.store import story_index
from aggregator.store.driver import Statements, read_moment
from aggregator.words import Words

_OLDEST = (
    "SELECT id, story_id, canonical_url, text_hash, sketch, date, words, figures "
    "FROM articles "
    "WHERE first_seen < ? AND COALESCE(date, first_seen) < ? ORDER BY first_seen LIMIT ?"
)


def prune_batch(db: Statements, cutoff: datetime, limit: int) -> int:
    """Remove up to ``limit`` of the oldest articles past ``cutoff``; how many went."""
    when = db.moment(cutoff)
    rows = db.all(_OLDEST, (when, when, limit))
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    marks = ", ".join("?" * len(ids))
    for article_id, _, _, _, sketch, date, words, figures in rows:
        when = read_moment(date)
        story_index.unindex_sketch(db, article_id, None if sketch is None else bytes(sketch), when)
        story_index.unindex_words(
            db, article_id, Words.decode(words), story_index.decode_figures(figures), when
        )
    db.run(f"DELETE FROM splits WHERE article_id IN ({marks})", ids)
    db.run(f"DELETE FROM readings WHERE article_id IN ({marks})", ids)
    db.run(f"DELETE FROM near_misses WHERE article_id IN ({marks})", ids)
    db.run(f"DELETE FROM unsettled WHERE article_id IN ({marks})", ids)
    for source_id, removed in db.all(
        f"SELECT source_id, COUNT(*) FROM articles WHERE id IN ({marks}) GROUP BY source_id", ids
    ):
        db.run(
            "UPDATE sources SET article_count = article_count - ? WHERE id = ?",
            (removed, source_id),
        )
    db.run(f"DELETE FROM articles WHERE id IN ({marks})", ids)
    # A key stays with its story while a remaining member holds it.
    for _, story, url, text_hash, *_ in rows:
        for kind, key, column in (("url", url, "canonical_url"), ("hash", text_hash, "text_hash")):
            if key is None:
                continue
            db.run(
                "DELETE FROM story_keys WHERE kind = ? AND key = ? AND story_id = ? AND NOT "
                f"EXISTS (SELECT 1 FROM articles WHERE story_id = ? AND {column} = ?)",
                (kind, key, story, story, key),
            )
    for story in {row[1] for row in rows}:
        db.run(
            "DELETE FROM stories WHERE id = ? AND NOT EXISTS "
            "(SELECT 1 FROM articles WHERE story_id = ?)",
            (story, story),
        )
        db.run(
            "UPDATE stories SET sort_date = (SELECT MIN(COALESCE(date, first_seen)) "
            "FROM articles WHERE story_id = ?) WHERE id = ?",
            (story, story),
        )
    return len(rows)


def prune_merges(db: Statements, cutoff: datetime) -> None:
    """Forget the merges made before ``cutoff``."""
    db.run("DELETE FROM merges WHERE at < ?", (db.moment(cutoff),))
