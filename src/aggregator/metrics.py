"""The service's Prometheus metrics: what was fetched, stored, folded and published.

One ``Metrics`` owns its own ``CollectorRegistry`` (never prometheus_client's global one),
so a process, or a test, can hold several without name clashes. The composition layer
records into it after each source's pass and each publish; the server's ``/metrics``
route calls ``render`` for the text exposition format.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: The media type of ``render``'s output (the Prometheus text format, version 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Publishing renders every channel in three formats plus OPML and the index page:
#: milliseconds for a small site, seconds for a large one.
PUBLISH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

#: The status recorded for a failed fetch (``pipeline.SourceReport.status``).
ERROR_STATUS = "error"


class Metrics:
    """Counters, gauges and a histogram over one private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.fetches = Counter(
            "fetches_total",
            "Passes over a source, by outcome (ok, not_modified, error).",
            ["source", "status"],
            registry=self.registry,
        )
        self.fetch_errors = Counter(
            "fetch_errors_total",
            "Passes over a source that failed.",
            ["source"],
            registry=self.registry,
        )
        self.articles_stored = Counter(
            "articles_stored_total",
            "New articles stored, by source.",
            ["source"],
            registry=self.registry,
        )
        self.articles_folded = Counter(
            "articles_folded_total",
            "New articles folded into a story already told, by source.",
            ["source"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "source_last_success_timestamp_seconds",
            "When a source was last fetched successfully (Unix time).",
            ["source"],
            registry=self.registry,
        )
        self.publish_seconds = Histogram(
            "publish_seconds",
            "Time spent rendering and publishing every output.",
            buckets=PUBLISH_BUCKETS,
            registry=self.registry,
        )
        self.publish_failures = Counter(
            "publish_failures",
            "Publishes that failed (each is tried again with backoff).",
            registry=self.registry,
        )
        self.stories_published = Gauge(
            "stories_published",
            "Stories (one kept item each) in the last publish.",
            registry=self.registry,
        )

    def track_sources(self, source_ids: Iterable[str]) -> None:
        """Start each source's counters at zero, so ``rate()`` sees them before any event."""
        for source_id in source_ids:
            self.fetch_errors.labels(source=source_id)
            self.articles_stored.labels(source=source_id)
            self.articles_folded.labels(source=source_id)

    def record_fetch(self, source_id: str, status: str, inserted: int, folded: int) -> None:
        """One source's pass: its outcome and how many articles it stored and folded."""
        self.fetches.labels(source=source_id, status=status).inc()
        if status == ERROR_STATUS:
            self.fetch_errors.labels(source=source_id).inc()
        if inserted:
            self.articles_stored.labels(source=source_id).inc(inserted)
        if folded:
            self.articles_folded.labels(source=source_id).inc(folded)

    def record_success(self, source_id: str, when: datetime) -> None:
        """A source was fetched successfully (or answered 304) at ``when``."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        self.last_success.labels(source=source_id).set(when.timestamp())

    def observe_publish(self, seconds: float, stories: int) -> None:
        """A publish took ``seconds`` and showed ``stories`` stories."""
        self.publish_seconds.observe(seconds)
        self.stories_published.set(stories)

    def render(self) -> bytes:
        """Every metric in the Prometheus text exposition format (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)
