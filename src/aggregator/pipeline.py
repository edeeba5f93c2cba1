"""One source's pass, top to bottom: fetch → parse → normalize → store; and publishing.

``update`` never raises for anything a source does: every failure ends up as a
``SourceReport`` and on the source's stored state, so one bad source never stops another.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo

from aggregator import fold_reading
from aggregator import publish as publishing
from aggregator.address_guard import AddressPolicy
from aggregator.config import Settings
from aggregator.digest import Digest, Digester, digest_document, digest_parsed, worker_count
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.model import (
    Cadence,
    FetchOutcome,
    FetchStatus,
    Source,
    SourceState,
    Validators,
)
from aggregator.parse import ParseFailure, parse_posts_dir
from aggregator.post_ledger import PostLedger
from aggregator.post_writing import PostsToWrite, covers
from aggregator.schedule import FetchFacts, NextFetch, next_fetch
from aggregator.selection import changed_posts_since, select_from_store
from aggregator.store import FetchRecord, Store
from aggregator.store.story_index import FoldPolicy
from aggregator.stories import kept_items

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceReport:
    """How one source's pass went."""

    source_id: str
    #: "ok", "not_modified" or "error".
    status: str
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    #: New articles that joined a story already told.
    folded: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()
    #: Where a permanent redirect said the feed now lives.
    moved_to: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == FetchStatus.ERROR

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.folded)


def fetch_limits(settings: Settings) -> FetchLimits:
    fetch = settings.fetch
    return FetchLimits(
        timeout=fetch.timeout.total_seconds(),
        max_bytes=fetch.max_bytes,
        concurrency=fetch.concurrency,
        per_host=fetch.per_host,
        user_agent=fetch.user_agent,
        addresses=AddressPolicy.of(fetch.allow_private),
    )


def fold_policy(settings: Settings) -> FoldPolicy:
    dedup = settings.dedup
    return FoldPolicy(
        dedup.near_duplicates,
        dedup.threshold,
        dedup.window,
        dedup.event_score,
        dedup.event_window,
        dedup.independent_reports,
        joins_from(settings),
    )


def joins_from(settings: Settings) -> float | None:
    """The event score from which a report left apart is kept for the reader to read
    against the story it came closest to; None without a reader that joins."""
    dedup = settings.dedup
    reader = dedup.reader
    if reader is None or not dedup.independent_reports or reader.joins_from >= dedup.event_score:
        return None
    return reader.joins_from


def source_rank(settings: Settings) -> dict[str, int]:
    """Source priority for choosing a story's kept article: the order of feeds.yaml."""
    return {source.id: rank for rank, source in enumerate(settings.sources)}


def is_due(state: SourceState, now: datetime) -> bool:
    """Whether a pass should fetch the source now (a disabled source never is)."""
    if state.disabled:
        return False
    return state.next_due is None or state.next_due <= now


async def update(
    source: Source,
    *,
    store: Store,
    fetcher: Fetcher,
    settings: Settings,
    now: datetime,
    digester: Digester | None = None,
    state: SourceState | None = None,
    settle: bool = True,
) -> SourceReport:
    """Fetch, parse, normalize and store one source; record how it went. Documents are
    digested by ``digester`` (in a thread when None); ``state`` is the source's stored
    state when the caller has just read it. Without ``settle`` the new articles wait to
    be placed by their words (``Store.settle``): a pass places all of its sources' at once."""
    try:
        return await _update(
            source, store, fetcher, settings, now, digester or Digester(), state, settle
        )
    except Exception as error:  # a bug must not take the other sources down with it
        log.exception("source %s: unexpected failure", source.id)
        reason = f"internal error: {type(error).__name__}: {error}"
        failed = FetchOutcome(FetchStatus.ERROR, source.url, error=reason)
        with contextlib.suppress(Exception):  # the store itself may be what failed
            _record(store, source, store.state(source.id), failed, now, settings)
        return SourceReport(source.id, FetchStatus.ERROR, error=reason)


async def _update(
    source: Source,
    store: Store,
    fetcher: Fetcher,
    settings: Settings,
    now: datetime,
    digester: Digester,
    known_state: SourceState | None,
    settle: bool = True,
) -> SourceReport:
    # Store calls wait on the write lock while another source's batch is saved: they run
    # beside the event loop, so the other sources' requests and timers never wait with them.
    state: SourceState = (
        known_state if known_state is not None else await asyncio.to_thread(store.state, source.id)
    )
    digested: Digest | ParseFailure
    if source.url.startswith("file:"):
        digested = await asyncio.to_thread(_digest_local, source, settings, now)
        outcome = FetchOutcome(FetchStatus.OK, source.url)
    else:
        url = fetch_url(source, state, settings)
        outcome = await fetcher.fetch(url, state.validators)
        if url != source.url and outcome.permanent_redirect is None:
            # Fetched from where an earlier redirect pointed: still moved.
            outcome = replace(outcome, permanent_redirect=url)
        if outcome.status is not FetchStatus.OK:
            await asyncio.to_thread(_record, store, source, state, outcome, now, settings)
            return SourceReport(
                source.id, outcome.status, error=outcome.error, moved_to=outcome.permanent_redirect
            )
        # Parsing, normalizing and fingerprinting run beside the event loop (in worker
        # processes for a big pass), so a huge or slow document never stalls the other
        # sources' requests and timeouts. No more digests wait for the store than
        # ``digester.unsaved`` lets through.
        async with digester.unsaved:
            digested = await digester.digest(
                outcome.body or b"",
                url=outcome.final_url or url,
                content_type=outcome.content_type,
                source=source,
                excerpt_length=settings.site.excerpt_length,
                now=now,
            )
            return await _store_digest(
                source, store, settings, now, state, outcome, digested, settle
            )
    return await _store_digest(source, store, settings, now, state, outcome, digested, settle)


async def _store_digest(
    source: Source,
    store: Store,
    settings: Settings,
    now: datetime,
    state: SourceState,
    outcome: FetchOutcome,
    digested: Digest | ParseFailure,
    settle: bool = True,
) -> SourceReport:
    if isinstance(digested, ParseFailure):
        failed = replace(outcome, status=FetchStatus.ERROR, error=digested.reason)
        await asyncio.to_thread(
            _record, store, source, state, failed, now, settings, keep_validators=False
        )
        return SourceReport(source.id, FetchStatus.ERROR, error=digested.reason)
    # The fetch is recorded with the last of its articles: killed before, nothing says the
    # document was seen, and the next pass fetches it whole again.
    fetched = fetch_record(source, state, outcome, now, settings, cadence=digested.cadence)
    result = await asyncio.to_thread(
        store.save_articles,
        source.id,
        digested.articles,
        now,
        fold_policy(settings),
        fetched,
        settle,
    )
    warnings = digested.warnings
    for warning in warnings:
        log.warning("source %s: %s", source.id, warning)
    return SourceReport(
        source.id,
        FetchStatus.OK,
        inserted=result.inserted,
        updated=result.updated,
        duplicates=result.duplicates,
        folded=result.folded,
        warnings=warnings,
        moved_to=outcome.permanent_redirect,
    )


def source_health(
    sources: Sequence[Source], states: Mapping[str, SourceState]
) -> dict[str, object]:
    """What /healthz says of the sources, from the store's states, under ``run`` and
    ``serve`` alike: which are failing, and "degraded" while more than half are (most of
    what is published is going stale)."""
    failing = [s.id for s in sources if (st := states.get(s.id)) and st.last_status == "error"]
    report: dict[str, object] = {"sources": len(sources), "failing": failing}
    if len(failing) * 2 > len(sources):
        report["status"] = "degraded"
    return report


def fetch_url(source: Source, state: SourceState, settings: Settings) -> str:
    """The configured URL, or where it permanently moved when the operator lets us follow."""
    if settings.fetch.follow_permanent_redirects and state.moved_to:
        return state.moved_to
    return source.url


def decide_next_fetch(
    source: Source,
    state: SourceState,
    outcome: FetchOutcome,
    now: datetime,
    settings: Settings,
    cadence: Cadence | None = None,
) -> NextFetch:
    """The politeness policy's decision after ``outcome``: the source's stored state (its
    error count, its cadence unless a freshly parsed ``cadence`` replaces it), the answer's
    freshness and Retry-After, and the configured bounds."""
    return next_fetch(
        FetchFacts(
            source_id=source.id,
            status=outcome.status,
            now=now,
            interval=source.interval,
            http_status=outcome.http_status,
            errors=state.error_count + 1 if outcome.status is FetchStatus.ERROR else 0,
            retry_after=outcome.retry_after,
            max_age=outcome.max_age,
            expires_in=outcome.expires_in,
            cadence=cadence if cadence is not None else state.cadence,
            min_interval=settings.fetch.min_interval,
            max_interval=settings.fetch.max_interval,
        )
    )


def _record(
    store: Store,
    source: Source,
    state: SourceState,
    outcome: FetchOutcome,
    now: datetime,
    settings: Settings,
    *,
    keep_validators: bool = True,
) -> None:
    store.record(
        source.id,
        fetch_record(source, state, outcome, now, settings, keep_validators=keep_validators),
    )


def fetch_record(
    source: Source,
    state: SourceState,
    outcome: FetchOutcome,
    now: datetime,
    settings: Settings,
    *,
    keep_validators: bool = True,
    cadence: Cadence | None = None,
) -> FetchRecord:
    """How the fetch went and when (and why) the source is fetched next; ``cadence``,
    from a freshly parsed document, replaces the stored one."""
    decision = decide_next_fetch(source, state, outcome, now, settings, cadence)
    validators = None if outcome.status is FetchStatus.ERROR else outcome.validators
    if not keep_validators:
        # A body that did not parse must be fetched in full next time, not answered with 304.
        validators = Validators()
    return FetchRecord(
        at=now,
        status=outcome.status.value,
        validators=validators,
        error=outcome.error,
        next_due=decision.due,
        next_reason=decision.reason,
        http_status=outcome.http_status,
        moved_to=outcome.permanent_redirect,
        disabled=decision.disabled,
        cadence=cadence,
    )


def _digest_local(source: Source, settings: Settings, now: datetime) -> Digest | ParseFailure:
    """A ``file://`` source: a feed file (RSS, Atom, JSON Feed), or a directory of posts."""
    path = _local_path(source.url)
    if not path.is_file():
        parsed = parse_posts_dir(path)
        if isinstance(parsed, ParseFailure):
            return parsed
        return digest_parsed(parsed, source, settings.site.excerpt_length, now)
    limit = settings.fetch.max_bytes
    try:
        with path.open("rb") as stream:
            body = stream.read(limit + 1)  # one byte past the cap: files can grow
    except OSError as error:
        return ParseFailure(f"cannot read the feed file {path}: {error.strerror or error}")
    if len(body) > limit:
        return ParseFailure(f"the feed file {path} is larger than fetch.max_bytes ({limit})")
    return digest_document(
        body,
        url=path.as_uri(),
        content_type=None,  # told by its first byte
        source=source,
        excerpt_length=settings.site.excerpt_length,
        now=now,
        budget=settings.fetch.parse_timeout.total_seconds(),
    )


def _local_path(url: str) -> Path:
    return Path(url2pathname(urlsplit(url).path))


async def run_pass(
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    clock: Callable[[], datetime],
    on_done: Callable[[SourceReport], None] | None = None,
) -> list[SourceReport]:
    """Update ``sources`` concurrently (bounded by the fetch limits); reports in order.

    At most ``fetch.concurrency`` sources are between their request and their stored
    articles at once: fetched documents never pile up waiting for the store, so memory
    stays flat however many sources a pass has, and a request's timeout only starts when
    it is sent."""
    workers = worker_count(settings.fetch.workers, len(sources))
    budget = settings.fetch.parse_timeout.total_seconds()
    async with (
        Fetcher(fetch_limits(settings)) as fetcher,
        Digester(workers, budget) as digester,
    ):
        return await run_pass_with(
            settings, store, sources, clock, fetcher, digester, on_done=on_done
        )


async def run_pass_with(
    settings: Settings,
    store: Store,
    sources: Sequence[Source],
    clock: Callable[[], datetime],
    fetcher: Fetcher,
    digester: Digester,
    on_done: Callable[[SourceReport], None] | None = None,
) -> list[SourceReport]:
    """``run_pass`` with the fetcher and digester of a caller that runs many passes (a
    worker: its digest processes start, and load what they load, once)."""
    slots = asyncio.Semaphore(max(1, settings.fetch.concurrency))
    # Every source's state in one read, not one each.
    states = await asyncio.to_thread(store.states)

    async def one(source: Source) -> SourceReport:
        async with slots:
            report = await update(
                source,
                store=store,
                fetcher=fetcher,
                settings=settings,
                now=clock(),
                digester=digester,
                state=states.get(source.id),
                settle=False,
            )
        if on_done:
            on_done(report)
        return report

    reports = list(await asyncio.gather(*(one(source) for source in sources)))
    # Placed by n-grams and words once every source is in, the earliest first: the
    # stories do not depend on which source answered first.
    told = await asyncio.to_thread(store.settle, fold_policy(settings), clock())
    joined = collections.Counter(told.values())
    return [
        replace(r, inserted=r.inserted - joined[r.source_id], folded=r.folded + joined[r.source_id])
        if joined[r.source_id]
        else r
        for r in reports
    ]


async def read_new_folds(
    settings: Settings, store: Store, clock: Callable[[], datetime]
) -> fold_reading.FoldsRead:
    """With ``dedup.reader``, have it read the folds of reports written apart, and the
    near misses, that it has not read (``fold_reading``), logging what it did: after a
    pass (``run_pass``), once its articles are placed."""
    done = await fold_reading.read_folds(settings, store, clock)
    if done.read:
        log.info(
            "the reader read %d folds: %d split out, %d joined",
            done.read,
            done.split,
            done.joined,
        )
    return done


def prune(settings: Settings, store: Store, now: datetime) -> int:
    """Apply ``retention``: remove the articles older than it; how many went."""
    if settings.retention is None:
        return 0
    removed = store.prune(now - settings.retention)
    if removed:
        log.info("pruned %d articles older than %s", removed, settings.retention)
    return removed


#: Stores opened by ``publish_stored`` in this process, by URL.
_OPENED: dict[str, Store] = {}


def publish_stored(
    settings: Settings, now: datetime, notice: str | None = None
) -> publishing.PublishResult:
    """``publish_all`` over the store ``settings`` name, opened once per process: what a
    worker process runs, so rendering never holds the service's interpreter lock."""
    store = _OPENED.get(settings.storage)
    if store is None:
        store = _OPENED[settings.storage] = Store.open(settings.storage)
    return publish_all(settings, store, now, notice)


def publish_all(
    settings: Settings, store: Store, now: datetime, notice: str | None = None
) -> publishing.PublishResult:
    """Rewrite the outputs from the store: one item and one post per story.

    Each channel and the index page read only as many stories as they show
    (``selection``). Posts are written for the stories changed since the posts' manifest
    was last written, or for every story when it is missing or was written otherwise."""
    rank = source_rank(settings)
    mark = store.change_mark()  # first: a change after it is written now or next time
    posts: PostsToWrite | None = None
    if settings.output.posts_dir is not None:
        with PostLedger.open(settings.output.posts_dir) as ledger:
            since = ledger.mark if covers(ledger, ZoneInfo(settings.site.timezone)) else None
        if since is not None:
            posts = PostsToWrite(
                changed_posts_since(store, since, rank),
                complete=False,
                mark=mark,
                absorbed=store.merged_since(since),
            )
        else:
            posts = PostsToWrite(
                kept_items(store.articles(), rank), mark=mark, absorbed=store.merged_since(0)
            )
    return publishing.publish(
        settings,
        select_from_store(settings, store, rank),
        now,
        store.states(),
        notice,
        posts=posts or PostsToWrite(()),
        stories=store.story_count(),
    )
