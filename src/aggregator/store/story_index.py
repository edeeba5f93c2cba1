"""Which story an incoming article joins, decided inside the save transaction.

In order: a story already holding its canonical URL, then one holding its content hash
(one story per key, enforced by ``story_keys``' primary key, so concurrent writers agree),
then, when near-duplicates are on, the most similar story within the time window found
through the LSH index ``sketch_bands``. Otherwise the article founds a story of its own.

Sketches are compared as the store keeps them (``dedup.stored_sketch``), and the index
keys are made from those stored values too, so an updated article's old keys can be
found again without an index on its id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from aggregator.config.settings import DedupSettings
from aggregator.dedup import (
    BANDS,
    Fingerprint,
    band_index_keys,
    best_match,
    is_blank,
    read_stored_sketch,
    stored_sketch,
)
from aggregator.model import Article
from aggregator.store.driver import Statements, micros

#: ``story_keys.kind`` → the rule named in explanations.
KEY_RULES = {"url": "canonical_url", "hash": "content_hash"}
#: Articles read per band key at most (the most recent), and compared per article at most
#: (those sharing the most band keys).
PER_BAND = 10
MAX_CANDIDATES = 20


_DEFAULTS = DedupSettings()


@dataclass(frozen=True, slots=True)
class FoldPolicy:
    """How near-duplicates are looked for (feeds.yaml ``dedup``)."""

    near_duplicates: bool = _DEFAULTS.near_duplicates
    threshold: float = _DEFAULTS.threshold
    window: timedelta = _DEFAULTS.window


@dataclass(frozen=True, slots=True)
class Placement:
    story_id: str
    #: None: the article founds the story.
    rule: str | None = None
    match: str | None = None
    score: float | None = None


def story_keys_of(article: Article, fingerprint: Fingerprint | None) -> list[tuple[str, str]]:
    keys = []
    if article.canonical_url:
        keys.append(("url", article.canonical_url))
    if fingerprint is not None:
        keys.append(("hash", fingerprint.content_hash))
    return keys


def sketch_of(fingerprint: Fingerprint | None) -> bytes | None:
    """What ``articles.sketch`` keeps: None for a text too short (or blank) to compare."""
    if fingerprint is None or is_blank(fingerprint.signature):
        return None
    return stored_sketch(fingerprint.signature)


_KEY_OWNER = "SELECT story_id FROM story_keys WHERE kind = ? AND key = ?"


def place(
    db: Statements,
    article_id: str,
    article: Article,
    fingerprint: Fingerprint | None,
    policy: FoldPolicy,
) -> Placement:
    """The story ``article`` joins, and by which rule."""
    for kind, key in story_keys_of(article, fingerprint):
        owner = db.one(_KEY_OWNER, (kind, key))
        if owner is not None:
            return Placement(owner[0], KEY_RULES[kind], _holder(db, kind, key))
    sketch = sketch_of(fingerprint)
    if policy.near_duplicates and fingerprint is not None and sketch and article.date:
        stored = read_stored_sketch(sketch)
        found = best_match(
            replace(fingerprint, signature=stored),
            _candidates(db, stored, article.date, policy),
            policy.threshold,
        )
        if found is not None:
            story = db.one("SELECT story_id FROM articles WHERE id = ?", (found.article_id,))
            assert story is not None
            return Placement(story[0], "similarity", found.article_id, round(found.score, 4))
    return Placement(article_id)


def claim_keys(
    db: Statements,
    article_id: str,
    article: Article,
    fingerprint: Fingerprint | None,
    placement: Placement,
) -> Placement:
    """Record the article's keys for its story. A founder whose key another writer claimed
    meanwhile joins that writer's story instead (the primary key decides)."""
    for kind, key in story_keys_of(article, fingerprint):
        claimed = db.one(
            "INSERT INTO story_keys (kind, key, story_id) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING story_id",
            (kind, key, placement.story_id),
        )
        if claimed is not None:
            continue
        owner = db.one(_KEY_OWNER, (kind, key))
        assert owner is not None
        if placement.rule is None and owner[0] != placement.story_id:
            placement = Placement(owner[0], KEY_RULES[kind], _holder(db, kind, key, article_id))
    return placement


def index_sketch(
    db: Statements, article_id: str, sketch: bytes | None, date: datetime | None
) -> None:
    """Index the article's stored sketch under its band keys (with no sketch or date,
    it is never looked for by similarity, and not indexed)."""
    db.many(
        "INSERT INTO sketch_bands (key, date, article_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        _band_rows(article_id, sketch, date),
    )


def unindex_sketch(
    db: Statements, article_id: str, sketch: bytes | None, date: datetime | None
) -> None:
    """Remove what ``index_sketch`` added for the article's previous sketch and date."""
    db.many(
        "DELETE FROM sketch_bands WHERE key = ? AND date = ? AND article_id = ?",
        _band_rows(article_id, sketch, date),
    )


def _band_rows(
    article_id: str, sketch: bytes | None, date: datetime | None
) -> list[tuple[int, int, str]]:
    """The article's rows of ``sketch_bands``: none without a sketch or a date."""
    if sketch is None or date is None:
        return []
    when = micros(date)
    return [(key, when, article_id) for key in band_index_keys(read_stored_sketch(sketch))]


def _band_hits_sql() -> str:
    """Built once: the most recent ``PER_BAND`` articles under each band key in the window."""
    part = (
        "SELECT article_id FROM (SELECT article_id FROM sketch_bands "
        "WHERE key = ? AND date BETWEEN ? AND ? "
        f"ORDER BY date DESC, article_id DESC LIMIT {PER_BAND}) AS band_{{i}}"
    )
    return " UNION ALL ".join(part.format(i=i) for i in range(BANDS))


_BAND_HITS = _band_hits_sql()


def _candidates(
    db: Statements, stored: Sequence[int], date: datetime, policy: FoldPolicy
) -> list[tuple[str, tuple[int, ...], frozenset[str]]]:
    """The stories most likely to match: those sharing the most band keys, among the most
    recent few under each key. Bounded work per article, however many near-identical
    template stories a busy source sends."""
    low, high = micros(date - policy.window), micros(date + policy.window)
    params: list[object] = []
    for key in band_index_keys(stored):
        params += (key, low, high)
    hits = Counter(row[0] for row in db.all(_BAND_HITS, params))
    if not hits:
        return []
    best = [article_id for article_id, _ in hits.most_common(MAX_CANDIDATES)]
    marks = ", ".join("?" * len(best))
    rows = db.all(
        f"SELECT id, sketch, figures FROM articles WHERE id IN ({marks}) AND sketch IS NOT NULL",
        best,
    )
    return [(row[0], read_stored_sketch(bytes(row[1])), decode_figures(row[2])) for row in rows]


def _holder(db: Statements, kind: str, key: str, other_than: str | None = None) -> str | None:
    """The earliest stored article holding ``key`` (what a key fold matched)."""
    column = "canonical_url" if kind == "url" else "text_hash"
    if other_than is None:
        row = db.one(f"SELECT id FROM articles WHERE {column} = ? ORDER BY seq LIMIT 1", (key,))
    else:
        row = db.one(
            f"SELECT id FROM articles WHERE {column} = ? AND id <> ? ORDER BY seq LIMIT 1",
            (key, other_than),
        )
    return None if row is None else row[0]


def encode_figures(figures: frozenset[str]) -> str:
    return " ".join(sorted(figures))


def decode_figures(text: str | None) -> frozenset[str]:
    return frozenset(text.split()) if text else frozenset()
