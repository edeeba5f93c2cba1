"""Which story an incoming article joins, decided inside the save transaction.

In order: a story already holding its canonical URL, then one holding its content hash
(one story per key, enforced by ``story_keys``' primary key, so concurrent writers agree),
then, when near-duplicates are on, the most similar story within the time window found
through the LSH ``bands`` index. Otherwise the article founds a story of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Connection,
    bindparam,
    delete,
    select,
    union_all,
)

from aggregator.config.settings import DedupSettings
from aggregator.dedup import BANDS, Fingerprint, band_keys, best_match
from aggregator.model import Article
from aggregator.store.schema import articles, bands, story_keys

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


def place(
    conn: Connection,
    article_id: str,
    article: Article,
    fingerprint: Fingerprint | None,
    policy: FoldPolicy,
) -> Placement:
    """The story ``article`` joins, and by which rule."""
    for kind, key in story_keys_of(article, fingerprint):
        owner = conn.execute(
            select(story_keys.c.story_id).where(story_keys.c.kind == kind, story_keys.c.key == key)
        ).scalar()
        if owner is not None:
            return Placement(owner, KEY_RULES[kind], _holder(conn, kind, key))
    if (
        policy.near_duplicates
        and fingerprint is not None
        and fingerprint.signature
        and article.date is not None
    ):
        found = best_match(
            fingerprint,
            ((c[0], c[1], c[2]) for c in _candidates(conn, fingerprint, article.date, policy)),
            policy.threshold,
        )
        if found is not None:
            story = conn.execute(
                select(articles.c.story_id).where(articles.c.id == found.article_id)
            ).scalar_one()
            return Placement(story, "similarity", found.article_id, round(found.score, 4))
    return Placement(article_id)


def claim_keys(
    conn: Connection,
    insert: object,
    article_id: str,
    article: Article,
    fingerprint: Fingerprint | None,
    placement: Placement,
) -> Placement:
    """Record the article's keys for its story. A founder whose key another writer claimed
    meanwhile joins that writer's story instead (the primary key decides)."""
    for kind, key in story_keys_of(article, fingerprint):
        statement = insert(story_keys).values(kind=kind, key=key, story_id=placement.story_id)  # type: ignore[operator]
        claimed = statement.on_conflict_do_nothing().returning(story_keys.c.story_id)
        if conn.execute(claimed).first() is not None:
            continue
        owner = conn.execute(
            select(story_keys.c.story_id).where(story_keys.c.kind == kind, story_keys.c.key == key)
        ).scalar_one()
        if placement.rule is None and owner != placement.story_id:
            placement = Placement(owner, KEY_RULES[kind], _holder(conn, kind, key, article_id))
    return placement


def index_bands(
    conn: Connection,
    insert: object,
    article_id: str,
    fingerprint: Fingerprint,
    date: datetime | None,
    *,
    replace: bool = False,
) -> None:
    """Index the article's sketch under its band keys (``replace``: drop its old ones)."""
    if replace:
        conn.execute(delete(bands).where(bands.c.article_id == article_id))
    if not fingerprint.signature:  # too short to compare: not indexed
        return
    rows = [
        {"band": key, "article_id": article_id, "date": date}
        for key in band_keys(fingerprint.signature)
    ]
    conn.execute(insert(bands).on_conflict_do_nothing(), rows)  # type: ignore[operator]


def _candidates(
    conn: Connection, fingerprint: Fingerprint, date: datetime, policy: FoldPolicy
) -> Sequence[tuple[str, tuple[int, ...], frozenset[str]]]:
    """The stories most likely to match: those sharing the most band keys, among the most
    recent few under each key. Bounded work per article, however many near-identical
    template stories a busy source sends."""
    keys = band_keys(fingerprint.signature)
    parameters: dict[str, object] = {f"band_{i}": key for i, key in enumerate(keys)}
    parameters.update(low=date - policy.window, high=date + policy.window)
    hits = Counter(conn.execute(_BAND_HITS, parameters).scalars())
    if not hits:
        return []
    best = [article_id for article_id, _ in hits.most_common(MAX_CANDIDATES)]
    rows = conn.execute(
        select(articles.c.id, articles.c.signature, articles.c.figures).where(
            articles.c.id.in_(best), articles.c.signature.is_not(None)
        )
    )
    return [
        (row.id, Fingerprint.decode_signature(row.signature), decode_figures(row.figures))
        for row in rows
    ]


def _band_hits_statement() -> CompoundSelect:
    """Built once: the most recent ``PER_BAND`` articles under each band key in the window."""
    low: BindParameter[datetime] = bindparam("low")
    high: BindParameter[datetime] = bindparam("high")
    parts = [
        select(
            select(bands.c.article_id)
            .where(bands.c.band == bindparam(f"band_{i}"), bands.c.date.between(low, high))
            .order_by(bands.c.date.desc())
            .limit(PER_BAND)
            .subquery()
            .c.article_id
        )
        for i in range(BANDS)
    ]
    return union_all(*parts)


_BAND_HITS = _band_hits_statement()


def _holder(conn: Connection, kind: str, key: str, other_than: str | None = None) -> str | None:
    """The earliest stored article holding ``key`` (what a key fold matched)."""
    column = articles.c.canonical_url if kind == "url" else articles.c.text_hash
    query = select(articles.c.id).where(column == key).order_by(articles.c.seq).limit(1)
    if other_than is not None:
        query = query.where(articles.c.id != other_than)
    return conn.execute(query).scalar()


def encode_figures(figures: frozenset[str]) -> str:
    return " ".join(sorted(figures))


def decode_figures(text: str | None) -> frozenset[str]:
    return frozenset(text.split()) if text else frozenset()
