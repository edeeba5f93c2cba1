"""Rendering a channel's articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents.

Pure: a channel's metadata, its items (newest first, as ``channels.select`` returns them)
and the render time go in; UTF-8 bytes come out. RSS and Atom are built with feedgen,
which orders the required elements; JSON Feed with the standard json module. Every string
from a source passes ``clean_xml_text`` before it reaches a document, and only absolute
http(s) URLs are published, so hostile input cannot break well-formedness or smuggle in a
``javascript:`` link. Bodies are expected to be sanitized HTML already (normalize's job).

Output is deterministic for the same input: the feed's ``updated``/``lastBuildDate`` is the
newest item's date (``now`` only for an empty channel), which keeps ETags stable.

RSS and Atom documents carry an ``xml-stylesheet`` instruction pointing at ``feed.xsl``
(``feed_style``), so a browser shows a readable page. When the channel names a WebSub hub,
every format declares it: ``<link rel="hub">`` (``atom:link`` in RSS) beside the ``self``
link, and ``hubs`` in JSON Feed.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from .channels import as_utc
from .feed_style import with_stylesheet
from .model import StoredArticle, story_id
from .urls import without_credentials

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_NS = "http://www.w3.org/2005/Atom"

#: Characters XML 1.0 forbids: C0 controls but tab/newline/return, the noncharacters
#: U+FFFE/U+FFFF, and surrogates (only ever lone in a Python str; they cannot be encoded).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

#: Image media types by file extension; a fixed table rather than ``mimetypes``, whose
#: answers depend on the host's /etc/mime.types.
_IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
}

#: feedgen formats RSS dates by switching the process-wide locale to C and back; two renders
#: racing there could leave the wrong locale behind, so RSS rendering is serialized.
_RSS_LOCALE_LOCK = threading.Lock()

_UNTITLED = "(untitled)"
_TITLE_FROM_EXCERPT_CHARS = 80


@dataclass(frozen=True, slots=True)
class ChannelMeta:
    """What a feed document needs besides its items."""

    #: Channel id; the feeds live at ``<feed_base>feeds/<id>.<xml|atom|json>``.
    id: str
    title: str
    description: str
    #: The site's home page (absolute, ends with ``/``).
    link: str
    #: IETF language tag, e.g. ``ko``.
    language: str
    #: Absolute URL the published tree is served under, e.g. ``http://127.0.0.1:8080/``.
    feed_base: str
    generator: str = "aggregator"
    #: Absolute URL of the WebSub hub the feeds announce, or None.
    hub: str | None = None
    #: The site's IANA time zone: item dates are written in it, with its offset, so a
    #: feed opened in a browser (``feed.xsl`` shows the dates as written) reads in the
    #: site's time like every other page. None keeps each source's own offset.
    timezone: str | None = None


FeedRenderer = Callable[[ChannelMeta, Sequence[StoredArticle], datetime], bytes]


def clean_xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (lxml refuses them, readers
    reject documents containing them)."""
    return _XML_ILLEGAL.sub("", text)


def feed_url(meta: ChannelMeta, extension: str) -> str:
    """The absolute URL of the channel's feed document with the given file extension."""
    base = meta.feed_base if meta.feed_base.endswith("/") else meta.feed_base + "/"
    return f"{base}feeds/{meta.id}.{extension}"


# --- one article, prepared once for every format -------------------------------------------


@dataclass(frozen=True, slots=True)
class _Item:
    """An article with text cleaned, URLs checked and dates resolved."""

    id: str
    title: str
    link: str | None
    excerpt: str
    #: The body, or the excerpt as HTML when the body is empty.
    content_html: str
    published: datetime | None
    #: The article's date, else when it was first stored: Atom needs one, and it is stable.
    updated: datetime
    author: str | None
    source_name: str | None
    source_url: str | None
    categories: tuple[str, ...]
    image: str | None
    #: (outlet name, link) of each folded duplicate.
    mentions: tuple[tuple[str, str], ...]


def _prepare(stored: StoredArticle, timezone: str | None = None) -> _Item:
    article = stored.article
    excerpt = clean_xml_text(article.excerpt).strip()
    body = clean_xml_text(article.body).strip()
    zone = ZoneInfo(timezone) if timezone else None

    def shown(moment: datetime) -> datetime:
        return as_utc(moment).astimezone(zone) if zone else as_utc(moment)

    published = shown(article.date) if article.date else None
    first_seen = shown(stored.first_seen)
    mentions = tuple(
        (clean_xml_text(m.source), url)
        for m in article.also_reported_by
        if (url := _safe_url(m.link)) is not None
    )
    return _Item(
        id=clean_xml_text(article.id or story_id(stored.source_id, stored.guid)),
        title=_title(article.title, excerpt),
        link=_safe_url(article.canonical_url),
        excerpt=excerpt,
        content_html=body or (f"<p>{html.escape(excerpt)}</p>" if excerpt else ""),
        published=published,
        updated=published or first_seen,
        author=_text_or_none(article.author),
        source_name=_text_or_none(article.source),
        source_url=_safe_url(article.source_url),
        categories=tuple(c for c in (_one_line(x) for x in article.categories) if c),
        image=_safe_url(article.image),
        mentions=mentions,
    )


def _title(title: str, excerpt: str) -> str:
    title = _one_line(title)
    if title:
        return title
    excerpt = _one_line(excerpt)
    if not excerpt:
        return _UNTITLED
    if len(excerpt) <= _TITLE_FROM_EXCERPT_CHARS:
        return excerpt
    cut = excerpt[:_TITLE_FROM_EXCERPT_CHARS]
    # Cut at the last word boundary when there is one (Hangul text has spaces too).
    head = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return head.rstrip(" ,.;:") + "…"


def _one_line(text: str) -> str:
    return " ".join(clean_xml_text(text).split())


def _text_or_none(text: str | None) -> str | None:
    return (_one_line(text) or None) if text else None


def _safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None: feeds need absolute links, and
    anything else (``javascript:``, ``data:``, relative paths) is not published."""
    if not url:
        return None
    url = clean_xml_text(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return without_credentials(url)


def _image_type(url: str) -> str | None:
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return _IMAGE_TYPES.get(path[dot:]) if dot >= 0 else None


def _feed_updated(items: Sequence[_Item], now: datetime) -> datetime:
    return max((item.updated for item in items), default=as_utc(now))


# --- RSS 2.0 and Atom 1.0 (feedgen) ---------------------------------------------------------


def _channel_title(meta: ChannelMeta) -> str:
    return _one_line(meta.title) or meta.id


def _generator(meta: ChannelMeta, updated: datetime) -> FeedGenerator:
    """A FeedGenerator with the channel-level fields both XML formats share."""
    fg = FeedGenerator()
    fg.title(_channel_title(meta))
    # RSS requires a non-empty description; the title is a better stand-in than nothing.
    fg.description(clean_xml_text(meta.description).strip() or _channel_title(meta))
    fg.language(clean_xml_text(meta.language))
    fg.generator(clean_xml_text(meta.generator))
    fg.updated(updated)
    return fg


def _add_media(entry: FeedEntry, image: str) -> None:
    media: dict[str, Any] = {"url": image, "medium": "image"}
    if (kind := _image_type(image)) is not None:
        media["type"] = kind
    # group=None puts <media:content> straight in the item, not in a <media:group>.
    entry.media.content(media, group=None)


class _RssHub(BaseExtension):
    """Adds ``<atom:link rel="hub">`` after the channel's ``atom:link rel="self"`` (feedgen
    writes only the ``self`` one of the links it is given in RSS)."""

    def __init__(self) -> None:
        self.href: str | None = None

    def extend_rss(self, feed: etree._Element) -> etree._Element:
        channel = feed.find("channel")
        if self.href is None or channel is None:
            return feed
        hub = etree.Element(f"{{{ATOM_NS}}}link", href=self.href, rel="hub")
        self_link = channel.find(f"{{{ATOM_NS}}}link[@rel='self']")
        if self_link is not None:
            self_link.addnext(hub)
        else:
            channel.append(hub)
        return feed


def render_rss(meta: ChannelMeta, items: Sequence[StoredArticle], now: datetime) -> bytes:
    """The channel as an RSS 2.0 document (items in the order given)."""
    prepared = [_prepare(s, meta.timezone) for s in items]
    fg = _generator(meta, _feed_updated(prepared, now))
    fg.load_extension("dc", atom=False, rss=True)
    fg.load_extension("media", atom=False, rss=True)
    fg.register_extension("story", _StoryNamespace, _StoryEntry, atom=False, rss=True)
    fg.link(href=feed_url(meta, "xml"), rel="self", type="application/rss+xml")
    if hub := _safe_url(meta.hub):
        fg.register_extension("hub", _RssHub, BaseEntryExtension, atom=False, rss=True)
        fg.hub.href = hub
    # feedgen uses the last link added as the channel's <link>: the site, not the feed.
    fg.link(href=clean_xml_text(meta.link), rel="alternate")

    for item in prepared:
        entry = fg.add_entry(order="append")
        entry.title(item.title)
        if item.link:
            entry.link(href=item.link)
        entry.guid(channel_item_id(meta, "xml", item.id), permalink=False)
        entry.story.id = item.id
        # <description> is HTML by convention; the excerpt is plain text, so escape it.
        if item.excerpt:
            entry.description(html.escape(item.excerpt, quote=False))
        if item.content_html:
            entry.content(item.content_html)  # content:encoded next to a description
        if item.published:
            entry.published(item.published)
        if item.categories:
            entry.category([{"term": c} for c in item.categories])
        if item.author:
            entry.dc.dc_creator(item.author)
        if item.image:
            _add_media(entry, item.image)
        if item.source_name and item.source_url:
            entry.source(url=item.source_url, title=item.source_name)
    with _RSS_LOCALE_LOCK:
        document = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return with_stylesheet(document)


#: The namespace of ``<aggregator:story>``, the story's own id in an RSS or Atom item.
STORY_NS = "urn:aggregator:story"


def channel_item_id(meta: ChannelMeta, extension: str, story: str) -> str:
    """An item's id (RSS guid, Atom id, JSON Feed id) in one feed: a channel in one format
    (``all.xml``). Readers such as newsboat keep one item per id across every feed they
    follow: with the story id alone, a story in two subscribed channels (or in the RSS and
    the Atom copy of one) showed in only one of them. The story's own id goes beside it
    (``<aggregator:story>``, ``_aggregator.story``) for clients that fold stories across
    channels."""
    return f"urn:aggregator:{meta.id}.{extension}:{story}"


_ITEM_ID = re.compile(r"urn:aggregator:[a-z0-9_-]+\.[a-z]+:([0-9a-f]+)")


def story_of_item_id(text: str) -> str | None:
    """The story id in a ``channel_item_id``, or None when ``text`` is not one."""
    return match[1] if (match := _ITEM_ID.fullmatch(text)) else None


class _StoryNamespace(BaseExtension):
    def extend_ns(self) -> dict[str, str]:
        return {"aggregator": STORY_NS}


class _StoryEntry(BaseEntryExtension):
    """``<aggregator:story>`` in an RSS item or Atom entry: the story's own id."""

    def __init__(self) -> None:
        self.id: str | None = None

    def _extend(self, entry: etree._Element) -> etree._Element:
        if self.id:
            etree.SubElement(entry, f"{{{STORY_NS}}}story").text = self.id
        return entry

    def extend_rss(self, entry: etree._Element) -> etree._Element:
        return self._extend(entry)

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        return self._extend(entry)


class _AtomSourceEntry(BaseEntryExtension):
    """Gives an Atom entry's ``<source>`` the ``id`` and ``updated`` a source feed's
    metadata must carry (RFC 4287 4.2.11; feedgen writes only title and link, and the
    W3C validator warns on every entry): the outlet's address, and the entry's time as
    the newest known of that feed."""

    def __init__(self) -> None:
        self.id: str | None = None
        self.updated: datetime | None = None

    def identify(self, id: str, updated: datetime) -> None:
        self.id, self.updated = id, updated

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        source = entry.find("source")
        if source is not None and self.id and self.updated:
            etree.SubElement(source, "id").text = self.id
            etree.SubElement(source, "updated").text = self.updated.isoformat()
        return entry


class _AtomLinksEntry(BaseEntryExtension):
    """Writes an Atom entry's ``<link>`` elements with their attributes.

    feedgen 1.0's ``atom_entry`` drops every attribute of an entry link but ``href`` (it
    reads them from the new element instead of the link data), so a related link would
    become a second ``alternate`` one and make the entry invalid.
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def add(self, href: str, rel: str, **attributes: str) -> None:
        self.links.append({"href": href, "rel": rel, **attributes})

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for attributes in self.links:
            etree.SubElement(entry, "link", attributes)
        return entry


def render_atom(meta: ChannelMeta, items: Sequence[StoredArticle], now: datetime) -> bytes:
    """The channel as an Atom 1.0 document (entries in the order given)."""
    prepared = [_prepare(s, meta.timezone) for s in items]
    fg = _generator(meta, _feed_updated(prepared, now))
    fg.title(f"{_channel_title(meta)} (Atom)")
    fg.load_extension("media", atom=True, rss=False)
    fg.register_extension("links", BaseExtension, _AtomLinksEntry, atom=True, rss=False)
    fg.register_extension("origin", BaseExtension, _AtomSourceEntry, atom=True, rss=False)
    fg.register_extension("story", _StoryNamespace, _StoryEntry, atom=True, rss=False)
    fg.id(feed_url(meta, "atom"))
    if subtitle := clean_xml_text(meta.description).strip():
        fg.subtitle(subtitle)
    fg.link(href=feed_url(meta, "atom"), rel="self", type="application/atom+xml")
    if hub := _safe_url(meta.hub):
        fg.link(href=hub, rel="hub")
    fg.link(href=clean_xml_text(meta.link), rel="alternate", type="text/html")
    # A feed-level author makes every entry valid even when its own author is unknown.
    fg.author(name=_channel_title(meta), uri=clean_xml_text(meta.link))

    for item in prepared:
        entry = fg.add_entry(order="append")
        # A URN rather than the article URL: stable even when an outlet moves the story.
        entry.id(channel_item_id(meta, "atom", item.id))
        entry.story.id = item.id
        entry.title(item.title)
        entry.updated(item.updated)
        if item.published:
            entry.published(item.published)
        if item.link:
            entry.links.add(item.link, "alternate", type="text/html")
        for outlet, link in item.mentions:
            entry.links.add(link, "related", title=outlet)
        if name := item.author or item.source_name:
            entry.author(name=name)
        # Always present (possibly empty) so an entry without a link is still valid Atom.
        entry.content(item.content_html, type="html")
        if item.excerpt:
            entry.summary(item.excerpt)
        if item.categories:
            entry.category([{"term": c} for c in item.categories])
        if item.image:
            _add_media(entry, item.image)
        if item.source_name and item.source_url:
            entry.source(url=item.source_url, title=item.source_name)
            entry.origin.identify(item.source_url, item.updated)
    return with_stylesheet(fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True))


# --- JSON Feed 1.1 ---------------------------------------------------------------------------


def render_json_feed(meta: ChannelMeta, items: Sequence[StoredArticle], now: datetime) -> bytes:
    """The channel as a JSON Feed 1.1 document (items in the order given).

    Besides the standard fields each item carries ``_aggregator``: ``source`` ({name, url},
    when known) and ``also_reported_by`` ([{source, link}], possibly empty).
    """
    del now  # JSON Feed has no feed-level date; kept for a uniform renderer signature
    title = _channel_title(meta)
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": f"{title} (JSON Feed)",
        "home_page_url": clean_xml_text(meta.link),
        "feed_url": feed_url(meta, "json"),
    }
    if hub := _safe_url(meta.hub):
        document["hubs"] = [{"type": "WebSub", "url": hub}]
    if description := clean_xml_text(meta.description).strip():
        document["description"] = description
    if meta.language:
        document["language"] = clean_xml_text(meta.language)
    document["authors"] = [{"name": title, "url": clean_xml_text(meta.link)}]
    document["items"] = [_json_item(meta, _prepare(s, meta.timezone)) for s in items]
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return text.encode("utf-8")


def _json_item(meta: ChannelMeta, item: _Item) -> dict[str, Any]:
    out: dict[str, Any] = {"id": channel_item_id(meta, "json", item.id)}
    if item.link:
        out["url"] = item.link
    out["title"] = item.title
    out["content_html"] = item.content_html
    if item.excerpt:
        out["summary"] = item.excerpt
    if item.image:
        out["image"] = item.image
    if item.published:
        out["date_published"] = item.published.isoformat()
    out["date_modified"] = item.updated.isoformat()
    if name := item.author or item.source_name:
        out["authors"] = [{"name": name}]
    if item.categories:
        out["tags"] = list(item.categories)
    extension: dict[str, Any] = {"story": item.id}
    if item.source_name:
        source = {"name": item.source_name}
        if item.source_url:
            source["url"] = item.source_url
        extension["source"] = source
    extension["also_reported_by"] = [{"source": s, "link": link} for s, link in item.mentions]
    out["_aggregator"] = extension
    return out


#: Feed file extension -> renderer, as published under ``feeds/<channel>.<extension>``.
FEED_FORMATS: dict[str, FeedRenderer] = {
    "xml": render_rss,
    "atom": render_atom,
    "json": render_json_feed,
}

#: Feed file extension -> the media type to serve it with.
FEED_MEDIA_TYPES: dict[str, str] = {
    "xml": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
