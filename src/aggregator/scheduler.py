"""The always-on service: APScheduler runs each source's pass at its interval and
publishes shortly after a pass stored something new.

The first run of each source honours the due time stored by earlier runs, so a restart
does not refetch everything at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from aggregator import pipeline
from aggregator.config import Settings
from aggregator.fetch import Fetcher
from aggregator.model import Source
from aggregator.store import Store

log = logging.getLogger(__name__)

#: Publishing waits this long after a change so a burst of passes publishes once.
PUBLISH_DELAY = timedelta(seconds=2)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Service:
    """Scheduler + fetcher + store for ``aggregator run``."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.fetcher: Fetcher | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set."""
        self.fetcher = Fetcher(pipeline.fetch_limits(self.settings))
        try:
            self._publish()
            now = utcnow()
            states = self.store.states()
            for source in self.settings.sources:
                state = states.get(source.id)
                first = state.next_due if state and state.next_due and state.next_due > now else now
                self.scheduler.add_job(
                    self._tick,
                    IntervalTrigger(
                        seconds=source.interval.total_seconds(),
                        jitter=min(60.0, source.interval.total_seconds() / 10),
                        timezone=UTC,
                    ),
                    args=[source],
                    id=f"source:{source.id}",
                    name=f"fetch {source.id}",
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=int(source.interval.total_seconds()),
                    next_run_time=first,
                )
            self.scheduler.start()
            log.info(
                "running: %d sources, %d channels, output in %s",
                len(self.settings.sources),
                len(self.settings.channels),
                self.settings.output.dir,
            )
            await stop.wait()
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            await self.fetcher.aclose()
            log.info("stopped")

    async def _tick(self, source: Source) -> None:
        assert self.fetcher is not None
        report = await pipeline.update(
            source, store=self.store, fetcher=self.fetcher, settings=self.settings, now=utcnow()
        )
        if report.failed:
            log.warning("source %s failed: %s", source.id, report.error)
        else:
            log.info(
                "source %s: %s, %d new, %d updated",
                source.id,
                report.status,
                report.inserted,
                report.updated,
            )
        if report.changed:
            self.scheduler.add_job(
                self._publish,
                "date",
                run_date=utcnow() + PUBLISH_DELAY,
                id="publish",
                name="publish",
                replace_existing=True,
            )

    def _publish(self) -> None:
        try:
            result = pipeline.publish_all(self.settings, self.store, utcnow())
        except OSError as error:
            log.error("publishing failed: %s", error)
            return
        log.info(
            "published %d channels: %d files changed, %d posts written, %d removed",
            result.channels,
            len(result.changed),
            result.posts_written,
            result.posts_removed,
        )


async def serve_until_signalled(service: Service) -> None:
    """Run ``service`` until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await service.run(stop)
