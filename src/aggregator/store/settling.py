"""Placing stored articles by their content words, the earliest first.

An article is stored as it arrives: a copy joins its story at once (canonical URL,
content, n-grams), and the rest waits in ``unsettled``. A fetch pass places the waiting
articles when all its sources are in (``Store.settle``), in order of their dates, each
compared only with the articles placed before it, its words weighed by how many of the
stored stories hold them. Which source answered first, or which article a source listed
first, then changes nothing: the same articles give the same stories.

An article that tells another story joins it, or, when copies joined it on arrival, its
story and that one are merged (``story_merge``), as are other stories it tells alike
(``story_index.settle_placement``). Its words are indexed when it is stored: they count
in how rare a word is from then on, but a waiting article is no one's candidate. An
article the operator split out is placed by no one.
"""

from __future__ import annotations

from datetime import datetime

from aggregator.store import story_index, story_merge
from aggregator.store.article_rows import take_seq, touch_story
from aggregator.store.driver import Statements
from aggregator.store.story_index import Bridge, FoldPolicy, Placement

#: Articles placed per transaction at most: a long pass does not hold the write lock for
#: all of them at once.
SETTLE_BATCH = 100

_WAITING = "SELECT article_id FROM unsettled ORDER BY date, article_id LIMIT ?"
#: On PostgreSQL another worker may be placing some: each takes those no other holds.
_PG_WAITING = _WAITING + " FOR UPDATE SKIP LOCKED"


def waiting(db: Statements, count: int = SETTLE_BATCH) -> list[str]:
    """The ``count`` earliest articles waiting to be placed by their words."""
    return [row[0] for row in db.all(_PG_WAITING if db.postgres else _WAITING, (count,))]


def settle_one(db: Statements, article_id: str, policy: FoldPolicy, now: datetime) -> bool:
    """Place one waiting article by its words; whether it told another story."""
    db.run("DELETE FROM unsettled WHERE article_id = ?", (article_id,))
    row = db.one(
        "SELECT story_id, fold_rule, fold_match, fold_score, fold_evidence FROM articles "
        "WHERE id = ?",
        (article_id,),
    )
    if row is None:  # pruned since
        return False
    story, rule, match, score, evidence = row
    # An article the operator split out is placed by no one.
    split = db.one("SELECT 1 FROM splits WHERE article_id = ?", (article_id,)) is not None
    found = (
        None
        if split
        else story_index.settle_placement(
            db, article_id, story, match if story != article_id else None, policy
        )
    )
    if found is not None:
        seq = take_seq(db)
        found = story_merge.current(db, found)
        # The article's own story comes first: the stories it tells are merged into it, or
        # it into the one that sorts first (``story_merge.merge_bridged``).
        own = Placement(story, rule, match, score, evidence, (_bridge(found), *found.bridges))
        ended = story_merge.merge_bridged(db, article_id, own, seq, now)
        if ended != story:
            _record_fold(db, article_id, found)
        touch_story(db, ended, seq)
    return found is not None


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
