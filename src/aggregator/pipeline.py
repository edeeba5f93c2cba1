"""One source's pass, top to bottom: fetch → parse → normalize → store; and publishing.

``update`` never raises for anything a source does: every failure ends up as a
``SourceReport`` and on the source's stored state, so one bad source never stops another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from aggregator import publish as publishing
from aggregator.config import Settings
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.model import Article, FetchStatus, ParsedFeed, Source, SourceState
from aggregator.normalize import entry_guid, is_wanted, normalize
from aggregator.parse import ParseFailure, parse_feed, parse_posts_dir
from aggregator.store import Store

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
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status == FetchStatus.ERROR

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


def fetch_limits(settings: Settings) -> FetchLimits:
    fetch = settings.fetch
    return FetchLimits(
        timeout=fetch.timeout.total_seconds(),
        max_bytes=fetch.max_bytes,
        concurrency=fetch.concurrency,
        per_host=fetch.per_host,
        user_agent=fetch.user_agent,
    )


def is_due(state: SourceState, now: datetime) -> bool:
    return state.next_due is None or state.next_due <= now


async def update(
    source: Source, *, store: Store, fetcher: Fetcher, settings: Settings, now: datetime
) -> SourceReport:
    """Fetch, parse, normalize and store one source; record how it went."""
    try:
        return await _update(source, store, fetcher, settings, now)
    except Exception as error:  # a bug must not take the other sources down with it
        log.exception("source %s: unexpected failure", source.id)
        reason = f"internal error: {type(error).__name__}: {error}"
        _record(store, source, now, FetchStatus.ERROR, error=reason)
        return SourceReport(source.id, FetchStatus.ERROR, error=reason)


async def _update(
    source: Source, store: Store, fetcher: Fetcher, settings: Settings, now: datetime
) -> SourceReport:
    validators = None
    if source.url.startswith("file:"):
        parsed = await asyncio.to_thread(parse_posts_dir, _local_path(source.url))
    else:
        outcome = await fetcher.fetch(source.url, store.state(source.id).validators)
        if outcome.status is FetchStatus.ERROR:
            _record(store, source, now, FetchStatus.ERROR, error=outcome.error)
            return SourceReport(source.id, FetchStatus.ERROR, error=outcome.error)
        if outcome.status is FetchStatus.NOT_MODIFIED:
            _record(store, source, now, FetchStatus.NOT_MODIFIED, validators=outcome.validators)
            return SourceReport(source.id, FetchStatus.NOT_MODIFIED)
        validators = outcome.validators
        parsed = parse_feed(
            outcome.body or b"",
            url=outcome.final_url or source.url,
            content_type=outcome.content_type,
        )
    if isinstance(parsed, ParseFailure):
        _record(store, source, now, FetchStatus.ERROR, error=parsed.reason)
        return SourceReport(source.id, FetchStatus.ERROR, error=parsed.reason)
    articles, warnings = articles_of(parsed, source, settings, now)
    result = store.save_articles(source.id, articles, now)
    _record(store, source, now, FetchStatus.OK, validators=validators)
    for warning in warnings:
        log.warning("source %s: %s", source.id, warning)
    return SourceReport(
        source.id,
        FetchStatus.OK,
        inserted=result.inserted,
        updated=result.updated,
        duplicates=result.duplicates,
        warnings=warnings,
    )


def articles_of(
    parsed: ParsedFeed, source: Source, settings: Settings, now: datetime
) -> tuple[list[tuple[str, Article]], tuple[str, ...]]:
    """(guid, article) for every wanted entry; an entry that fails is skipped with a warning."""
    warnings = list(parsed.warnings)
    entries = parsed.entries[: source.max_items] if source.max_items else parsed.entries
    articles: list[tuple[str, Article]] = []
    for position, entry in enumerate(entries):
        try:
            article = normalize(
                entry,
                source,
                base_url=parsed.base_url,
                now=now,
                excerpt_length=settings.site.excerpt_length,
            )
        except Exception as error:  # one bad entry never costs the others
            warnings.append(f"entry {position + 1} skipped: {type(error).__name__}: {error}")
            continue
        if is_wanted(article, source):
            articles.append((entry_guid(entry, parsed.base_url), article))
    return articles, tuple(warnings)


def _record(
    store: Store,
    source: Source,
    now: datetime,
    status: FetchStatus,
    *,
    validators: object = None,
    error: str | None = None,
) -> None:
    store.record_fetch(
        source.id,
        at=now,
        status=status.value,
        validators=validators,  # type: ignore[arg-type]
        error=error,
        next_due=now + source.interval,
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
    """Update ``sources`` concurrently (bounded by the fetch limits); reports in order."""
    async with Fetcher(fetch_limits(settings)) as fetcher:

        async def one(source: Source) -> SourceReport:
            report = await update(
                source, store=store, fetcher=fetcher, settings=settings, now=clock()
            )
            if on_done:
                on_done(report)
            return report

        return list(await asyncio.gather(*(one(source) for source in sources)))


def publish_all(settings: Settings, store: Store, now: datetime) -> publishing.PublishResult:
    """Rewrite every output from the store."""
    return publishing.publish(settings, store.articles(), now)
