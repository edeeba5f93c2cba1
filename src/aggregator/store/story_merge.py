"""Merging stories an incoming article tells alike, inside the save transaction.

An article compared on arrival may fold with tellings of two stories: the event was
founded twice because its first reports did not find each other (an outlet's angle, a
follow-up that came first). The article is the evidence that they are one, so they are
merged, and the outcome no longer depends on the order the reports arrived in. Only
stories whose tellings may be one event are named for merging (``story_index.place``,
``same_story.may_merge``): a round-up of two events folds with both.

The story that sorts first (its earliest member's date, then its id) takes in the others:
its post and its place in the channels stay where readers saw them. Each absorbed story's
members, story keys and word postings move to it; its founder is marked ``merged`` by
the article that bridged them, with that verdict's signals; ``merges`` records the
absorbed story, so a publish removes the post written for it. A story holding an article
the operator split out (``dedup split``) is never merged: the operator said it is not one.
The operator can also merge two stories the rules left apart (``dedup merge``,
``merge_by_operator``): the same move, the absorbed founder marked
``MERGED_BY_OPERATOR``.

Everything is read and written by story id or by index key, so a merge costs what the
stories hold, not what the store holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from aggregator.model import Reading
from aggregator.store.driver import Statements, read_moment
from aggregator.store.story_index import Bridge, Placement, decode_figures, move_words
from aggregator.words import Words

#: The rule recorded on an absorbed story's founder.
MERGED = "merged"
#: The rule recorded on the founder of a story the operator merged into another.
MERGED_BY_OPERATOR = "merged_by_operator"
#: The rule of an article the operator split out of a story (``Store.split``): founding
#: a story of its own, it records an operator's merge of that story all the same.
SPLIT = "split"
#: The rule of a report the rules left apart that the reader (``dedup.reader``) read as
#: one event with the story it came closest to, and joined to it.
READ_SAME = "read_same_event"
#: Merges followed at most when a placement is brought up to date.
MAX_HOPS = 8


def merge_bridged(
    db: Statements, article_id: str, placement: Placement, seq: int, now: datetime
) -> str:
    """Merge the stories ``placement`` found the article telling; returns the story the
    article ends in. ``seq`` numbers the change."""
    bridges = [
        Bridge(
            placement.story_id,
            placement.rule or "",
            placement.match or "",
            placement.score or 0.0,
            placement.evidence or "",
        ),
        *placement.bridges,
    ]
    mergeable = [bridge for bridge in bridges if not _split_by_operator(db, bridge.story_id)]
    if len(mergeable) < 2 or mergeable[0].story_id != placement.story_id:
        return placement.story_id
    into = min(_sort_keys(db, [bridge.story_id for bridge in mergeable]))[1]
    for bridge in mergeable:
        if bridge.story_id != into:
            fold = (MERGED, article_id, bridge.score, _evidence(bridge))
            _absorb(db, bridge.story_id, into, fold, seq, now)
    return into


def merge_by_operator(
    db: Statements, named: tuple[str, str], stories: tuple[str, str], seq: int, now: datetime
) -> str:
    """Merge the two stories (``stories``) of two articles the operator named as one
    (``named``, ``dedup merge``), whatever the rules and any split said: the story that
    sorts first takes the other in, as a merge by an article does. The absorbed founder
    records the merge and the article named in the story it went into. Returns that
    story."""
    into = min(_sort_keys(db, list(stories)))[1]
    kept = 0 if stories[0] == into else 1
    absorbed, named_in_kept = stories[1 - kept], named[kept]
    fold = (MERGED_BY_OPERATOR, named_in_kept, None, None)
    _absorb(db, absorbed, into, fold, seq, now, replacing=SPLIT)
    return into


def join_by_reader(db: Statements, reading: Reading, seq: int) -> str | None:
    """Join a report alone in the story it founded to the story of the telling it came
    closest to (``near_misses``), which the reader read as one event with it; returns
    that story, or None when things changed since it was kept (it is no longer alone,
    or the telling left), or when it would not join as a later report. The report is
    dated after every member of the story it joins, so the story's kept article and its
    place stay: a feed's text that talks the reader into a fold cannot make its report
    the story's item. The story of a report the operator split out takes no one in."""
    article_id, match_id = reading.article_id, reading.match_id
    near = db.one(
        "SELECT match_id, score, evidence FROM near_misses WHERE article_id = ?", (article_id,)
    )
    told = db.one("SELECT story_id, fold_rule FROM articles WHERE id = ?", (article_id,))
    matched = db.one("SELECT story_id FROM articles WHERE id = ?", (match_id,))
    if near is None or near[0] != match_id or told is None or matched is None:
        return None
    if told[0] != article_id or told[1] is not None or matched[0] == article_id:
        return None
    into = _now_named(db, matched[0])
    another = db.one(
        "SELECT 1 FROM articles WHERE story_id = ? AND id <> ? LIMIT 1", (article_id, article_id)
    )
    if another is not None or _split_by_operator(db, into):
        return None
    earliest = dict((story, when) for when, story in _sort_keys(db, [article_id, into]))
    if into not in earliest or not earliest[into] < earliest[article_id]:
        return None
    _, score, evidence = near
    read = f"the reader read one event with {match_id}: {reading.reason}"
    fold = (READ_SAME, match_id, score, f"{read}; rules {score:.2f}: {evidence}")
    _absorb(db, article_id, into, fold, seq, reading.at)
    return into


def current(db: Statements, placement: Placement) -> Placement:
    """``placement`` with each story it names as it stands now: a story another writer
    merged away since the placement was read (PostgreSQL; taking the change number
    waited for that writer's commit) is named by the story it went into."""
    if placement.rule is None:
        return placement
    joined = _now_named(db, placement.story_id)
    bridges: dict[str, Bridge] = {}
    for bridge in placement.bridges:
        story = _now_named(db, bridge.story_id)
        if story != joined:
            bridges.setdefault(story, replace(bridge, story_id=story))
    return replace(placement, story_id=joined, bridges=tuple(bridges.values()))


def _now_named(db: Statements, story_id: str) -> str:
    for _ in range(MAX_HOPS):  # merged away, and the story it went into merged too
        row = db.one("SELECT into_story FROM merges WHERE story_id = ?", (story_id,))
        if row is None:
            break
        story_id = row[0]
    return story_id


def _split_by_operator(db: Statements, story_id: str) -> bool:
    return (
        db.one(
            "SELECT 1 FROM splits JOIN articles ON articles.id = splits.article_id "
            "WHERE articles.story_id = ? LIMIT 1",
            (story_id,),
        )
        is not None
    )


def _sort_keys(db: Statements, story_ids: Sequence[str]) -> list[tuple[datetime, str]]:
    marks = ", ".join("?" * len(story_ids))
    rows = db.all(
        "SELECT MIN(COALESCE(date, first_seen)), story_id FROM articles "
        f"WHERE story_id IN ({marks}) GROUP BY story_id",
        list(story_ids),
    )
    keys = []
    for when, story in rows:
        moment = read_moment(when)
        assert moment is not None
        keys.append((moment, story))
    return keys


def _absorb(
    db: Statements,
    story: str,
    into: str,
    fold: tuple[str, str, float | None, str | None],
    seq: int,
    now: datetime,
    replacing: str | None = None,
) -> None:
    """Move ``story`` into ``into``; its founder, if it joined no story itself (or came by
    the rule ``replacing``), records ``fold``: the rule, the article that matched, the
    score and the evidence."""
    members = db.all(
        "SELECT id, canonical_url, text_hash, words, figures, date FROM articles "
        "WHERE story_id = ?",
        (story,),
    )
    # Members keep their change numbers (their content did not change, and each is
    # unique); the story row's ``changed_seq`` marks the change for publishing.
    db.run("UPDATE articles SET story_id = ? WHERE story_id = ?", (into, story))
    db.run(
        "UPDATE articles SET fold_rule = ?, fold_match = ?, fold_score = ?, fold_evidence = ? "
        "WHERE id = ? AND (fold_rule IS NULL OR fold_rule = ?)",
        (*fold, story, replacing),
    )
    for member, url, text_hash, words, figures, date in members:
        for kind, key in (("url", url), ("hash", text_hash)):
            if key is not None:
                db.run(
                    "UPDATE story_keys SET story_id = ? "
                    "WHERE kind = ? AND key = ? AND story_id = ?",
                    (into, kind, key, story),
                )
        move_words(
            db, member, Words.decode(words), decode_figures(figures), read_moment(date), into
        )
    db.run("DELETE FROM stories WHERE id = ?", (story,))
    db.run(
        "INSERT INTO merges (story_id, into_story, seq, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (story_id) DO UPDATE SET into_story = excluded.into_story, "
        "seq = excluded.seq, at = excluded.at",
        (story, into, seq, db.moment(now)),
    )


def _evidence(bridge: Bridge) -> str:
    """What the founder's explanation shows: how the bridging article told its story."""
    how = "similarity" if bridge.rule == "similarity" else "the same event"
    return f"by {how} to {bridge.match}, score {bridge.score:.2f}; {bridge.evidence}"
