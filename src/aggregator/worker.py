"""``aggregator worker``: one of any number of processes, on any number of machines, that
share one store (PostgreSQL) and fetch its sources between them.

A worker claims due sources with a lease (``Store.claim_due``: ``FOR UPDATE SKIP
LOCKED``, so workers claiming at once take different sources), runs a pass over them,
and each source's recorded fetch ends its lease with its next due time and the reason.
A source is fetched by one worker at a time; a worker that dies mid-fetch stores nothing
half-way (each batch is one transaction, and a fetch is recorded with its last batch),
and its sources are claimed again once their lease runs out. Placing an article in a
story is race-free between workers (``story_index.lock_placement``).

Workers do not publish: ``aggregator serve`` renders the feeds from the store, so every
front end serves what the workers stored.
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
from aggregator.store import Store

log = logging.getLogger(__name__)

#: How long a claimed source is a worker's: longer than a pass over one claim can take
#: (a fetch's timeout and its parse budget, and its turn for a store write), short enough
#: that a dead worker's sources are not long left alone.
LEASE = timedelta(minutes=10)
#: Seconds between looks for due sources when none was due.
IDLE_SECONDS = 5.0


@dataclass
class WorkReport:
    """What a worker did until it stopped."""

    claims: int = 0
    fetched: int = 0
    failed: int = 0


def owner_name() -> str:
    """Who holds a lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
) -> WorkReport:
    """Claim and fetch due sources until ``stop`` is set, or, with ``until_idle``, until
    no source is due and unclaimed."""
    by_id = {source.id: source for source in settings.sources}
    await asyncio.to_thread(store.sync_sources, settings.sources)
    # As many at once as a pass fetches at once: a claim is fetched in one go.
    batch = max(1, settings.fetch.concurrency)
    report = WorkReport()
    while stop is None or not stop.is_set():
        claimed = await asyncio.to_thread(
            store.claim_due, owner, clock(), lease, batch, list(by_id)
        )
        if not claimed:
            if until_idle:
                break
            await _idle(stop)
            continue
        report.claims += 1
        results = await pipeline.run_pass(settings, store, [by_id[i] for i in claimed], clock)
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
    return report


async def _idle(stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(IDLE_SECONDS)
        return
    with contextlib.suppress(TimeoutError):  # nothing due yet: look again
        await asyncio.wait_for(stop.wait(), IDLE_SECONDS)
