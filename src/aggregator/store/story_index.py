"""Which story an incoming article joins, decided inside the save transaction.

In order: a story already holding its canonical URL, then one holding its content hash
(one story per key, enforced by ``story_keys``' primary key, so concurrent writers agree),
then, when near-duplicates are on, a story told in the same or other words: candidates
come from the LSH index ``sketch_bands`` (articles sharing a band of the sketch within the
window) and from the inverted index ``word_postings`` (articles sharing rare content words
within the event window), and ``same_story.verdicts`` decides: the article joins the story
of the best, and when tellings of other stories fold with it as well, ``place`` names
them so ``story_merge`` merges them into one, as it does another candidate's story every
telling of which is one event with the joined story told together with the article.
Otherwise the article founds a story of its
own. Both look-ups read a bounded number of index rows per key, so
the work per article does not grow with the store.

Sketches are compared as the store keeps them (``dedup.stored_sketch``), and the index
keys are made from those stored values too, so an updated article's old keys can be
found again without an index on its id.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from aggregator.config.settings import DedupSettings
from aggregator.dedup import (
    BANDS,
    Fingerprint,
    band_index_keys,
    is_blank,
    read_stored_sketch,
    stored_sketch,
    telling_values,
)
from aggregator.model import Article
from aggregator.same_story import (
    CLOSE_HOURS,
    Rarity,
    Rules,
    Text,
    Verdict,
    may_be_one_event,
    may_merge,
    members_allow,
    told_together,
    verdict,
    verdicts,
)
from aggregator.store.driver import Statements, micros, read_moment
from aggregator.words import Words

#: ``story_keys.kind`` → the rule named in explanations.
KEY_RULES = {"url": "canonical_url", "hash": "content_hash"}
#: A near miss is looked for among reports published this many hours apart at most
#: (and within the event window), further than the rules weigh (``CLOSE_HOURS``): a
#: late telling of an event and a follow-up share the same words, and a reader tells them
#: apart where the score cannot.
NEAR_HOURS = 12.0
#: Articles read per band key at most (the most recent), and compared per article at most
#: (those sharing the most band keys).
PER_BAND = 10
MAX_CANDIDATES = 20
#: Articles read per content word at most: a word that many stories of the event window
#: hold weighs nothing (``same_story.Rarity``) and nominates no one. 32 instead of 64,
#: with 2 telling figures indexed instead of 4, folded the same on the tune half, alone
#: and among 10,000 other articles a day, and took a fifth to a quarter off the look-up
#: (counting each word's stories reads its postings; 50,000 stored).
PER_WORD = 32
#: Index terms more of the event window's stories hold than this nominate no one: they
#: weigh a fifth of a term no other story holds or less, and reading who holds every
#: common term was most of the look-up's cost (0.5 of 0.6 ms at 50,000 stored).
NOMINATING_HOLDERS = 16
#: Articles compared per article at most among those the words nominate (sharing the
#: most rarity-weighted index terms). With 50,000 stored, 5 instead of 10 (and 4 telling
#: figures instead of 8) took a fifth off what the look-up and reading and comparing the
#: candidates cost (3.5 → 2.9 ms a save), and folded the same on the tune half.
MAX_WORD_CANDIDATES = 5
#: Telling figures an article is indexed by at most (``index_terms``): each is a posting
#: written, a page of the index, and a key looked up. 2 instead of 4 folded the same on
#: the tune half, alone and in a busy store, with 2 fewer pages a save.
TELLING_KEYS = 2
#: The most telling figures any version of the store indexed an article by: removing or
#: moving an article's postings covers that many (and all its words, ``_every_word_key``).
TELLING_KEYS_EVER = 8


_DEFAULTS = DedupSettings()


@dataclass(frozen=True, slots=True)
class FoldPolicy:
    """How near-duplicates are looked for (feeds.yaml ``dedup``)."""

    near_duplicates: bool = _DEFAULTS.near_duplicates
    threshold: float = _DEFAULTS.threshold
    window: timedelta = _DEFAULTS.window
    event_score: float = _DEFAULTS.event_score
    event_window: timedelta = _DEFAULTS.event_window
    independent_reports: bool = _DEFAULTS.independent_reports
    #: With a reader (``dedup.reader.joins_from``): a report that founds a story alone is
    #: kept with the story it came closest to telling, from this event score on, for the
    #: reader to read (``NearMiss``); None keeps none.
    joins_from: float | None = None
    #: Reports written apart are weighed as one event only this close (hours).
    close_hours: float = CLOSE_HOURS


@dataclass(frozen=True, slots=True)
class Placement:
    story_id: str
    #: None: the article founds the story.
    rule: str | None = None
    match: str | None = None
    score: float | None = None
    #: Every signal's value, for a fold by similarity or same_event.
    evidence: str | None = None
    #: Other stories the article tells as well (one telling of each, the best): their
    #: stories are one, and are merged (``story_merge``).
    bridges: tuple[Bridge, ...] = ()


@dataclass(frozen=True, slots=True)
class Bridge:
    """A story the article also folds with, by the verdict on one of its tellings."""

    story_id: str
    rule: str
    match: str
    score: float
    evidence: str


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
    if policy.near_duplicates and fingerprint is not None and article.date:
        sketch = sketch_of(fingerprint)
        stored = read_stored_sketch(sketch) if sketch else ()
        # Copies only: no word look-up, so no rarity to weigh words by, and none compared.
        words = fingerprint.words if policy.independent_reports else Words()
        found, texts, new, rarity = _tellings(
            db, article_id, article.date, stored, fingerprint.figures, words, policy
        )
        told = _told(db, found, texts, policy, new, rarity)
        if told is not None:
            return told
    return Placement(article_id)


def settle_placement(
    db: Statements,
    text: Text,
    story_id: str,
    joined_by: str | None,
    policy: FoldPolicy,
    alone: bool = False,
) -> Settled:
    """Where a stored article not yet placed by n-grams and words (``unsettled``) belongs
    now that those before it are placed: the stories it tells, other than ``story_id``,
    its own (founded, or joined by a key on arrival); none when it tells no other.
    Candidates are placed articles only, and its words are weighed by how many stories of
    the window hold them, placed or waiting, so the outcome does not depend on the order
    the articles arrived in, only on the order they are placed in (their dates). An
    article that joined its story on arrival by ``joined_by``'s telling tells another
    only where the two tellings may be one event (``may_merge``: a round-up of two fires
    joins one). An article ``alone`` in the story it founded that tells none, with
    ``policy.joins_from``, is kept with the story it came closest to (``NearMiss``)."""
    if not policy.near_duplicates or text.date is None:
        return Settled()
    # Copies only: no word look-up, so no rarity to weigh words by, and none compared.
    words = text.words if policy.independent_reports else Words()
    floor = policy.joins_from if alone else None
    if floor is not None and floor >= policy.event_score:
        floor = None  # every verdict from there folds: no near miss to keep
    asking = floor is not None
    # Read down to ``joins_from``: the verdicts the rules fold by are those that reach
    # ``event_score`` (the same candidates, the same verdicts, one look-up).
    weighing = (
        policy if floor is None else replace(policy, event_score=floor, close_hours=NEAR_HOURS)
    )
    found, texts, new, rarity = _tellings(
        db,
        text.article_id,
        text.date,
        text.signature,
        text.figures,
        words,
        weighing,
        placed_apart_from=story_id,
    )
    folding = [v for v in found if _reaches(v, policy)] if asking else found
    if folding and joined_by is not None:
        rules = _rules(policy)
        for telling in _texts(db, [joined_by]):
            folding = [v for v in folding if may_merge(telling, texts[v.article_id], rules)]
    placement = _told(db, folding, texts, policy, new, rarity)
    if placement is not None or not asking:
        return Settled(placement)
    return Settled(near=_nearest(found, db))


@dataclass(frozen=True, slots=True)
class NearMiss:
    """The story a report written apart came closest to telling without folding: its
    best telling, published within ``NEAR_HOURS`` of it, scored at least
    ``dedup.reader.joins_from`` as one event (under ``dedup.event_score``, further apart
    than the rules weigh, or the story's other members kept it out)."""

    story_id: str
    match: str
    score: float
    evidence: str


@dataclass(frozen=True, slots=True)
class Settled:
    """What placing a stored article found: the stories it tells (None: none), or else
    the one it came closest to (``NearMiss``)."""

    found: Placement | None = None
    near: NearMiss | None = None


def _reaches(told: Verdict, policy: FoldPolicy) -> bool:
    """Whether a verdict found weighing as for near misses (down to a lower event score,
    further apart) is one the rules fold by at ``policy``."""
    if told.rule != "same_event":
        return True
    score, hours = told.signals.event, told.signals.hours
    return (
        score is not None
        and score >= policy.event_score
        and hours is not None
        and hours <= min(policy.close_hours, policy.event_window.total_seconds() / 3600)
    )


def _nearest(found: list[Verdict], db: Statements) -> NearMiss | None:
    """The story of the best telling the article is one event with when weighed as for
    near misses (down to ``joins_from``, ``NEAR_HOURS`` apart). The story's other members
    are not asked to agree, as the rules ask of a fold: the reader reads the two reports,
    and on the evaluation set's tuning half, with a reader that reads as the labels do,
    asking so found 24 more reports' stories a pass instead of 19, for 92 readings
    instead of 48."""
    for told in found:  # best first
        if told.rule == "same_event":
            story = _stories_of(db, [told.article_id])[told.article_id]
            return NearMiss(story, told.article_id, told.score, told.signals.describe())
    return None


def stored_text(db: Statements, article_id: str) -> Text | None:
    """What is compared of a stored article, as its row keeps it."""
    found = _texts(db, [article_id])
    return found[0] if found else None


def _told(
    db: Statements,
    found: list[Verdict],
    texts: dict[str, Text],
    policy: FoldPolicy,
    new: Text,
    rarity: Rarity,
) -> Placement | None:
    """The story of the best verdict, and the other stories told as well (``Bridge``). A
    report written apart (``same_event``) tells a story only if the figures of every
    member allow it (``same_story.members_allow``), not only its match's, and, when two
    or more are placed, if it is one event with what they tell together
    (``same_story.told_together``). The story it joins, told together with it, may be
    one event with every telling of another candidate's story, which no telling matched
    alone (``_stories_told_alike``): that story is merged into it as well."""
    if not found:
        return None
    story_of = _stories_of(db, list(texts))
    best: dict[str, Verdict] = {}
    for told in found:  # best first: each story's first verdict is its best
        best.setdefault(story_of[told.article_id], told)
    matched = set(best)
    best = {
        story: told
        for story, told in best.items()
        if told.rule != "same_event" or _tells_the_story(db, new, story, rarity, policy)
    }
    if not best:
        return None
    (joined, first), *others = best.items()
    # Another story is the same event only if its telling and the joined one's may be: a
    # round-up of two events folds with both.
    rules = _rules(policy)
    bridges = [
        Bridge(story, v.rule, v.article_id, v.score, v.signals.describe())
        for story, v in others
        if may_merge(texts[first.article_id], texts[v.article_id], rules)
    ]
    bridges += _stories_told_alike(db, joined, new, texts, story_of, matched, rarity, policy)
    return Placement(
        joined, first.rule, first.article_id, first.score, first.signals.describe(), tuple(bridges)
    )


def _stories_told_alike(
    db: Statements,
    joined: str,
    new: Text,
    texts: dict[str, Text],
    story_of: dict[str, str],
    matched: set[str],
    rarity: Rarity,
    policy: FoldPolicy,
) -> list[Bridge]:
    """Other candidates' stories that the story an article joins, told together with it,
    tells: every placed telling of one is one event with them (``verdict``, its words
    weighed by the article's rarity, as every comparison placing it is) and states no
    figure they state otherwise. Two reports of an event written apart that did not find
    each other may each be one event with what a third and one of them tell together.
    Stories a telling of the article matched (``matched``) were judged by that verdict:
    joined, bridged or kept apart."""
    rules = _rules(policy)
    apart = sorted(set(story_of.values()) - matched)
    if not apart or not rules.independent_reports:
        return []
    placed = [t for t in _texts(db, _placed_members(db, joined)) if t.article_id != new.article_id]
    if not placed:
        return []
    together = told_together([*placed, new])
    # What a verdict asks before reading any words, of the candidates read already: most
    # stories stop here, and their other tellings are not read.
    apart = [
        story
        for story in apart
        if all(
            may_be_one_event(text, together, rules)
            for article_id, text in texts.items()
            if story_of[article_id] == story
        )
    ]
    if not apart:
        return []
    figures = [*_member_figures(db, joined), new.figures]
    placed_apart = _placed_by_story(db, apart)
    read = {t.article_id: t for t in _texts(db, [m for _, ms in placed_apart for m in ms])}
    bridges = []
    for story, members in placed_apart:
        found: list[tuple[float, str, Verdict]] = []
        for telling in (read[member] for member in members):
            alike = (
                verdict(telling, together, rarity, rules)
                if members_allow(telling.figures, figures)
                else None
            )
            if alike is None:
                break
            found.append((alike.score, telling.article_id, alike))
        else:
            if found:
                score, telling_id, alike = min(found)
                told = f"the story it joined and it, {len(placed) + 1} tellings told together"
                evidence = f"{told}: {alike.signals.describe()}"
                bridges.append(Bridge(story, alike.rule, telling_id, score, evidence))
    return bridges


def _placed_by_story(db: Statements, stories: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The placed members of each story (``_placed_members``), by story id, in one read."""
    if not stories:
        return []
    marks = ", ".join("?" * len(stories))
    members: dict[str, list[str]] = {story: [] for story in stories}
    for story, article_id in db.all(_PLACED_BY_STORY.format(marks=marks), list(stories)):
        members[story].append(article_id)
    return sorted(members.items())


_PLACED_BY_STORY = (
    "SELECT story_id, id FROM articles WHERE story_id IN ({marks}) "
    "AND NOT EXISTS (SELECT 1 FROM unsettled WHERE article_id = articles.id) ORDER BY id"
)


def _tells_the_story(
    db: Statements, new: Text, story_id: str, rarity: Rarity, policy: FoldPolicy
) -> bool:
    """Whether a report that one member's telling matched as the same event tells the
    story: no member states other figures, and it is one event with the story's placed
    members told together."""
    if not members_allow(new.figures, _member_figures(db, story_id)):
        return False
    placed = _placed_members(db, story_id)
    if len(placed) < 2:
        return True
    together = told_together(_texts(db, placed))
    return verdict(new, together, rarity, _rules(policy)) is not None


def _placed_members(db: Statements, story_id: str) -> list[str]:
    """The members of a story that are placed (not waiting in ``unsettled``)."""
    return _placed_by_story(db, [story_id])[0][1]


def _member_figures(db: Statements, story_id: str) -> list[frozenset[str]]:
    return [_stored_figures(row[0]) for row in db.all(_MEMBER_FIGURES, (story_id,))]


#: Each set of figures once: a story many outlets carried the wire copy of holds few.
_MEMBER_FIGURES = "SELECT DISTINCT figures FROM articles WHERE story_id = ?"


def _stories_of(db: Statements, article_ids: Sequence[str]) -> dict[str, str]:
    marks = ", ".join("?" * len(article_ids))
    return dict(
        db.all(f"SELECT id, story_id FROM articles WHERE id IN ({marks})", list(article_ids))
    )


def _tellings(
    db: Statements,
    article_id: str,
    date: datetime,
    stored: tuple[int, ...],
    figures: frozenset[str],
    words: Words,
    policy: FoldPolicy,
    placed_apart_from: str | None = None,
) -> tuple[list[Verdict], dict[str, Text], Text, Rarity]:
    """The stored articles this one tells the story of, the best first, among those
    sharing a band of its sketch and those sharing its rare words (``words``, none for
    copies only); the candidates compared, by id; and the article as compared, with the
    rarity its words were weighed by. With ``placed_apart_from`` (the
    article's own story), only placed articles of other stories are candidates."""
    skip = _own_story(db, placed_apart_from) if placed_apart_from else frozenset()
    nominated = (
        _band_candidates(db, stored, date, policy, skip, placed_only=bool(placed_apart_from))
        if stored
        else []
    )
    holders: dict[str, int] = {}
    by_words: list[str] = []
    if words:
        terms = index_terms(words, figures)
        holders, by_words = _word_candidates(
            db, terms, date, policy, skip, placed_only=bool(placed_apart_from)
        )
        nominated += [found for found in by_words if found not in nominated]
    new = Text(article_id, stored, figures, words, date)
    rarity = Rarity(holders, PER_WORD)
    if not nominated:
        return [], {}, new, rarity
    candidates = _texts(db, nominated)
    # A candidate only the sketch nominated is weighed as one event only if it shares a
    # few n-grams (``same_story.verdicts``): most share less, and their words are not read.
    found = verdicts(new, candidates, rarity, _rules(policy), weighed=frozenset(by_words))
    return found, {text.article_id: text for text in candidates}, new, rarity


def _own_story(db: Statements, story_id: str) -> frozenset[str]:
    """The members of a story: no candidates for a member's placement."""
    return frozenset(row[0] for row in db.all(_MEMBERS, (story_id,)))


_MEMBERS = "SELECT id FROM articles WHERE story_id = ?"


def _rules(policy: FoldPolicy) -> Rules:
    return Rules(
        policy.threshold,
        policy.event_score,
        policy.event_window,
        policy.independent_reports,
        policy.close_hours,
    )


def lock_placement(
    db: Statements, fingerprints: Iterable[Fingerprint | None], by_words: bool = True
) -> None:
    """Make placing these articles race-free against other writers (PostgreSQL): take a
    transaction-scoped advisory lock on every key an article is found by — its sketch's
    band keys and its index terms. Two retellings that could find each other share one
    of them, so the second writer waits until the first has committed, and then finds
    it. All of a transaction's keys are taken at its start, in ascending order, so two
    writers never wait for each other in a circle; index terms only when articles are
    found ``by_words``. SQLite has one writer at a time."""
    if not db.postgres:
        return
    keys: set[int] = set()
    for fingerprint in fingerprints:
        if fingerprint is None:
            continue
        sketch = sketch_of(fingerprint)
        if sketch is not None:
            keys.update(band_index_keys(read_stored_sketch(sketch)))
        if by_words:
            keys.update(_word_keys(fingerprint.words, fingerprint.figures))
    _lock_keys(db, keys)


def lock_settling(db: Statements, article_ids: Sequence[str]) -> None:
    """``lock_placement`` for stored articles about to be placed by their words: the
    keys of their sketches and their index terms, read from their rows."""
    if not db.postgres or not article_ids:
        return
    marks = ", ".join("?" * len(article_ids))
    keys: set[int] = set()
    for sketch, figures, words in db.all(
        f"SELECT sketch, figures, words FROM articles WHERE id IN ({marks})", list(article_ids)
    ):
        if sketch is not None:
            keys.update(band_index_keys(read_stored_sketch(bytes(sketch))))
        keys.update(_word_keys(Words.decode(words), decode_figures(figures)))
    _lock_keys(db, keys)


def _lock_keys(db: Statements, keys: set[int]) -> None:
    if keys:
        # unnest returns the array's elements in order, and the locks are taken in it.
        db.run("SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k", (sorted(keys),))


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
    rows = _band_rows(article_id, sketch, date)
    if db.postgres and rows:
        # One statement, not a row each: every statement is a round trip to the server.
        db.run(_PG_INDEX_BANDS, (rows[0][1], article_id, [key for key, _, _ in rows]))
        return
    db.many(
        "INSERT INTO sketch_bands (key, date, article_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        rows,
    )


_PG_INDEX_BANDS = (
    "INSERT INTO sketch_bands (key, date, article_id) "
    "SELECT band.key, ?::bigint, ?::text FROM unnest(?::bigint[]) AS band(key) "
    "ON CONFLICT DO NOTHING"
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
#: The same on PostgreSQL: one small statement over the keys as an array (the union of 64
#: parts took three times as long, 1.4 ms against 0.5 ms).
_PG_BAND_HITS = (
    "SELECT hit.article_id FROM unnest(?::bigint[]) AS band(key) CROSS JOIN LATERAL "
    "(SELECT article_id FROM sketch_bands WHERE key = band.key AND date BETWEEN ? AND ? "
    f"ORDER BY date DESC, article_id DESC LIMIT {PER_BAND}) AS hit"
)


def _band_candidates(
    db: Statements,
    stored: Sequence[int],
    date: datetime,
    policy: FoldPolicy,
    skip: frozenset[str] = frozenset(),
    placed_only: bool = False,
) -> list[str]:
    """The articles most likely to match by n-grams: those sharing the most band keys,
    among the most recent few under each key, but those in ``skip`` (and with
    ``placed_only``, those not yet placed). Bounded work per article,
    however many near-identical template stories a busy source sends."""
    low, high = micros(date - policy.window), micros(date + policy.window)
    keys = band_index_keys(stored)
    rows = _by_key(db, _BAND_HITS, keys, low, high, (_PG_BAND_HITS, (keys, low, high)))
    hits = Counter(row[0] for row in rows if row[0] not in skip)
    if placed_only and hits:
        for (waiting,) in _unsettled_among(db, list(hits)):
            del hits[waiting]
    return [article_id for article_id, _ in hits.most_common(MAX_CANDIDATES)]


def _unsettled_among(db: Statements, article_ids: Sequence[str]) -> list[tuple[Any, ...]]:
    marks = ", ".join("?" * len(article_ids))
    return db.all(
        f"SELECT article_id FROM unsettled WHERE article_id IN ({marks})", list(article_ids)
    )


def word_key(word: str) -> int:
    """A content word's key in ``word_postings``: 63 bits of its BLAKE2b digest, the same
    in every process (two words share one by chance one time in about 2⁶³)."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big") >> 1


@functools.cache
def _word_counts_sql(count: int) -> str:
    """How many stories hold each of ``count`` word keys among at most ``PER_WORD`` of
    the window's articles: read in the index alone."""
    part = (
        "SELECT {i}, (SELECT COUNT(DISTINCT COALESCE(story_id, article_id)) FROM "
        "(SELECT story_id, article_id FROM word_postings "
        f"WHERE key = ? AND date BETWEEN ? AND ? LIMIT {PER_WORD}) AS held_{{i}})"
    )
    return " UNION ALL ".join(part.format(i=i) for i in range(count))


@functools.cache
def _word_holders_sql(count: int) -> str:
    """The articles holding each of ``count`` word keys in a date range (at most
    ``PER_WORD`` each), each row with the word's position."""
    part = (
        "SELECT {i}, article_id FROM (SELECT article_id FROM word_postings "
        "WHERE key = ? AND date BETWEEN ? AND ? "
        f"ORDER BY date DESC, article_id DESC LIMIT {PER_WORD}) AS word_{{i}}"
    )
    return " UNION ALL ".join(part.format(i=i) for i in range(count))


#: The two look-ups on PostgreSQL: the keys as one array (see ``_PG_BAND_HITS``), each row
#: with the key's position from 0.
_PG_WORD_COUNTS = (
    "SELECT term.position - 1, (SELECT COUNT(DISTINCT COALESCE(story_id, article_id)) FROM "
    "(SELECT story_id, article_id FROM word_postings WHERE key = term.key "
    f"AND date BETWEEN ? AND ? LIMIT {PER_WORD}) AS held) "
    "FROM unnest(?::bigint[]) WITH ORDINALITY AS term(key, position)"
)
_PG_WORD_HOLDERS = (
    "SELECT term.position - 1, hit.article_id "
    "FROM unnest(?::bigint[]) WITH ORDINALITY AS term(key, position) CROSS JOIN LATERAL "
    "(SELECT article_id FROM word_postings WHERE key = term.key AND date BETWEEN ? AND ? "
    f"ORDER BY date DESC, article_id DESC LIMIT {PER_WORD}) AS hit"
)


def _by_key(
    db: Statements,
    union: str,
    keys: Sequence[int],
    low: int,
    high: int,
    on_postgres: tuple[str, Sequence[object]],
) -> list[tuple[Any, ...]]:
    """The rows of a look-up of ``keys`` in a date range: on SQLite ``union``, each of
    whose parts takes a key and the range; on PostgreSQL one statement over the keys as
    an array (``on_postgres``: its text and parameters)."""
    if db.postgres:
        return db.all(*on_postgres)
    return db.all(union, [value for key in keys for value in (key, low, high)])


def index_terms(
    words: Words,
    figures: frozenset[str],
    most_words: int | None = None,
    most_figures: int = TELLING_KEYS,
) -> list[str]:
    """What an article is indexed and looked up by in ``word_postings``: its key words,
    and its telling figures as ``#<value>`` (reports that word an event apart still
    quote its figures alike), at most ``TELLING_KEYS`` of them, the longest first. With
    ``most_words`` and ``most_figures``, at most that many: each list's first terms are
    the same whatever its length."""
    telling = sorted(telling_values(figures), key=lambda value: (-len(value), value))
    return [
        *words.key_words(most_words),
        *(f"#{value}" for value in telling[:most_figures]),
    ]


def _word_candidates(
    db: Statements,
    listed: Sequence[str],
    date: datetime,
    policy: FoldPolicy,
    skip: frozenset[str] = frozenset(),
    placed_only: bool = False,
) -> tuple[dict[str, int], list[str]]:
    """How many stories of the event window hold each of the article's index terms
    (counted among at most ``PER_WORD`` articles), and the articles sharing the most of
    them, weighted by rarity, but those in ``skip``. Only terms at most
    ``NOMINATING_HOLDERS`` stories hold nominate: who holds the others is not read. With
    ``placed_only``, the article is stored and indexed already (its story is not counted
    as holding its own words) and only placed articles are nominated."""
    low, high = micros(date - policy.event_window), micros(date + policy.event_window)
    keys = [word_key(word) for word in listed]
    counted = _by_key(
        db, _word_counts_sql(len(keys)), keys, low, high, (_PG_WORD_COUNTS, (low, high, keys))
    )
    own = 1 if placed_only else 0
    holders = {listed[position]: count - own for position, count in counted if count > own}
    nominating = [
        position for position, count in counted if own < count <= NOMINATING_HOLDERS + own
    ]
    if not nominating:
        return holders, []
    looked_up = [keys[position] for position in nominating]
    union = _word_holders_sql(len(looked_up))
    held = _by_key(db, union, looked_up, low, high, (_PG_WORD_HOLDERS, (looked_up, low, high)))
    rows = [(nominating[index], article_id) for index, article_id in held]
    if placed_only and rows:
        waiting = {row[0] for row in _unsettled_among(db, list({a for _, a in rows}))}
        rows = [
            (position, article_id) for position, article_id in rows if article_id not in waiting
        ]
    rarity = Rarity(holders, PER_WORD)
    shared: dict[str, float] = {}
    for position, article_id in rows:
        weight = rarity.weight(listed[position])
        if weight > 0 and article_id not in skip:
            shared[article_id] = shared.get(article_id, 0.0) + weight
    ranked = sorted(shared, key=lambda article_id: (-shared[article_id], article_id))
    return holders, ranked[:MAX_WORD_CANDIDATES]


def _texts(db: Statements, article_ids: Sequence[str]) -> list[Text]:
    marks = ", ".join("?" * len(article_ids))
    rows = db.all(
        f"SELECT id, sketch, figures, words, date FROM articles WHERE id IN ({marks})",
        list(article_ids),
    )
    return [
        Text(
            row[0],
            _stored_sketch(bytes(row[1])) if row[1] is not None else (),
            _stored_figures(row[2]),
            row[3] or "",
            read_moment(row[4]),
        )
        for row in rows
    ]


def index_words(
    db: Statements,
    article_id: str,
    words: Words,
    figures: frozenset[str],
    date: datetime | None,
    story_id: str,
) -> None:
    """Index the article, a member of ``story_id``, under each of its ``index_terms``
    (none without a date)."""
    rows = _word_rows(article_id, words, figures, date)
    if db.postgres and rows:
        keys = [key for key, _, _ in rows]
        db.run(_PG_INDEX_WORDS, (rows[0][1], article_id, story_id, keys))
        return
    db.many(
        "INSERT INTO word_postings (key, date, article_id, story_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(*row, story_id) for row in rows],
    )


_PG_INDEX_WORDS = (
    "INSERT INTO word_postings (key, date, article_id, story_id) "
    "SELECT term.key, ?::bigint, ?::text, ?::text FROM unnest(?::bigint[]) AS term(key) "
    "ON CONFLICT DO NOTHING"
)


def unindex_words(
    db: Statements, article_id: str, words: Words, figures: frozenset[str], date: datetime | None
) -> None:
    """Remove what ``index_words`` added for the article's previous words and date, and
    what any earlier version added (``_every_word_key``)."""
    keys = _every_word_key(words, figures) if date is not None else []
    if keys:
        db.run(
            f"DELETE FROM word_postings WHERE date = ? AND article_id = ? AND {_any_key(db, keys)}",
            [micros(date), article_id, *_key_params(db, keys)],
        )


def move_words(
    db: Statements,
    article_id: str,
    words: Words,
    figures: frozenset[str],
    date: datetime | None,
    story_id: str,
) -> None:
    """Record that the article's postings now belong to ``story_id`` (split out, or its
    story merged into another)."""
    keys = _every_word_key(words, figures) if date is not None else []
    if keys:
        db.run(
            "UPDATE word_postings SET story_id = ? "
            f"WHERE date = ? AND article_id = ? AND {_any_key(db, keys)}",
            [story_id, micros(date), article_id, *_key_params(db, keys)],
        )


def _any_key(db: Statements, keys: Sequence[int]) -> str:
    """One statement over all the keys: an article may be under 70 of them."""
    return "key = ANY(?::bigint[])" if db.postgres else f"key IN ({', '.join('?' * len(keys))})"


def _key_params(db: Statements, keys: list[int]) -> list[object]:
    return [keys] if db.postgres else list(keys)


def _word_rows(
    article_id: str, words: Words, figures: frozenset[str], date: datetime | None
) -> list[tuple[int, int, str]]:
    if date is None:
        return []
    when = micros(date)
    return [(key, when, article_id) for key in _word_keys(words, figures)]


def _word_keys(words: Words, figures: frozenset[str]) -> list[int]:
    """The keys an article is under in ``word_postings``: none without content words."""
    return [word_key(term) for term in index_terms(words, figures)] if words else []


def _every_word_key(words: Words, figures: frozenset[str]) -> list[int]:
    """Every key an article may be under, whichever version indexed it: each of its words
    (once all were indexed; then 16 key words, then 12) and up to ``TELLING_KEYS_EVER``
    telling figures. The rows an article no longer holds would otherwise stay behind."""
    if not words:
        return []
    terms = index_terms(words, figures, len(words.counts), TELLING_KEYS_EVER)
    return [word_key(term) for term in terms]


def _holder(db: Statements, kind: str, key: str, other_than: str | None = None) -> str | None:
    """The earliest stored article holding ``key`` (what a key fold matched)."""
    if other_than is None:
        row = db.one(holder_sql(kind), (key,))
    else:
        row = db.one(holder_sql(kind, other_than=True), (key, other_than))
    return None if row is None else row[0]


def holder_sql(kind: str, *, other_than: bool = False) -> str:
    """The look-up ``_holder`` makes for a key of ``kind``, by its column's index
    (``ix_articles_canonical_url``, ``ix_articles_text_hash``): with ``other_than``, an
    article other than one."""
    column = "canonical_url" if kind == "url" else "text_hash"
    other = " AND id <> ?" if other_than else ""
    return f"SELECT id FROM articles WHERE {column} = ?{other} ORDER BY seq LIMIT 1"


def encode_figures(figures: frozenset[str]) -> str:
    return " ".join(sorted(figures))


def decode_figures(text: str | None) -> frozenset[str]:
    return frozenset(text.split()) if text else frozenset()


# A recent article is a candidate for many that follow it: its columns are decoded once.
# Callers only read what these return.
_stored_sketch = functools.lru_cache(maxsize=2048)(read_stored_sketch)
_stored_figures = functools.lru_cache(maxsize=2048)(decode_figures)
