"""What ``dedup explain`` says of a story: each member, and the rule and match that
brought it in (the command prints it; the demo shows it too); and what ``dedup review``
lists: the recent folds of reports written apart, the lowest score first.

Reports written apart fold by their words, names and figures (``same_story``), and now
and then a report of another event of the same place and day folds that way too. Copies
and rewrites (``similarity``) share their wording and are not listed. The event score
does not tell such a look-alike from a report of the event (many that fold score 0.9 or
more), but two headlines side by side mostly do, at a glance ("Swan shot on nature
reserve" joined to "Record 31 corncrakes heard on the reserve"): the review shows each
fold that way, the lowest score first. Where a reader (``dedup.reader``) read a fold,
both say what it made of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aggregator import pipeline
from aggregator.config import Settings
from aggregator.model import Reading, StoredArticle
from aggregator.store import Store
from aggregator.store.store import read_by_reader
from aggregator.store.story_merge import MERGED_BY_OPERATOR, READ_SAME, SPLIT
from aggregator.stories import kept_items


def explain_lines(settings: Settings, store: Store, article_id: str) -> list[str]:
    """The report on the story of ``article_id`` (an article's or a story's id); nothing
    when no stored article or story has it."""
    found = store.article(article_id)
    members = store.story(found.story_id if found else article_id)
    if not members:
        return []
    names = {source.id: source.name for source in settings.sources}
    story = members[0].story_id
    kept = kept_items(members, pipeline.source_rank(settings))[0]
    lines = [f"story {story}: {len(members)} articles; kept: {kept.source_id} {kept.guid}"]
    for member in members:
        marker = "*" if found and member.article.id == found.article.id else " "
        lines.append(
            f"{marker} {member.article.id}  {names.get(member.source_id, member.source_id)}"
        )
        lines.append(f"    {member.article.title}")
        lines.append(f"    {fold_reason(member)}")
        read = member.fold_rule in READ or read_by_reader(member.fold_rule, member.fold_score)
        reading = store.reading(member.article.id) if read else None
        if reading is not None:
            lines.append(f"    {reading_line(reading, near=_read_beside(member, reading))}")
    return lines


#: Beside the folds the reader reads (``read_by_reader``), the rules of an article with a
#: reading: split out (by its reading), joined by one, and a founder (None: read beside
#: the story it came closest to).
READ = frozenset({SPLIT, READ_SAME, None})


def _read_beside(member: StoredArticle, reading: Reading) -> bool:
    """Whether a reading was of the telling an article came closest to while founding a
    story alone (a near miss), not of a fold it is in now."""
    return member.fold_rule is None or (
        read_by_reader(member.fold_rule, member.fold_score)
        and reading.match_id != member.fold_match
    )


#: What a reading of a near miss said, by its ``same_event``.
NEAR_SAID = {
    True: "the same event, not joined (no longer alone, or dated before that story)",
    False: "another event, left apart",
    None: "an answer that could not be read",
}


def reading_line(reading: Reading, near: bool = False) -> str:
    """What the reader (``dedup.reader``) made of a fold, or (``near``) of the telling a
    report founding a story alone came closest to, in a line."""
    if near:
        return (
            f"read beside {reading.match_id} (the closest telling the rules left apart) by "
            f"{reading.model} as {NEAR_SAID[reading.same_event]}: {reading.reason}"
        )
    if reading.same_event is None:
        return f"the reader ({reading.model}) answered, the fold stands: {reading.reason}"
    said = "the same event" if reading.same_event else "another event, split out"
    return f"read by {reading.model} as {said}: {reading.reason}"


def fold_reason(member: StoredArticle) -> str:
    rule, match = member.fold_rule, member.fold_match
    if rule is None:
        return "founded the story"
    if rule == "similarity":
        return f"joined by similarity {member.fold_score:.2f} to {match}{_evidence(member)}"
    if rule == "same_event":
        # The signals say the event score (and, for articles placed before there was one,
        # the words' cosine the rule was held to).
        return f"joined as the same event to {match}{_evidence(member)}"
    if rule == "merged":
        return f"its story was merged in: {match} told both{_evidence(member)}"
    if rule == MERGED_BY_OPERATOR:
        return f"its story was merged by the operator into {match}'s"
    if rule == "split":
        return f"split out of story {match}; stays on its own"
    if rule == READ_SAME:
        return f"joined by the reader, as the same event as {match}{_evidence(member)}"
    return f"joined by the same {rule.replace('_', ' ')} as {match}"


def _evidence(member: StoredArticle) -> str:
    return f"\n      signals: {member.fold_evidence}" if member.fold_evidence else ""


#: The rules whose folds ``dedup review`` lists, each under its heading.
REVIEWED = (
    ("same_event", "reports written apart folded into a story"),
    ("merged", "stories merged into another"),
)


#: What ``dedup review`` lists as well with a reader: the reports it joined to a story.
READER_JOINED = (READ_SAME, "reports the reader joined to a story")


def review_lines(settings: Settings, store: Store, since: datetime, limit: int) -> list[str]:
    """The folds of reports written apart (and the merges of stories) first stored at or
    after ``since``, at most ``limit`` of each, the lowest score first: each with its
    headline and outlet beside those of the article it matched, and its id for ``dedup
    explain`` and ``dedup split``."""
    names = {source.id: source.name for source in settings.sources}

    def told(stored: StoredArticle) -> str:
        return f"{names.get(stored.source_id, stored.source_id)}: {stored.article.title}"

    lines: list[str] = []
    reviewed = REVIEWED if settings.dedup.reader is None else (*REVIEWED, READER_JOINED)
    for rule, heading in reviewed:
        folded = store.folded_by_rule(rule, since, limit + 1)
        if len(folded) > limit:
            lines.append(f"{heading}: more than {limit}; the {limit} lowest scores")
        else:
            order = " (the lowest score first)" if folded else ""
            lines.append(f"{heading}: {len(folded)}{order}")
        for member in folded[:limit]:
            score = "-" if member.fold_score is None else f"{member.fold_score:.2f}"
            lines.append(f"  {score}  {member.article.id}  {told(member)}")
            match = store.article(member.fold_match) if member.fold_match else None
            if match is not None:
                verb = "told both" if rule == "merged" else "joined"
                lines.append(f"        {verb}: {match.article.id}  {told(match)}")
            reading = store.reading(member.article.id)
            if reading is not None:
                lines.append(f"        {reading_line(reading)}")
    if settings.dedup.reader is not None:
        lines += _reader_splits(store, since, limit, told)
    return lines


def _reader_splits(
    store: Store, since: datetime, limit: int, told: Callable[[StoredArticle], str]
) -> list[str]:
    """The reports the reader split out, the latest first, each beside the report it had
    joined: a model reads wrong too, and ``dedup merge`` puts one back."""
    split = store.split_by_reader(since, limit + 1)
    heading = "split out by the reader"
    lines = [
        f"{heading}: more than {limit}; the {limit} latest"
        if len(split) > limit
        else f"{heading}: {len(split)}{' (the latest first)' if split else ''}"
    ]
    for reading in split[:limit]:
        article, match = store.article(reading.article_id), store.article(reading.match_id)
        if article is None:
            continue
        lines.append(f"  {reading.article_id}  {told(article)}")
        if match is not None:
            lines.append(f"        had joined: {match.article.id}  {told(match)}")
        lines.append(f"        {reading_line(reading)}")
    return lines
