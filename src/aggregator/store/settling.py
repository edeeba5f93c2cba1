"""Placing stored articles by n-grams and content words, the earliest first.

An article is stored as it arrives, and joins a story at once only by its keys (the same
canonical URL, the same text); the rest waits in ``unsettled``. A fetch pass places the
waiting articles when all its sources are in (``Store.settle``), in order of their
dates, each compared only with the articles placed before it, its words weighed by how
many of the stored stories hold them. Which source answered first, or which article a
source listed first, then changes nothing: the same articles give the same stories.

An article that tells another story joins it, or, when others joined its story by a key,
its story and that one are merged (``story_merge``), as are other stories it tells alike
(``story_index.settle_placement``). Its words are indexed when it is stored: they count
in how rare a word is from then on, but a waiting article is no one's candidate. An
article the operator split out is placed by no one.

With a reader that joins (``FoldPolicy.joins_from``), an article alone in the story it
founded that tells no other is kept in ``near_misses`` with the story it came closest to
(``story_index.NearMiss``): the reader reads the two after the pass, and joins it to that
story if it reads one event (``Store.record_near_reading``).
"""

from __future__ import annotations

from datetime import datetime

from aggregator.same_story import Text
from aggregator.store import story_index, story_merge
from aggregator.store.article_rows import take_seq, touch_story
from aggregator.store.driver import Statements
from aggregator.store.story_index import Bridge, FoldPolicy, NearMiss, Placement

#: Articles placed per transaction at most: a long pass does not hold the write lock for
#: all of them at once.
SETTLE_BATCH = 100

_WAITING = "SELECT article_id FROM unsettled ORDER BY date, article_id LIMIT ?"
#: On PostgreSQL another worker may be placing some: each takes those no other holds.
_PG_WAITING = _WAITING + " FOR UPDATE SKIP LOCKED"


def waiting(db: Statements, count: int = SETTLE_BATCH) -> list[str]:
    """The ``count`` earliest articles waiting to be placed."""
    return [row[0] for row in db.all(_PG_WAITING if db.postgres else _WAITING, (count,))]


def settle_one(db: Statements, article_id: str, policy: FoldPolicy, now: datetime) -> str | None:
    """Place one waiting article; the source of one that founded a story on arrival and
    has joined another since (what a pass counts as folded), else None."""
    db.run("DELETE FROM unsettled WHERE article_id = ?", (article_id,))
    row = db.one(
        "SELECT story_id, fold_rule, fold_match, fold_score, fold_evidence, source_id "
        "FROM articles WHERE id = ?",
        (article_id,),
    )
    text = story_index.stored_text(db, article_id)
    if row is None or text is None:  # pruned since
        return None
    story, rule, match, score, evidence, source_id = row
    # An article the operator split out is placed by no one.
    split = db.one("SELECT 1 FROM splits WHERE article_id = ?", (article_id,)) is not None
    # Alone in the story it founded: asked only when near misses are kept for a reader.
    alone = (
        policy.joins_from is not None
        and story == article_id
        and db.one(_ANOTHER_MEMBER, (story, article_id)) is None
    )
    settled = (
        story_index.Settled()
        if split
        else story_index.settle_placement(
            db, text, story, match if story != article_id else None, policy, alone
        )
    )
    seq = take_seq(db)
    if settled.near is not None:
        _keep_near_miss(db, article_id, settled.near)
    found = settled.found
    if found is None:
        touch_story(db, story, seq)
        return None
    found = story_merge.current(db, found)
    if story == article_id and db.one(_ANOTHER_MEMBER, (story, article_id)) is None:
        # Alone in the story it founded on arrival: it joins the story it tells, as an
        # arriving article does.
        ended = _join(db, text, story, found, seq, now)
    else:
        # Others joined its story by a key: the stories are merged into the one that
        # sorts first (``story_merge.merge_bridged``), its own first among them.
        own = Placement(story, rule, match, score, evidence, (_bridge(found), *found.bridges))
        ended = story_merge.merge_bridged(db, article_id, own, seq, now)
        if ended != story:
            _record_fold(db, article_id, found)
    touch_story(db, ended, seq)
    # Founded on arrival, it is now told in a story founded before.
    return source_id if rule is None and ended != story else None


def _join(db: Statements, text: Text, story: str, found: Placement, seq: int, now: datetime) -> str:
    """Move an article alone in its story into the story ``found`` names, with what it
    folded by, and merge the other stories it tells; returns the story it ends in. Its
    story had no row (``article_rows.save_one`` writes none for a founder that waits), so
    nothing was published of it."""
    db.run(
        "UPDATE articles SET story_id = ?, fold_rule = ?, fold_match = ?, fold_score = ?, "
        "fold_evidence = ? WHERE id = ?",
        (found.story_id, found.rule, found.match, found.score, found.evidence, text.article_id),
    )
    db.run(MOVE_KEYS, (found.story_id, story))
    story_index.move_words(db, text.article_id, text.words, text.figures, text.date, found.story_id)
    touch_story(db, story, seq)
    if found.bridges:
        return story_merge.merge_bridged(db, text.article_id, found, seq, now)
    return found.story_id


def _keep_near_miss(db: Statements, article_id: str, near: NearMiss) -> None:
    """Keep the story a report alone in its story came closest to, for the reader."""
    db.run(
        "INSERT INTO near_misses (article_id, match_id, score, evidence) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (article_id) DO UPDATE SET match_id = excluded.match_id, "
        "score = excluded.score, evidence = excluded.evidence",
        (article_id, near.match, near.score, near.evidence),
    )


#: A story's keys, found by ``ix_story_keys_story_id``: without it, every key stored.
MOVE_KEYS = "UPDATE story_keys SET story_id = ? WHERE story_id = ?"
_ANOTHER_MEMBER = "SELECT 1 FROM articles WHERE story_id = ? AND id <> ? LIMIT 1"


def _bridge(found: Placement) -> Bridge:
    """The story a placement joins, as one of the stories its article tells."""
    return Bridge(
        found.story_id,
        found.rule or "",
        found.match or "",
        found.score or 0.0,
        found.evidence or "",
    )


def _record_fold(db: Statements, article_id: str, found: Placement) -> None:
    """An article whose story went into another, that had joined none itself (its story's
    founder), records by what it tells the story it is now in."""
    db.run(
        "UPDATE articles SET fold_rule = ?, fold_match = ?, fold_score = ?, fold_evidence = ? "
        "WHERE id = ? AND (fold_rule IS NULL OR (fold_rule = ? AND fold_match = ?))",
        (
            found.rule,
            found.match,
            found.score,
            found.evidence,
            article_id,
            story_merge.MERGED,
            article_id,
        ),
    )
