"""What every feed parser shares: the failure value, the parser protocol, and the small
conversions (text to HTML, URLs, dates, tags) that keep the parsers' outputs alike."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from aggregator.model import ParsedFeed


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A document that yielded nothing usable. A value, never raised: it is recorded on the
    source like a failed fetch."""

    #: Plain language, e.g. "not a feed: got an HTML page".
    reason: str


class FeedParser(Protocol):
    """A parser for one kind of document, as registered by media type."""

    def __call__(
        self, body: bytes, *, url: str, content_type: str | None
    ) -> ParsedFeed | ParseFailure: ...


#: Only these schemes may reach an entry's links and images: a feed must not be able to
#: smuggle ``javascript:`` or ``data:`` URLs (or local ``file:`` paths) into our output.
_WEB_SCHEMES = frozenset({"http", "https"})

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# Jekyll writes "2024-01-02 10:00:00 +0900": a space before the offset ISO 8601 refuses.
_SPACED_OFFSET = re.compile(r"(?<=\d)\s+(?=(?:[+-]\d{2}:?\d{2}|Z)$)")


def web_url(base: str | None, ref: object) -> str | None:
    """``ref`` made absolute against ``base``, or None when it is not an http(s) URL."""
    if not isinstance(ref, str) or not ref.strip():
        return None
    absolute = urljoin(base, ref.strip()) if base else ref.strip()
    try:
        parts = urlsplit(absolute)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.netloc:
        return None
    return absolute


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs, so every ``Entry`` body is HTML whatever its origin."""
    paragraphs = [p.strip() for p in _PARAGRAPH_BREAK.split(text.strip())]
    return "\n".join(
        "<p>" + html.escape(p, quote=False).replace("\n", "<br>") + "</p>" for p in paragraphs if p
    )


def escape_text(text: str | None) -> str | None:
    """A plain-text field (a JSON Feed summary, a post's excerpt) as HTML: the normalizer
    strips tags and decodes entities, which then gives the text back unchanged."""
    return None if text is None else html.escape(text, quote=False)


def as_utc(value: datetime | date) -> datetime:
    """An aware UTC datetime; naive times and bare dates are taken to be UTC."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_datetime(text: object) -> datetime | None:
    """An RFC 3339 / ISO 8601 timestamp (or date) as aware UTC; None when unreadable."""
    if not isinstance(text, str) or not text.strip():
        return None
    cleaned = _SPACED_OFFSET.sub("", text.strip().upper())
    try:
        return as_utc(datetime.fromisoformat(cleaned))
    except (ValueError, OverflowError):
        return None


def unique_strings(values: Iterable[object]) -> tuple[str, ...]:
    """Stripped, non-empty strings, first occurrence kept, order kept."""
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and (text := value.strip()):
            seen.setdefault(text, None)
    return tuple(seen)
