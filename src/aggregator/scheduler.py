"""The always-on service: every second (and whenever a pass ends) it claims the sources
that are due by their stored schedule, as ``aggregator worker`` does, and passes over
them; outputs are republished shortly after a pass stored something.

The schedule lives in the store (``next_due`` and why), so backoff, ``Retry-After`` and a
restart are honoured; the claim is a lease (``Store.claim_due``), so the service and
workers on the same store never fetch one source at once. Edits of
feeds.yaml are taken live (file watching, or SIGHUP): sources and channels are added,
removed or rescheduled; an invalid edit is reported and the last good configuration
keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from aggregator import pipeline, websub, worker
from aggregator.config import Settings, load_config
from aggregator.digest import Digester, worker_count
from aggregator.errors import ConfigError, StoreError
from aggregator.fetch import Fetcher
from aggregator.metrics import Metrics
from aggregator.model import Source, SourceState
from aggregator.store import Store

log = logging.getLogger(__name__)

#: The scheduler executor publishes run in.
PUBLISHER = "publisher"
#: Publishing waits this long after a change so a burst of passes publishes once...
PUBLISH_DELAY = timedelta(seconds=2)
#: ...but never longer than this after the first change it is waiting on (a first pass
#: over many sources stores for minutes; its news is published as it goes).
PUBLISH_MAX_DELAY = timedelta(seconds=10)
#: On stop, passes under way get this long to finish before they are abandoned.
STOP_GRACE_SECONDS = 10.0
#: How often feeds.yaml is checked for edits.
CONFIG_CHECK_SECONDS = 1.0
#: How often due sources are claimed (and whenever a pass ends).
CLAIM_EVERY = timedelta(seconds=1)
#: How often articles past ``retention`` are removed (and once at start).
PRUNE_EVERY = timedelta(hours=1)
#: How often what survived the collector's young generations is frozen (``gc.freeze``):
#: a full collection walks every object not frozen and holds the interpreter lock for all
#: of it (65-150 ms each, every few seconds, in a pass over 1,000 sources).
FREEZE_EVERY = timedelta(seconds=10)
#: A failed publish is tried again after this long, doubled after each failure...
PUBLISH_RETRY = timedelta(seconds=5)
#: ...up to this.
PUBLISH_RETRY_MAX = timedelta(minutes=5)

Published = Callable[[Mapping[str, bytes], datetime], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Health:
    """What /healthz and the logs say about the running service."""

    started: datetime = field(default_factory=utcnow)
    last_publish: datetime | None = None
    #: Why the last edit of feeds.yaml was refused; None when the running one is the file's.
    config_error: str | None = None
    #: Why the last publish failed, while no publish has succeeded since.
    publish_error: str | None = None
    #: Publishes failed in a row.
    publish_failures: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "degraded" if self.config_error or self.publish_error else "ok",
            "started": self.started.isoformat(),
            "last_publish": self.last_publish.isoformat() if self.last_publish else None,
            "config_error": self.config_error,
            "publish_error": self.publish_error,
        }


class Service:
    """Scheduler + fetcher + store for ``aggregator run``."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        on_published: Published | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.health = Health(started=clock())
        self.metrics = metrics
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        # Publishing gets a thread of its own: in the event loop's shared pool it queued
        # behind every source's store calls during a big pass, and waited far past
        # PUBLISH_MAX_DELAY.
        self.scheduler.add_executor(ThreadPoolExecutor(max_workers=1), PUBLISHER)
        self.fetcher: Fetcher | None = None
        self.digester = Digester()
        self._on_published = on_published
        self._first_pending_change: datetime | None = None
        self._publish_retry_at = clock()
        self._passes: set[asyncio.Task[None]] = set()
        self._reload_requested = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._claiming = asyncio.Lock()
        #: The reader's reading of new folds, while one runs (``_read_soon``).
        self._reading: asyncio.Future[None] | None = None
        self._read_again = False
        self._claims: set[asyncio.Future[None]] = set()
        self._stopping = False
        #: Who the sources this service fetches are leased to.
        self.owner = worker.owner_name()

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; passes under way get a bounded time to finish."""
        self.fetcher = Fetcher(pipeline.fetch_limits(self.settings))
        # Parsing runs in worker processes for many sources: in threads it would hold the
        # interpreter lock the event loop (and the HTTP server) needs.
        self.digester = Digester(
            worker_count(self.settings.fetch.workers, len(self.settings.sources)),
            budget=self.settings.fetch.parse_timeout.total_seconds(),
        )
        self._loop = asyncio.get_running_loop()
        # A restart after a kill: what the killed process had claimed is due again now.
        await asyncio.to_thread(worker.release_dead_leases, self.store)
        watcher = asyncio.create_task(self._watch_config(stop))
        try:
            await asyncio.to_thread(self._publish)
            self._schedule_all()
            self.scheduler.start()
            # Everything loaded so far (modules, settings, the first publish's leftovers)
            # lives as long as the process: kept out of the collector's full passes, which
            # otherwise walk it all and hold the event loop 100 ms or more each time.
            gc.collect()
            gc.freeze()
            log.info(
                "running: %d sources, %d channels, output in %s",
                len(self.settings.sources),
                len(self.settings.channels),
                self.settings.output.dir,
            )
            await stop.wait()
            self._stopping = True
            log.info("stopping: no new passes; waiting for %d under way", len(self._passes))
        finally:
            # No new passes; those under way finish (or are abandoned) before the scheduler
            # goes, as its shutdown would cancel them halfway.
            if self.scheduler.running:
                self.scheduler.pause()
            watcher.cancel()
            await self._finish_passes()
            if self._reading is not None and not self._reading.done():
                self._reading.cancel()  # a fold not yet answered is read after a restart
                await asyncio.gather(self._reading, return_exceptions=True)
            if self._first_pending_change is not None:  # stored but not yet published
                await asyncio.to_thread(self._publish)
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            await self.fetcher.aclose()
            await self.digester.aclose()
            log.info("stopped")

    def health_report(self) -> dict[str, object]:
        """/healthz: the service's state and which sources are failing; "degraded" while
        feeds.yaml is refused, publishing fails, the store cannot be read, or more than
        half of the sources are failing."""
        report: dict[str, object] = {
            **self.health.as_dict(),
            "sources": len(self.settings.sources),
        }
        try:
            states = self.store.states()
        except StoreError as error:
            return {**report, "status": "degraded", "store_error": str(error), "failing": None}
        return {**report, **pipeline.source_health(self.settings.sources, states)}

    def request_reload(self) -> None:
        """Reload feeds.yaml soon (SIGHUP)."""
        self._reload_requested.set()

    async def _finish_passes(self) -> None:
        if self._passes:
            _, pending = await asyncio.wait(self._passes, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("abandoned %d passes still under way", len(pending))
                await asyncio.gather(*pending, return_exceptions=True)

    # -- scheduling --------------------------------------------------------------------------

    def _schedule_all(self) -> None:
        if self.scheduler.get_job("claim") is None:
            # The loop every worker runs: claim due sources (as many as there are free
            # pass slots) and pass over them; a pass that ends claims again at once.
            self.scheduler.add_job(
                self._claim, IntervalTrigger(seconds=CLAIM_EVERY.total_seconds(), timezone=UTC),
                id="claim", name="claim due sources", next_run_time=self.clock(),
                coalesce=True, max_instances=1, misfire_grace_time=None, replace_existing=True,
            )  # fmt: skip
        if self.scheduler.get_job("prune") is None:
            # A sync job: APScheduler runs it in its thread pool, beside the event loop.
            self.scheduler.add_job(
                self._prune, IntervalTrigger(seconds=PRUNE_EVERY.total_seconds(), timezone=UTC),
                id="prune", name="prune", next_run_time=self.clock(), coalesce=True,
                max_instances=1, replace_existing=True,
            )  # fmt: skip
        if self.scheduler.get_job("freeze") is None:
            self.scheduler.add_job(
                _freeze_survivors, IntervalTrigger(seconds=FREEZE_EVERY.total_seconds(),
                timezone=UTC), id="freeze", name="freeze", coalesce=True, max_instances=1,
                misfire_grace_time=None, replace_existing=True,
            )  # fmt: skip

    async def _claim(self) -> None:
        """Claim the sources due now, as ``aggregator worker`` does (``Store.claim_due``:
        due by the stored schedule, leased to nobody else), up to the free pass slots
        (``fetch.concurrency``), and start a pass over each."""
        if self.fetcher is None or self._stopping:
            return
        async with self._claiming:  # a tick and a finished pass never claim at once
            free = max(1, self.settings.fetch.concurrency) - len(self._passes)
            if free <= 0:
                return
            by_id = {source.id: source for source in self.settings.sources}
            # Store calls run beside the event loop: a long write never stalls it.
            claimed = await asyncio.to_thread(
                self.store.claim_due, self.owner, self.clock(), worker.LEASE, free, list(by_id)
            )
            for source_id in claimed:
                task = asyncio.create_task(self._claimed_pass(by_id[source_id]))
                self._passes.add(task)
                task.add_done_callback(self._pass_ended)

    async def _claimed_pass(self, source: Source) -> None:
        await self._pass(source, await asyncio.to_thread(self.store.state, source.id))

    def _pass_ended(self, task: asyncio.Task[None]) -> None:
        self._passes.discard(task)
        if not self._stopping:  # a slot is free: claim the next due source now
            claim = asyncio.ensure_future(self._claim())
            self._claims.add(claim)
            claim.add_done_callback(self._claims.discard)

    async def _pass(self, source: Source, before: SourceState) -> None:
        """One source's pass; ``before`` is its state as the pass began."""
        assert self.fetcher is not None
        now = self.clock()
        report = await pipeline.update(
            source,
            store=self.store,
            fetcher=self.fetcher,
            settings=self.settings,
            now=now,
            state=before,
            digester=self.digester,
        )
        if self.metrics is not None:
            self.metrics.record_fetch(source.id, report.status, report.inserted, report.folded)
            if not report.failed:
                self.metrics.record_success(source.id, now)
        if report.failed:
            state = await asyncio.to_thread(self.store.state, source.id)
            log.warning(
                "source %s failed: %s (next try %s, %s)",
                source.id,
                report.error,
                # In the site's zone, with its offset: what the pages and `sources` show.
                state.next_due.astimezone(self.settings.site.tz).isoformat(timespec="seconds")
                if state.next_due
                else "never",
                state.disabled or state.next_reason,
            )
        else:
            log.info(
                "source %s: %s, %d new, %d updated, %d folded",
                source.id,
                report.status,
                report.inserted,
                report.updated,
                report.folded,
            )
        if report.changed and self.settings.dedup.reader is not None:
            self._read_soon()
        # New articles change the channels; a first fetch, a failure or a recovery
        # changes the source's health on the index page.
        health_moved = before.last_fetch is None or report.failed != (before.last_status == "error")
        if report.changed or health_moved:
            self._publish_soon()

    def _read_soon(self) -> None:
        """Have the reader read the new folds (``dedup.reader``) beside the passes, not
        in them: a model takes seconds a fold, and a pass holds a fetch slot. One
        reading at a time, so each fold is asked once; a pass ending during a reading
        has it go round again."""
        if self._reading is not None and not self._reading.done():
            self._read_again = True
            return
        self._read_again = False
        self._reading = asyncio.ensure_future(self._read_folds())

    async def _read_folds(self) -> None:
        while True:
            self._read_again = False
            try:
                done = await pipeline.read_new_folds(self.settings, self.store, self.clock)
            except Exception:  # a task of its own: nobody else would see it
                log.exception("reading the new folds failed; they are read after a later pass")
                return
            if done.split or done.joined:
                self._publish_soon()
            if not self._read_again or self._stopping:
                return

    def _prune(self) -> None:
        """Apply ``retention``; the channels lose what left the store at the next publish.
        Also frees the cyclic garbage frozen since the last time (``_free_frozen_cycles``)."""
        _free_frozen_cycles()
        try:
            removed = pipeline.prune(self.settings, self.store, self.clock())
        except StoreError as error:
            log.error("pruning old articles failed (tried again later): %s", error)
            return
        if removed:
            self._publish_soon()

    def _publish_soon(self) -> None:
        now = self.clock()
        self._first_pending_change = self._first_pending_change or now
        run_at = min(now + PUBLISH_DELAY, self._first_pending_change + PUBLISH_MAX_DELAY)
        if self.health.publish_failures:  # backing off: a new change does not cut it short
            run_at = max(run_at, self._publish_retry_at)
        self._schedule_publish(run_at)

    def _schedule_publish(self, run_at: datetime) -> None:
        self.scheduler.add_job(
            self._publish, "date", run_date=run_at, id="publish", name="publish",
            replace_existing=True, executor=PUBLISHER,
        )  # fmt: skip

    def _publish(self) -> None:
        """Publish what the store holds; on failure keep the change pending and try again
        with backoff."""
        pending, self._first_pending_change = self._first_pending_change, None
        started = time.perf_counter()
        try:
            notice = (
                f"feeds.yaml edit refused; running the last good configuration:\n"
                f"{self.health.config_error}"
                if self.health.config_error
                else None
            )
            if self.digester.running:
                # Rendering is CPU-bound Python: in a worker process it never holds the
                # interpreter lock the event loop (and every HTTP answer) needs.
                result = self.digester.call(
                    pipeline.publish_stored, self.settings, self.clock(), notice
                )
            else:
                result = pipeline.publish_all(self.settings, self.store, self.clock(), notice)
        except (OSError, StoreError) as error:
            self._publish_failed(error, pending)
            return
        self.health.publish_error = None
        self.health.publish_failures = 0
        self.health.last_publish = self.clock()
        if self._on_published is not None:
            self._on_published(result.files, self.health.last_publish)
        if self.settings.publish.websub_hub and result.changed and self._loop is not None:
            # Publishing runs in a worker thread; the hub is told from the event loop, once
            # the server holds the new bytes (the hub fetches the topics at once).
            asyncio.run_coroutine_threadsafe(
                websub.announce(self.settings, result.changed), self._loop
            )
        if self.metrics is not None:
            self.metrics.observe_publish(time.perf_counter() - started, result.stories)
        log.info(
            "published %d stories in %d channels in %.2fs: %d files changed, "
            "%d posts written, %d removed",
            result.stories,
            result.channels,
            time.perf_counter() - started,
            len(result.changed),
            result.posts_written,
            result.posts_removed,
        )

    def _publish_failed(self, error: Exception, pending: datetime | None) -> None:
        now = self.clock()
        health = self.health
        health.publish_failures += 1
        health.publish_error = f"{type(error).__name__}: {error}"
        # A change stored meanwhile keeps its own (earlier or later) start.
        self._first_pending_change = self._first_pending_change or pending or now
        wait = min(PUBLISH_RETRY * 2 ** (health.publish_failures - 1), PUBLISH_RETRY_MAX)
        self._publish_retry_at = now + wait
        if self.metrics is not None:
            self.metrics.publish_failures.inc()
        log.error(
            "publishing failed (%d in a row), trying again in %ds: %s",
            health.publish_failures,
            wait.total_seconds(),
            health.publish_error,
        )
        self._schedule_publish(self._publish_retry_at)

    # -- live configuration ------------------------------------------------------------------

    async def _watch_config(self, stop: asyncio.Event) -> None:
        """Reload when feeds.yaml changes (checked every second: a stat call, portable to
        every file system and to editors that save by replacing the file) or on SIGHUP."""
        path = self.settings.path
        if path is None:
            return
        last = _file_signature(path)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload_requested.wait(), CONFIG_CHECK_SECONDS)
            requested = self._reload_requested.is_set()
            self._reload_requested.clear()
            current = _file_signature(path)
            if requested or current != last:
                last = current
                try:
                    self.reload()
                except Exception:  # a bug here must not end the watching
                    log.exception("reloading feeds.yaml failed")

    def reload(self) -> bool:
        """Take feeds.yaml as it is now; False (and the old one kept) when it is invalid."""
        path = self.settings.path
        if path is None:
            return False
        try:
            settings = load_config(path)
        except ConfigError as error:
            # Shown publicly (index page, /healthz) without the refused values, which may
            # be a password, nor the file's absolute path; the log has it all.
            self.health.config_error = public_config_error(str(error), path)
            log.error("feeds.yaml edit refused, still running the last good one:\n%s", error)
            self._publish_soon()  # the index page says so
            return False
        before = {s.id: s for s in self.settings.sources}
        after = {s.id: s for s in settings.sources}
        previous = self.settings
        try:
            self.settings = settings
            self.store.sync_sources(settings.sources)
            self._schedule_all()
        except Exception as error:  # whatever it is, reloading must go on working
            self.settings = previous
            self.health.config_error = f"feeds.yaml could not be applied: {type(error).__name__}"
            log.exception("feeds.yaml could not be applied, still running the last good one")
            self._publish_soon()
            return False
        self.health.config_error = None
        added = sorted(after.keys() - before.keys())
        removed = sorted(before.keys() - after.keys())
        changed = sorted(k for k in after.keys() & before.keys() if after[k] != before[k])
        log.info(
            "feeds.yaml reloaded: %d sources (added %s, removed %s, changed %s), %d channels",
            len(after),
            ", ".join(added) or "none",
            ", ".join(removed) or "none",
            ", ".join(changed) or "none",
            len(settings.channels),
        )
        self._publish_soon()
        return True


def public_config_error(error: str, path: Path) -> str:
    """A refused configuration's problems as the public may see them: the file by its
    name, not its absolute path, and no refused value (``..., got 'postgres://u:pw@…'``)."""
    lines = []
    for line in error.splitlines():
        line = line.replace(str(path), path.name)
        lines.append(_REFUSED_VALUE.sub("", line))
    return "\n".join(lines)


_REFUSED_VALUE = re.compile(r",? got .*$")


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino)


def _freeze_survivors() -> None:
    """Collect the young generations, then move what survives (the store's and the
    server's long-lived objects, mostly) where full collections do not walk."""
    gc.collect(1)
    gc.freeze()


def _free_frozen_cycles() -> None:
    """Give the collector everything frozen, then freeze what survives: cyclic garbage
    frozen by ``_freeze_survivors`` is freed (one full collection, hourly with the prune)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


async def serve_until_signalled(
    service: Service, *others: Callable[[asyncio.Event], Awaitable[object]]
) -> None:
    """Run ``service`` (and ``others``, given the same stop event) until SIGINT or SIGTERM;
    SIGHUP reloads feeds.yaml."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, service.request_reload)
    tasks = [asyncio.ensure_future(other(stop)) for other in others]
    for task in tasks:  # a companion that fails (the HTTP port is taken) stops everything
        task.add_done_callback(lambda _: stop.set())
    try:
        await service.run(stop)
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
