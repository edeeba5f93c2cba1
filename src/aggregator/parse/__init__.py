"""Bytes in, entries out: turn a fetched document (or a local posts directory) into a
``ParsedFeed`` of raw ``Entry`` values, or a ``ParseFailure`` saying why not.

Parsers are registered by media type and chosen by sniffing the body first (servers
mislabel feeds all the time); feedparser is the fallback for everything else:

    parse_feed ─┬─ "{" / application/feed+json / application/json ─▶ jsonfeed.parse_json_feed
                └─ anything else (RSS 0.9x/1.0/2.0, Atom 0.3/1.0) ──▶ xmlfeed.parse_xml_feed
    parse_posts_dir ─▶ posts.parse_posts_dir   (file:// sources)

Each parser first decides its document's character encoding with ``encoding.decide``
(byte-order mark, declared labels read as browsers read them and checked against the bytes,
UTF-8, a CP949 guess for undeclared Korean) and parses UTF-8 from then on; a label the bytes
contradict is a warning on the ``ParsedFeed``.

Failures are values, never exceptions. Entry strings are HTML as the source gave them
(unsanitized; fields a format defines as plain text are escaped into HTML); links and
images are absolute http(s) URLs or left out.
"""

from __future__ import annotations

import codecs

from aggregator.model import ParsedFeed
from aggregator.parse.base import FeedParser, ParseFailure
from aggregator.parse.jsonfeed import parse_json_feed
from aggregator.parse.posts import MAX_POST_BYTES, parse_posts_dir
from aggregator.parse.xmlfeed import parse_xml_feed

__all__ = [
    "MAX_POST_BYTES",
    "FeedParser",
    "ParseFailure",
    "choose_parser",
    "parse_feed",
    "parse_posts_dir",
]

#: Parsers by media type (lower case, no parameters). The fallback reads everything else.
PARSERS_BY_MEDIA_TYPE: dict[str, FeedParser] = {
    "application/feed+json": parse_json_feed,
    "application/json": parse_json_feed,
}
FALLBACK_PARSER: FeedParser = parse_xml_feed

_LEADING_JUNK = b" \t\r\n" + codecs.BOM_UTF8


def parse_feed(
    body: bytes, *, url: str, content_type: str | None = None
) -> ParsedFeed | ParseFailure:
    """Parse one fetched document.

    ``url`` is the final fetch URL (relative links are resolved against it);
    ``content_type`` is the HTTP Content-Type header, charset included, when there was one.
    """
    if not body.strip():
        return ParseFailure("empty body")
    return choose_parser(body, content_type)(body, url=url, content_type=content_type)


def choose_parser(body: bytes, content_type: str | None) -> FeedParser:
    """The parser for a document: what its first byte says, else its media type."""
    first = body.lstrip(_LEADING_JUNK)[:1]
    if first == b"{":
        return parse_json_feed
    # Markup under a JSON label is still markup: trust the body over the header.
    if first == b"<":
        return parse_xml_feed
    return PARSERS_BY_MEDIA_TYPE.get(_media_type(content_type), FALLBACK_PARSER)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
