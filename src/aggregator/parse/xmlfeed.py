"""RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 documents, read by feedparser, mapped to ``Entry``.

Before feedparser sees a document, its encoding is decided by ``encoding.decide`` and the
document handed over in UTF-8 (feedparser's own detection, RFC 3023 and a fixed list of
fallbacks, only reads what that cannot decide). The document is also screened for entity
declarations, as it arrived and as it is handed over: feedparser's own DOCTYPE scrubbing is a
line-oriented regex and expat's defences vary by version, so we refuse any internal DTD
subset that declares entities (XXE, billion laughs) outright.
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import logging
import re
import time
import xml.sax
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import feedparser

from aggregator.model import Entry, FeedHints, ParsedFeed
from aggregator.parse.base import (
    ParseFailure,
    text_to_html,
    unique_strings,
    web_url,
)
from aggregator.parse.encoding import decide, declared_encoding, http_charset

log = logging.getLogger(__name__)

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# The prologue: whitespace, processing instructions and comments before a DOCTYPE or the
# root element.
_PROLOGUE_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
# A DOCTYPE up to the end of its external id; quoted strings may hide a ">" or "[".
_DOCTYPE_HEAD = re.compile(rb"<!DOCTYPE(?:[^>\[\"']|\"[^\"]*\"|'[^']*')*", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_:]")
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_UTF8_XML = "application/xml; charset=utf-8"
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)

# Polling hints feedparser does not read whole (it keeps only the last <hour> / <day>).
_MENTIONS_SKIP = re.compile(rb"skip(?:hours|days)", re.IGNORECASE)
_HIDDEN_START = re.compile(rb"<!\[CDATA\[|<!--")
_HIDDEN_END = {b"<![CDATA[": b"]]>", b"<!--": b"-->"}
_HOUR = re.compile(rb"<(?:[\w.-]+:)?hour\b[^>]*>\s*(\d{1,2})\s*<", re.IGNORECASE)
_DAY = re.compile(rb"<(?:[\w.-]+:)?day\b[^>]*>\s*([A-Za-z]+)\s*<", re.IGNORECASE)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: sy:updatePeriod values (RSS 1.0 syndication module).
_SY_PERIODS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30),
    "yearly": timedelta(days=365),
}
#: A <ttl> above this many minutes (ten years) is taken as this.
_MAX_TTL_MINUTES = 10 * 365 * 24 * 60

# Byte-order marks and "<?" in the wide encodings, as XML 1.0 appendix F sniffs them.
_WIDE_ENCODINGS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # EBCDIC "<?xm"
)


def parse_xml_feed(body: bytes, *, url: str, content_type: str | None) -> ParsedFeed | ParseFailure:
    """Parse an RSS or Atom document; see ``aggregator.parse.parse_feed``."""
    if declares_entities(body, content_type):
        return ParseFailure("entity declarations are not allowed")
    decoded = decide(body, content_type)
    if decoded.encoding is not None:
        # feedparser reads exactly what is screened here: the UTF-8 text, labelled so.
        body, content_type = decoded.body, _UTF8_XML
        if declares_entities(body, content_type):
            return ParseFailure("entity declarations are not allowed")
    headers = {
        # feedparser resolves relative URIs against Content-Location (and xml:base).
        "content-location": url,
        # Undecided: only a charset in the header should override the document's own
        # declaration (RFC 7303). Without one, feedparser would apply RFC 3023's defaults
        # (US-ASCII for text/*, ISO-8859-1 with no header); application/xml gives the
        # declaration, the BOM, else UTF-8.
        "content-type": content_type if http_charset(content_type) else "application/xml",
    }
    try:
        # A BytesIO, never bare bytes: feedparser takes a string it is given for a URL or
        # a file name, and would open it.
        result = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            resolve_relative_uris=True,
            sanitize_html=False,  # our own sanitizer runs in normalize
        )
        parsed = _to_parsed_feed(result, body, url)
    except Exception as e:  # feedparser bugs on hostile input must not stop the source
        log.warning("feedparser failed on %s", url, exc_info=True)
        return ParseFailure(f"the feed could not be parsed: {type(e).__name__}: {e}")
    if isinstance(parsed, ParsedFeed) and decoded.warnings:
        return dataclasses.replace(parsed, warnings=decoded.warnings + parsed.warnings)
    return parsed


def declares_entities(body: bytes, content_type: str | None = None) -> bool:
    """Whether the document's DOCTYPE has an internal subset that declares entities.

    Checked in every encoding feedparser might decode the document with: an encoding that
    is not ASCII-compatible (UTF-7, say, from the header or the declaration) could spell
    ``<!ENTITY`` in bytes that never look like it.
    """
    view = _ascii_view(body)
    if _entities_in(view):
        return True
    for name in {http_charset(content_type), declared_encoding(view)}:
        if not name:
            continue
        try:
            decoded = body.decode(name, errors="replace")
        except (LookupError, ValueError):  # feedparser cannot use an unknown codec either
            continue
        if _entities_in(decoded.lstrip("\ufeff").encode("utf-8")):
            return True
    return False


def _entities_in(text: bytes) -> bool:
    """The screen on an ASCII-compatible view. Conservative where it must be: if the
    prologue holds anything unexpected, any ``<!ENTITY`` in the whole document counts."""
    pos = 0
    while item := _PROLOGUE_ITEM.match(text, pos):
        pos = item.end()
    if doctype := _DOCTYPE_HEAD.match(text, pos):
        # No "[" after the external id: no internal subset, so nothing can be declared.
        if text[doctype.end() : doctype.end() + 1] != b"[":
            return False
        # The subset's end is hard to find safely (entity values may hold "]>"), so any
        # declaration after its start counts; CDATA that mentions one is a rare casualty.
        return _ENTITY_DECL.search(text, doctype.end()) is not None
    if _ROOT_START.match(text, pos):
        return False
    return _ENTITY_DECL.search(text) is not None


def _ascii_view(body: bytes) -> bytes:
    """The document in an ASCII-compatible encoding, so markup can be found by bytes."""
    for mark, encoding in _WIDE_ENCODINGS:
        if body.startswith(mark):
            return body.decode(encoding, errors="replace").lstrip("\ufeff").encode("utf-8")
    return body.removeprefix(codecs.BOM_UTF8)


def looks_like_html(body: bytes) -> bool:
    """Whether the document starts like an HTML page (a login wall, an error page)."""
    return _HTML_START.search(_ascii_view(body[:4096])) is not None


def _to_parsed_feed(result: Mapping[str, Any], body: bytes, url: str) -> ParsedFeed | ParseFailure:
    feed = dict(result.get("feed", {}))
    raw_entries = result.get("entries", [])
    title = feed.get("title") or None
    problem = result.get("bozo_exception") if result.get("bozo") else None
    # feedparser prepends an XML declaration line to documents without one.
    line_shift = 0 if _ascii_view(body).lstrip().startswith(b"<?xml") else 1
    if not raw_entries and not title:
        if looks_like_html(body):
            return ParseFailure("not a feed: got an HTML page")
        if problem is not None and not isinstance(problem, feedparser.NonXMLContentType):
            return ParseFailure(_describe_fatal(problem, line_shift))
        if not result.get("version"):
            return ParseFailure("not a feed: no RSS or Atom document found")
    warning = _describe_warning(problem, line_shift)
    entries = tuple(_to_entry(raw, url) for raw in raw_entries)
    return ParsedFeed(
        title=title,
        link=web_url(url, feed.get("link")),
        base_url=url,
        entries=entries,
        warnings=(warning,) if warning else (),
        hints=feed_hints(feed, body),
    )


def feed_hints(feed: Mapping[str, Any], body: bytes) -> FeedHints:
    """The channel's polling hints: ``<ttl>`` and ``sy:updatePeriod`` / ``sy:updateFrequency``
    as feedparser read them; ``<skipHours>`` / ``<skipDays>`` from the document itself
    (outside CDATA and comments; the first of each). Unreadable values are left out."""
    ttl = _whole_number(feed.get("ttl"))
    period_name = str(feed.get("sy_updateperiod") or "").strip().lower()
    frequency = _whole_number(feed.get("sy_updatefrequency"))
    update_period = None
    if period_name or frequency:
        period = _SY_PERIODS.get(period_name or "daily")
        if period is not None and frequency != 0:
            update_period = period / (frequency or 1)
    hours: set[int] = set()
    days: set[int] = set()
    view = _ascii_view(body)
    if _MENTIONS_SKIP.search(view):
        visible = _without_hidden(view)
        if (listed := _element_content(visible, b"skipHours")) is not None:
            hours = {int(h) % 24 for h in _HOUR.findall(listed) if int(h) <= 24}
        if (listed := _element_content(visible, b"skipDays")) is not None:
            names = (d.decode("ascii").lower() for d in _DAY.findall(listed))
            days = {_WEEKDAYS.index(n) for n in names if n in _WEEKDAYS}
    return FeedHints(
        ttl=timedelta(minutes=min(ttl, _MAX_TTL_MINUTES)) if ttl else None,
        update_period=update_period,
        skip_hours=tuple(sorted(hours)),
        skip_days=tuple(sorted(days)),
    )


def _without_hidden(text: bytes) -> bytes:
    """``text`` without CDATA sections and comments (an unclosed one hides the rest), in
    one pass: a hostile document cannot make this quadratic."""
    kept, pos = [], 0
    while found := _HIDDEN_START.search(text, pos):
        kept.append(text[pos : found.start()])
        end = text.find(_HIDDEN_END[found[0]], found.end())
        if end < 0:
            return b"".join(kept)
        pos = end + len(_HIDDEN_END[found[0]])
    kept.append(text[pos:])
    return b"".join(kept)


def _element_content(text: bytes, name: bytes) -> bytes | None:
    """What is between the first ``<name …>`` (any prefix, any case) and the next
    ``</name>``; None without both."""
    opening = re.search(rb"<(?:[\w.-]+:)?" + name + rb"\b[^>]*>", text, re.IGNORECASE)
    if opening is None:
        return None
    closing = re.compile(rb"</(?:[\w.-]+:)?" + name + rb"\s*>", re.IGNORECASE)
    found = closing.search(text, opening.end())
    return None if found is None else text[opening.end() : found.start()]


def _whole_number(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


def _describe_fatal(problem: object, line_shift: int) -> str:
    if isinstance(problem, xml.sax.SAXParseException):
        return f"not well-formed XML at {_where(problem, line_shift)}"
    if isinstance(problem, feedparser.CharacterEncodingUnknown):
        return f"unknown character encoding: {problem}"
    return f"not a readable feed: {problem}"


def _describe_warning(problem: object, line_shift: int) -> str | None:
    # A feed served as text/html or text/plain is common and harmless; not worth a warning.
    if problem is None or isinstance(problem, feedparser.NonXMLContentType):
        return None
    if isinstance(problem, feedparser.CharacterEncodingOverride):
        return f"character encoding: {problem}"
    if isinstance(problem, xml.sax.SAXParseException):
        return f"ill-formed XML, read what could be read: {_where(problem, line_shift)}"
    return f"ill-formed XML, read what could be read: {problem}"


def _where(problem: xml.sax.SAXParseException, line_shift: int) -> str:
    line = max(1, (problem.getLineNumber() or 1) - line_shift)
    return f"line {line}, column {problem.getColumnNumber()}: {problem.getMessage()}"


def _to_entry(item: Mapping[str, Any], url: str) -> Entry:
    # A plain dict: FeedParserDict maps a missing "updated_parsed" to "published_parsed"
    # (with a DeprecationWarning), and ``updated`` must be the entry's own.
    raw = dict(item)
    # xml:base may differ per entry; feedparser records it on each detail.
    base = _entry_base(raw) or url
    published = raw.get("published_parsed") or raw.get("updated_parsed")
    return Entry(
        guid=raw.get("id") or None,
        link=web_url(base, raw.get("link")),
        # A plain-text title is escaped like every other Entry string, so "the <blink> tag"
        # keeps its brackets when normalize strips markup.
        title=_title_of(raw),
        summary=_html_of(raw.get("summary_detail")) or raw.get("summary") or None,
        content=_content_of(raw.get("content") or ()),
        published=_struct_to_utc(published),
        updated=_struct_to_utc(raw.get("updated_parsed")),
        author=raw.get("author") or None,
        tags=unique_strings(tag.get("term") for tag in raw.get("tags") or ()),
        images=_images_of(raw, base),
    )


def _title_of(raw: Mapping[str, Any]) -> str:
    # A plain-text title's angle brackets are text, not tags: escaped, "the <blink> tag"
    # keeps them when normalize strips markup. Other characters read the same either way.
    title = str(raw.get("title") or "")
    detail = raw.get("title_detail") or {}
    if detail.get("type") in _HTML_TYPES:
        return title
    return title.replace("<", "&lt;").replace(">", "&gt;")


def _entry_base(raw: Mapping[str, Any]) -> str | None:
    for key in ("title_detail", "summary_detail"):
        detail = raw.get(key)
        if detail and detail.get("base"):
            return str(detail["base"])
    return None


def _html_of(detail: Mapping[str, Any] | None) -> str | None:
    """A text construct's value as HTML (plain-text values are escaped into paragraphs)."""
    if not detail or not detail.get("value"):
        return None
    value = str(detail["value"])
    return value if detail.get("type") in _HTML_TYPES else text_to_html(value)


def _content_of(contents: Iterable[Mapping[str, Any]]) -> str | None:
    contents = [c for c in contents if c.get("value")]
    preferred = [c for c in contents if c.get("type") in _HTML_TYPES]
    return _html_of((preferred or contents)[0]) if contents else None


def _struct_to_utc(value: time.struct_time | None) -> datetime | None:
    # feedparser normalizes every date to a UTC struct_time.
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _images_of(raw: Mapping[str, Any], base: str) -> tuple[str, ...]:
    """Image URLs in the rule order: media:content, media:thumbnail, enclosure images."""
    found: list[object] = []
    for media in raw.get("media_content") or ():
        kind = str(media.get("type") or "")
        if (
            media.get("medium") == "image"
            or kind.startswith("image/")
            or _has_image_suffix(media.get("url"))
        ):
            found.append(media.get("url"))
    found.extend(thumb.get("url") for thumb in raw.get("media_thumbnail") or ())
    found.extend(
        link.get("href")
        for link in raw.get("links") or ()
        if link.get("rel") == "enclosure" and str(link.get("type") or "").startswith("image/")
    )
    return unique_strings(web_url(base, ref) for ref in found)


def _has_image_suffix(ref: object) -> bool:
    if not isinstance(ref, str):
        return False
    try:
        path = urlsplit(ref).path
    except ValueError:
        return False
    return path.lower().endswith(_IMAGE_SUFFIXES)
