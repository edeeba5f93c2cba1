"""After a pass, the reader (``dedup.reader``) reads the folds of reports written apart,
and the reports the rules came close to folding.

Composition: the store's folds not yet read (``Store.unread_folds``: joined as the same
event, or by similarity without sharing most of their wording, or the founder of a story
merged into another; first stored within ``dedup.event_window``), each with the report
it joined (or that told both), go
to the reader one at a time (a model an operator runs serves one request at a time);
each answer is kept, and a report read as another event is split out of its story, in
one transaction (``Store.record_reading``). Then, in what is left of
``most_per_pass`` (half of it when both wait), the near misses
(``Store.unread_near_misses``: reports alone in the story they founded whose closest
telling of another story scored from ``dedup.reader.joins_from``), each with that
telling: one read as the same event joins its story (``Store.record_near_reading``).
Before a process first has a reader change a story, it asks it questions whose
answers are known (``reader_trust``): a reader that fails one is not asked the kind of
question it failed. The first failure to reach the reader ends
the reading: the rest wait for the next pass, and the pass itself is not failed. Two
failures are one question's, not the reader's: a question the endpoint refuses as it
stands while still answering a known one is kept as a reading that could not be read
(the fold stands), and one not answered in time is left for a later pass; a second in
a pass ends the reading. Either way one long pair cannot hold up every other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from aggregator import reader_trust
from aggregator.config import ReaderSettings, Settings
from aggregator.errors import StoreError
from aggregator.model import Reading, StoredArticle
from aggregator.reading import (
    REASON_CHARS,
    ReaderError,
    ReaderRefused,
    ReaderTimeout,
    read_pair,
    reader_client,
)
from aggregator.store import Store
from aggregator.store.schema import as_utc

log = logging.getLogger(__name__)


#: A reader trusted with both kinds of question.
TRUSTED = reader_trust.Trust()


@dataclass(frozen=True, slots=True)
class FoldsRead:
    """What one reading after a pass did."""

    read: int = 0
    #: Reports read as another event, and split out of their story.
    split: int = 0
    #: Reports the rules left apart, read as one event with the story they came closest
    #: to, and joined to it.
    joined: int = 0
    #: Why the reading stopped before the folds waiting were read; None: it did not.
    stopped: str | None = None


async def read_folds(
    settings: Settings,
    store: Store,
    clock: Callable[[], datetime],
    client: httpx.AsyncClient | None = None,
) -> FoldsRead:
    """Have the reader read up to ``most_per_pass`` folds and near misses not yet read
    (``Store.unread_near_misses``; ``_questions``); nothing without
    ``dedup.reader``. Never raises for what the reader or the store does while reading
    (what is not read is read after a later pass)."""
    reader = settings.dedup.reader
    if reader is None:
        return FoldsRead()
    since = as_utc(clock()) - settings.dedup.event_window
    try:
        waiting = await asyncio.to_thread(_questions, store, since, reader.most_per_pass)
    except StoreError as error:
        log.error("the folds to read could not be listed, left for later: %s", error)
        return FoldsRead(stopped=str(error))
    if not waiting:
        return FoldsRead()
    outlets = {source.id: source.name for source in settings.sources}
    read = split = joined = 0
    stopped = None
    opened = reader_client(reader) if client is None else contextlib.nullcontext(client)
    async with opened as asking:
        try:
            # Listed again without what the reader is not trusted with, if anything.
            trusted = await reader_trust.trust(asking, reader)
            questions = (
                waiting
                if trusted == TRUSTED
                else await asyncio.to_thread(
                    _questions, store, since, reader.most_per_pass, trusted
                )
            )
        except ReaderError as error:
            log.warning("the reader could not be asked, folds left for later: %s", error)
            return FoldsRead(stopped=str(error))
        except StoreError as error:
            log.error("the folds to read could not be listed, left for later: %s", error)
            return FoldsRead(stopped=str(error))
        timed_out = False
        for article, match_id, near in questions:
            try:
                match = await asyncio.to_thread(store.article, match_id)
                if match is None:  # pruned between the two reads
                    continue
                reading = await _read(asking, reader, article, match, outlets, clock())
                record = store.record_near_reading if near else store.record_reading
                story = await asyncio.to_thread(record, reading)
            except ReaderTimeout as error:
                log.warning(
                    "the reader took too long on %s, asked again later: %s",
                    article.article.id,
                    error,
                )
                if timed_out:  # not this question's length alone: the reader is slow
                    stopped = str(error)
                    break
                timed_out = True
                continue
            except ReaderError as error:
                stopped = str(error)
                log.warning("the reader could not be asked, folds left for later: %s", error)
                break
            except StoreError as error:
                stopped = str(error)
                log.error("reading the folds stopped, left for later: %s", error)
                break
            read += 1
            if reading.same_event is None:
                log.warning("the reader's answer on %s: %s", reading.article_id, reading.reason)
            elif story is not None:
                split += not near
                joined += near
                log.info(
                    "the reader read %s as %s %s, %s: %s",
                    reading.article_id,
                    "one event with" if near else "another event than",
                    reading.match_id,
                    "joined to its story" if near else "split out",
                    reading.reason,
                )
    return FoldsRead(read, split, joined, stopped)


async def _read(
    client: httpx.AsyncClient,
    reader: ReaderSettings,
    article: StoredArticle,
    match: StoredArticle,
    outlets: dict[str, str],
    now: datetime,
) -> Reading:
    """The reader's reading of ``article`` beside ``match`` (``reading.read_pair``). A
    question the endpoint refuses, while it still answers a known one, is this
    question's doing (longer than the model's context, or held back by a content
    filter): it is kept as a reading that could not be read, so it is not asked again,
    and the fold stands. Raises ``ReaderError`` when the reader cannot be asked."""
    try:
        return await read_pair(client, reader, article, match, outlets, now)
    except ReaderRefused as refusal:
        await reader_trust.still_answers(client, reader)
        reason = f"the endpoint refused the question: {refusal}"[:REASON_CHARS]
        return Reading(
            article.article.id or "", match.article.id or "", None, reason, reader.model, now
        )


def _questions(
    store: Store, since: datetime, most: int, trusted: reader_trust.Trust = TRUSTED
) -> list[tuple[StoredArticle, str, bool]]:
    """What the reader is asked after a pass, ``most`` at most: the folds not read yet,
    each with the report it joined, then the near misses, each with the telling it came
    closest to (True); of each kind only what the reader is ``trusted`` with. When both
    wait in numbers, the near misses take half, so a stream of folds does not leave them
    unread until they are out of the event window."""
    folds = (
        [(a, a.fold_match or "", False) for a in store.unread_folds(since, most)]
        if trusted.splits
        else []
    )
    near = [(a, m, True) for a, m in store.unread_near_misses(since, most)] if trusted.joins else []
    near_share = min(len(near), max(most - len(folds), most // 2))
    return folds[: most - near_share] + near[:near_share]
