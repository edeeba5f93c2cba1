"""Value types shared by every layer: what a source is, what a parser yields, what is stored.

Plain frozen dataclasses, standard library only. ``Entry`` is an item as a parser read it
from a feed (raw HTML, optional everything); ``Article`` is the front-matter model that
every entry is normalized into and that posts and channels are made from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Templates:
    """str.format-style templates of a source (fields: source_name, home, excerpt, image,
    title, link)."""

    #: Markdown shown by themes as the teaser; the reference's ``feature_text``.
    feature_text: str = "## {source_name}\n{excerpt}"
    #: HTML put before the body; empty for none.
    header: str = ""
    #: HTML put after the body; empty for none.
    footer: str = ""


@dataclass(frozen=True, slots=True)
class Source:
    """One outlet listed in feeds.yaml."""

    #: Stable key, ``[a-z0-9_-]+``; never reused for another outlet.
    id: str
    #: Feed URL: http(s) for RSS/Atom/JSON Feed, ``file://`` for a directory of posts.
    url: str
    #: Display name, used in templates and ``source`` / ``also_reported_by``.
    name: str
    #: The outlet's home page (absolute URL); defaults to the feed URL's origin.
    home: str
    categories: tuple[str, ...] = ()
    #: Polling interval.
    interval: timedelta = timedelta(minutes=15)
    default_image: str | None = None
    templates: Templates = field(default_factory=Templates)
    #: Regexes matched on title + excerpt; an entry must match one of ``include`` (if any)
    #: and none of ``exclude``.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: Keep at most this many entries per fetch (the newest); None for all.
    max_items: int | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A republished feed: a filter over stored articles."""

    id: str
    title: str
    description: str = ""
    #: Any of these categories; empty = no category filter.
    categories: tuple[str, ...] = ()
    #: Any of these words in title or excerpt (case-insensitive); empty = no filter.
    keywords: tuple[str, ...] = ()
    #: Any of these source ids; empty = all sources.
    sources: tuple[str, ...] = ()
    limit: int = 50


@dataclass(frozen=True, slots=True)
class Entry:
    """One item as a parser read it, before normalization. Strings are as found (HTML
    allowed); URLs may be relative to ``ParsedFeed.base_url``."""

    guid: str | None
    link: str | None
    title: str
    #: Summary / description HTML.
    summary: str | None = None
    #: Full content HTML (content:encoded, atom:content, JSON Feed content_html).
    content: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()
    #: Image URLs in rule order: media:content, media:thumbnail, enclosure images.
    images: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedHints:
    """What a feed document says about how often to poll it (RSS 2.0 ``<ttl>``,
    ``<skipHours>``, ``<skipDays>``; the syndication module's ``sy:updatePeriod`` and
    ``sy:updateFrequency``). Empty when the feed says nothing."""

    #: ``<ttl>``: how long the channel may be cached before it is read again.
    ttl: timedelta | None = None
    #: ``sy:updatePeriod`` divided by ``sy:updateFrequency`` (e.g. hourly / 2 = 30 minutes).
    update_period: timedelta | None = None
    #: ``<skipHours>``: hours of the day (0-23, UTC) during which the feed is not to be read.
    skip_hours: tuple[int, ...] = ()
    #: ``<skipDays>``: days (UTC) on which the feed is not to be read; Monday = 0.
    skip_days: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a parser made of one document."""

    title: str | None
    link: str | None
    #: Base for resolving relative URLs (the final fetch URL unless the feed says otherwise).
    base_url: str
    entries: tuple[Entry, ...]
    #: Non-fatal problems (ill-formed XML that still yielded entries, skipped items).
    warnings: tuple[str, ...] = ()
    #: The feed's own polling hints.
    hints: FeedHints = field(default_factory=FeedHints)


@dataclass(frozen=True, slots=True)
class Mention:
    """Another outlet that reported a story folded into a kept article."""

    source: str
    link: str


@dataclass(frozen=True, slots=True)
class Article:
    """The front-matter model: exactly what a post file holds (README, "What is published").

    The first six fields are the reference's keys, in the reference's order; the rest are
    written after them, and only when known.
    """

    title: str
    categories: tuple[str, ...]
    excerpt: str
    feature_text: str
    image: str | None
    body: str
    date: datetime | None = None
    #: Name of the outlet that published it.
    source: str | None = None
    #: The outlet's home page.
    source_url: str | None = None
    canonical_url: str | None = None
    #: Stable story id (see ``story_id``).
    id: str | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()
    also_reported_by: tuple[Mention, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as the store holds it, with where it came from."""

    source_id: str
    guid: str
    article: Article
    #: When this article was first stored (UTC); orders posts claiming a file name.
    first_seen: datetime
    #: Store change number; increases with every insert and update.
    seq: int = 0
    #: The story this article tells (see ``aggregator.stories``); empty when unknown.
    story_id: str = ""
    #: How it joined its story (canonical_url, content_hash, similarity, same_event,
    #: merged, merged_by_operator, split); None for the article that founded it.
    fold_rule: str | None = None
    #: The article it matched when it joined, and the rule's score: n-gram similarity,
    #: the event score for same_event (the content words' cosine for articles placed
    #: before there was one), for merged the score of the telling that bridged.
    fold_match: str | None = None
    fold_score: float | None = None
    #: Every signal's value when it joined by similarity or same_event.
    fold_evidence: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """What the reader (a language model, ``dedup.reader``) made of a fold of reports
    written apart: the article whose fold it is, the report it was read against (the one
    it joined; for the founder of a merged story, the one that told both), whether it
    read them as one event, and why."""

    article_id: str
    match_id: str
    #: None: the reader answered, but not in a form that could be read; the fold stands.
    same_event: bool | None
    reason: str
    #: The model that read it, as the endpoint named it in the configuration.
    model: str
    at: datetime


class FetchStatus(StrEnum):
    """How one fetch ended; stored on the source."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Validators:
    """Conditional-GET validators remembered from the last good response."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """The result of one HTTP (or file) fetch. Never an exception: failures are values."""

    status: FetchStatus
    url: str
    #: Final URL after redirects (base for relative links).
    final_url: str | None = None
    http_status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    validators: Validators = field(default_factory=Validators)
    #: Plain-language reason when ``status`` is ERROR.
    error: str | None = None
    #: Where a permanent redirect (301/308) said the feed now lives.
    permanent_redirect: str | None = None
    #: How long the server asked us to wait (``Retry-After`` on 429/503).
    retry_after: timedelta | None = None
    #: How long the answer stays fresh by ``Cache-Control: max-age`` (less ``Age``), on a
    #: 200 or a 304; None without one (``no-cache`` / ``no-store`` count as none).
    max_age: timedelta | None = None
    #: How long the answer stays fresh by ``Expires``, relative to the response's ``Date``
    #: (else to when it arrived); None without one. ``max_age`` wins when both are given.
    expires_in: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often a source publishes and asks to be polled, as learned from its last parsed
    document; stored on the source, so a 304 or an error is scheduled with it too."""

    #: The feed's own hints.
    hints: FeedHints = field(default_factory=FeedHints)
    #: Median gap between the publication dates of its recent entries; None when it had
    #: too few dated entries to tell.
    observed_gap: timedelta | None = None
    #: The newest publication date among its entries (never in the future).
    last_published: datetime | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    """A source's fetch state as stored between passes."""

    source_id: str
    validators: Validators = field(default_factory=Validators)
    last_fetch: datetime | None = None
    last_success: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None
    error_count: int = 0
    next_due: datetime | None = None
    #: Why ``next_due`` is when it is ("interval", "Retry-After", "backoff after 3 errors").
    next_reason: str | None = None
    #: HTTP status of the last answer, if there was one.
    http_status: int | None = None
    #: Where the last fetch was permanently redirected to, for the operator to decide.
    moved_to: str | None = None
    #: Why the source is no longer fetched (e.g. HTTP 410 Gone); None while it is active.
    disabled: str | None = None
    article_count: int = 0
    #: The feed's hints and observed publishing rate, from its last parsed document.
    cadence: Cadence = field(default_factory=Cadence)


def story_id(source_id: str, guid: str) -> str:
    """The stable id of an article: 16 hex digits derived from where it came from, so it is
    the same across restarts, re-fetches and machines."""
    digest = hashlib.sha256(f"{source_id}\x00{guid}".encode()).hexdigest()
    return digest[:16]
