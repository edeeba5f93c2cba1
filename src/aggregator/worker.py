"""``aggregator worker``: one of any number of processes, on any number of machines, that
share one store (PostgreSQL) and fetch its sources between them.

A worker claims due sources with a lease (``Store.claim_due``: ``FOR UPDATE SKIP
LOCKED``, so workers claiming at once take different sources), runs a pass over them,
and each source's recorded fetch ends its lease with its next due time and the reason.
A source is fetched by one worker at a time; a worker that dies mid-fetch stores nothing
half-way (each batch is one transaction, and a fetch is recorded with its last batch),
and its sources are claimed again once their lease runs out. Placing an article in a
story is race-free between workers (``story_index.lock_placement``).

Publishing: ``aggregator serve`` renders the feeds from the store, so every front end
serves what the workers stored. Files (feeds, index page, posts) are written by one
worker only, whichever holds the publisher's lock (``Store.leadership``: a PostgreSQL
session advisory lock); the others try to take it over every few seconds, so a
publisher that dies is replaced. The publisher publishes whenever the store changed
since its last publish, whoever changed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator import pipeline
from aggregator.config import Settings
from aggregator.digest import Digester, worker_count
from aggregator.fetch import Fetcher
from aggregator.processes import process_alive
from aggregator.store import Store
from aggregator.store.leadership import Leadership

log = logging.getLogger(__name__)

#: How long a claimed source is a worker's: longer than a pass over one claim can take
#: (a fetch's timeout and its parse budget, and its turn for a store write), short enough
#: that a dead worker's sources are not long left alone.
LEASE = timedelta(minutes=10)
#: Seconds between looks for due sources when none was due.
IDLE_SECONDS = 5.0
#: Seconds between a worker's looks for changes to publish (or for the publisher's lock).
PUBLISH_CHECK_SECONDS = 2.0
#: Seconds a worker stopping when idle waits for the publisher's lock to publish last.
FINAL_PUBLISH_WAIT = 120.0


@dataclass
class WorkReport:
    """What a worker did until it stopped."""

    claims: int = 0
    fetched: int = 0
    failed: int = 0
    publishes: int = 0


def owner_name() -> str:
    """Who holds a lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def release_dead_leases(store: Store) -> set[str]:
    """End the leases held by processes of this host that have died (killed mid-fetch,
    then restarted): their sources need not wait for the leases to run out. Other
    hosts' leases run out by themselves."""
    host = socket.gethostname()
    dead = set()
    for owner in store.lease_owners():
        name, _, pid = owner.rpartition(":")
        if name == host and pid.isdigit() and not process_alive(int(pid)):
            dead.add(owner)
    store.release_leases(dead)
    return dead


def utcnow() -> datetime:
    return datetime.now(UTC)


async def work(
    settings: Settings,
    store: Store,
    *,
    owner: str,
    lease: timedelta = LEASE,
    until_idle: bool = False,
    stop: asyncio.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
    publish: bool = False,
) -> WorkReport:
    """Claim and fetch due sources until ``stop`` is set, or, with ``until_idle``, until
    no source is due and unclaimed. With ``publish``, publish the outputs while this
    worker holds the publisher's lock (and once more before stopping, if it does)."""
    report = WorkReport()
    stop = stop or asyncio.Event()
    if not publish:
        await _fetch_due(settings, store, owner, lease, until_idle, stop, clock, report)
        return report
    fetching = asyncio.ensure_future(
        _fetch_due(settings, store, owner, lease, until_idle, stop, clock, report)
    )
    fetching.add_done_callback(lambda _: stop.set())
    publisher = store.leadership("publisher")
    try:
        # A worker that stops when idle publishes what it stored before it goes; one
        # stopped by a signal does not wait for the lock.
        final_wait = FINAL_PUBLISH_WAIT if until_idle else 0.0
        await _publish_while_leading(settings, store, publisher, stop, clock, report, final_wait)
        await fetching
    finally:
        fetching.cancel()
        publisher.release()
    return report


async def _fetch_due(
    settings: Settings,
    store: Store,
    owner: str,
    lease: timedelta,
    until_idle: bool,
    stop: asyncio.Event,
    clock: Callable[[], datetime],
    report: WorkReport,
) -> None:
    by_id = {source.id: source for source in settings.sources}
    await asyncio.to_thread(store.sync_sources, settings.sources)
    await asyncio.to_thread(release_dead_leases, store)
    # As many at once as a pass fetches at once: a claim is fetched in one go.
    batch = max(1, settings.fetch.concurrency)
    # One fetcher and one set of digest processes for every claim (the processes load
    # the Korean analyzer once, not per claim).
    workers = worker_count(settings.fetch.workers, len(by_id))
    async with (
        Fetcher(pipeline.fetch_limits(settings)) as fetcher,
        Digester(workers, settings.fetch.parse_timeout.total_seconds()) as digester,
    ):
        while not stop.is_set():
            claimed = await asyncio.to_thread(
                store.claim_due, owner, clock(), lease, batch, list(by_id)
            )
            if not claimed:
                if until_idle:
                    break
                await _idle(stop)
                continue
            report.claims += 1
            sources = [by_id[i] for i in claimed]
            results = await pipeline.run_pass_with(
                settings, store, sources, clock, fetcher, digester
            )
            await pipeline.read_new_folds(settings, store, clock)
            _tally(results, report)


def _tally(results: list[pipeline.SourceReport], report: WorkReport) -> None:
    for result in results:
        report.fetched += 1
        if result.failed:
            report.failed += 1
            log.warning("source %s: %s", result.source_id, result.error)
        else:
            log.info(
                "source %s: %s, %d new, %d folded",
                result.source_id,
                result.status,
                result.inserted,
                result.folded,
            )


async def _publish_while_leading(
    settings: Settings,
    store: Store,
    publisher: Leadership,
    stop: asyncio.Event,
    clock: Callable[[], datetime],
    report: WorkReport,
    final_wait: float,
) -> None:
    """Publish what changed since the last publish, every ``PUBLISH_CHECK_SECONDS``,
    while holding ``publisher``; until then, try to take it as often. Once stopping,
    wait up to ``final_wait`` seconds for it to publish a last time."""
    published: int | None = None
    while True:
        stopping = stop.is_set()
        taken = await asyncio.to_thread(publisher.try_take)
        waited = 0.0
        while stopping and final_wait and not taken and waited < final_wait:
            # Done fetching: what this worker stored is published by whoever holds the
            # lock only if that one is still running, so wait for it to let go.
            await asyncio.sleep(0.2)
            waited += 0.2
            taken = await asyncio.to_thread(publisher.try_take)
        if taken:
            mark = await asyncio.to_thread(store.change_mark)
            changed = published is None or await asyncio.to_thread(store.changed_since, published)
            if changed:
                result = await asyncio.to_thread(pipeline.publish_all, settings, store, clock())
                published = mark
                report.publishes += 1
                log.info(
                    "published %d channels: %d files changed, %d posts written",
                    result.channels,
                    len(result.changed),
                    result.posts_written,
                )
        if stopping:
            return
        await _idle(stop, PUBLISH_CHECK_SECONDS)


async def _idle(stop: asyncio.Event, seconds: float = IDLE_SECONDS) -> None:
    with contextlib.suppress(TimeoutError):  # nothing to do yet: look again
        await asyncio.wait_for(stop.wait(), seconds)
