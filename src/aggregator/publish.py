"""Writing every output to disk: channel feeds, OPML, the index page, and posts.

Every file is written atomically and left alone when its bytes did not change
(``atomic_files``), so its modification time and HTTP validators stay put; each publish
first removes what a killed writer left behind. Posts are written by ``post_writing``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator.atomic_files import remove_stale_temporaries, write_atomic
from aggregator.channels import select
from aggregator.config import Settings
from aggregator.feed_style import FEED_XSL, STYLESHEET_PATH
from aggregator.index_page import render_index
from aggregator.model import SourceState, StoredArticle
from aggregator.opml import render_opml
from aggregator.post_writing import PostsToWrite, write_posts
from aggregator.render_cache import RECORD_NAME, DiskRenderCache, RenderCache, channel_signature
from aggregator.syndication import FEED_FORMATS, ChannelMeta

log = logging.getLogger(__name__)

INDEX_LATEST = 30


@dataclass(frozen=True, slots=True)
class PublishResult:
    #: Files under output.dir whose bytes changed, relative paths.
    changed: tuple[str, ...]
    channels: int
    posts_written: int
    posts_removed: int
    #: Every file of output.dir by relative path, as written (what the server holds).
    files: Mapping[str, bytes] = field(default_factory=dict)
    #: Stories published.
    stories: int = 0


def channel_meta(settings: Settings, channel_id: str, title: str, description: str) -> ChannelMeta:
    site = settings.site
    base = site.link if site.link.endswith("/") else site.link + "/"
    return ChannelMeta(
        id=channel_id,
        title=title,
        description=description or site.description or title,
        link=base,
        language=site.language,
        feed_base=base,
        hub=settings.publish.websub_hub,
        timezone=site.timezone,
    )


@dataclass(frozen=True, slots=True)
class Selection:
    """What the feeds and the index page show: each channel's items (filtered, newest
    first, cut to its limit) and the latest items of all."""

    channels: Mapping[str, Sequence[StoredArticle]]
    latest: Sequence[StoredArticle]


def latest_items(items: Iterable[StoredArticle]) -> list[StoredArticle]:
    """The index page's items: the ``INDEX_LATEST`` newest."""
    by_recency = sorted(items, key=lambda s: (s.article.date or s.first_seen, s.seq))
    return by_recency[::-1][:INDEX_LATEST]


def select_all(settings: Settings, items: Sequence[StoredArticle]) -> Selection:
    """The selection over every kept item, in memory."""
    return Selection(
        {channel.id: select(channel, items) for channel in settings.channels},
        latest_items(items),
    )


def render_site(
    settings: Settings,
    articles: Sequence[StoredArticle] | Selection,
    now: datetime,
    states: Mapping[str, SourceState] | None = None,
    notice: str | None = None,
    cache: RenderCache | None = None,
) -> dict[str, bytes]:
    """Every file of ``output.dir`` by relative path; pure, so the server can hold it too.
    ``articles`` is every kept item, or what a ``Selection`` already chose of them.
    ``notice`` is shown on the index page (a refused edit of feeds.yaml). A channel whose
    description and items are those ``cache`` holds files for is not rendered again."""
    chosen = articles if isinstance(articles, Selection) else select_all(settings, articles)
    files: dict[str, bytes] = {}
    for channel in settings.channels:
        items = chosen.channels.get(channel.id, [])
        meta = channel_meta(settings, channel.id, channel.title, channel.description)
        files.update(_channel_files(meta, items, now, cache))
    files[STYLESHEET_PATH] = FEED_XSL  # what RSS and Atom ask browsers to render them with
    latest = list(chosen.latest)
    # Dated by what they show, not by the clock, so an unchanged site is byte-identical.
    newest = latest[0].article.date or latest[0].first_seen if latest else None
    updated = newest or _modified(settings.path) or now
    files["opml.xml"] = render_opml(settings.site.title, settings.sources, updated)
    # The index page also shows each source's health: it was last updated by the newest
    # story or the latest fetch, whichever came last (a publish with neither new writes
    # the same page).
    fetched = max((s.last_fetch for s in (states or {}).values() if s.last_fetch), default=None)
    page_updated = max((t for t in (newest, fetched) if t), default=updated)
    files["index.html"] = render_index(
        settings.site.title,
        settings.site.description,
        settings.channels,
        latest,
        ZoneInfo(settings.site.timezone),
        page_updated,
        settings.site.language,
        [
            (source, (states or {}).get(source.id) or SourceState(source.id))
            for source in settings.sources
        ]
        if states is not None
        else (),
        notice=notice,
    )
    return files


def _channel_files(
    meta: ChannelMeta,
    items: Sequence[StoredArticle],
    now: datetime,
    cache: RenderCache | None,
) -> dict[str, bytes]:
    signature = channel_signature(meta, items) if cache is not None else ""
    kept = cache.get(meta.id, signature) if cache is not None else None
    if kept is not None:
        return kept
    files = {
        f"feeds/{meta.id}.{extension}": render(meta, items, now)
        for extension, render in FEED_FORMATS.items()
    }
    if cache is not None:
        cache.put(meta.id, signature, files)
    return files


def _modified(path: Path | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC) if path else None
    except OSError:
        return None


def publish(
    settings: Settings,
    articles: Sequence[StoredArticle] | Selection,
    now: datetime,
    states: Mapping[str, SourceState] | None = None,
    notice: str | None = None,
    posts: PostsToWrite | None = None,
    stories: int | None = None,
) -> PublishResult:
    """Write the feeds, OPML, index page (with the sources' health when ``states`` is
    given) and posts. ``articles`` is every kept item (whose posts are all written unless
    ``posts`` says otherwise), or a ``Selection`` with ``posts`` and the number of
    ``stories`` given apart."""
    out = settings.output.dir
    cache = DiskRenderCache(out)
    files = render_site(settings, articles, now, states, notice, cache)
    remove_stale_temporaries(out, *sorted({(out / relative).parent for relative in files} - {out}))
    changed = tuple(
        relative
        for relative, data in files.items()
        if relative not in cache.reused and write_atomic(out / relative, data)
    )
    write_atomic(out / RECORD_NAME, cache.record([channel.id for channel in settings.channels]))
    if posts is None:
        assert not isinstance(articles, Selection), "a Selection needs its posts given"
        posts = PostsToWrite(articles)
    if stories is None:
        stories = len(posts.items)
    written = removed = 0
    if settings.output.posts_dir is not None:
        written, removed = write_posts(
            settings.output.posts_dir, posts, ZoneInfo(settings.site.timezone)
        )
    return PublishResult(changed, len(settings.channels), written, removed, files, stories)
