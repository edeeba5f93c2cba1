"""JSON Feed 1.0 and 1.1 documents (https://jsonfeed.org/version/1.1), mapped to ``Entry``.

The spec's plain-text fields (``title``, ``summary``, ``content_text``) are escaped into
HTML, so that every ``Entry`` string is HTML whatever format it came from.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import Any

from aggregator.model import Entry, ParsedFeed
from aggregator.parse.base import (
    ParseFailure,
    escape_text,
    parse_datetime,
    text_to_html,
    unique_strings,
    web_url,
)
from aggregator.parse.encoding import decide

_VERSION_PREFIX = "https://jsonfeed.org/version/"


def parse_json_feed(
    body: bytes, *, url: str, content_type: str | None
) -> ParsedFeed | ParseFailure:
    """Parse a JSON Feed; see ``aggregator.parse.parse_feed``."""
    # The spec says UTF-8; a byte-order mark or Korean text in CP949 is read all the same.
    # A charset in the header is not a JSON Feed's to have, and is ignored.
    decoded = decide(body, None)
    if decoded.encoding is None:
        return ParseFailure(_not_utf8(body))
    text = decoded.body.decode("utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        return ParseFailure(f"not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}")
    except RecursionError:
        return ParseFailure("not a JSON Feed: nested too deeply")
    if not isinstance(document, dict):
        return ParseFailure("not a JSON Feed: the top level is not an object")
    version = document.get("version")
    if not isinstance(version, str) or not version.startswith(_VERSION_PREFIX):
        return ParseFailure("not a JSON Feed: no https://jsonfeed.org/version/ version")

    base = _base_of(document, url)
    warnings = []
    if decoded.encoding != "utf-8":
        warnings.append(
            f"character encoding: a JSON Feed must be UTF-8; read as {decoded.encoding}"
        )
    items = document.get("items")
    if not isinstance(items, list):
        warnings.append("items is missing or not a list; no entries read")
        items = []
    feed_author = _author_of(document)
    entries: list[Entry] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            warnings.append(f"items[{index}] is not an object; skipped")
            continue
        entries.append(_to_entry(item, base, feed_author))
    return ParsedFeed(
        title=_text(document.get("title")),
        link=web_url(base, document.get("home_page_url")),
        base_url=base,
        entries=tuple(entries),
        warnings=tuple(warnings),
    )


def _not_utf8(body: bytes) -> str:
    try:
        body.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as e:
        return f"not valid UTF-8 at byte {e.start}"
    return "not valid UTF-8"  # not reached: decide() reads valid UTF-8


def _base_of(document: Mapping[str, Any], url: str) -> str:
    """The feed's own idea of where it lives, else where it was fetched from."""
    for key in ("feed_url", "home_page_url"):
        if candidate := web_url(url, document.get(key)):
            return candidate
    return url


def _to_entry(item: Mapping[str, Any], base: str, feed_author: str | None) -> Entry:
    content = _text(item.get("content_html"))
    if content is None and (plain := _text(item.get("content_text"))) is not None:
        content = text_to_html(plain)
    tags = item.get("tags")
    return Entry(
        guid=_id_of(item.get("id")),
        link=web_url(base, item.get("url")) or web_url(base, item.get("external_url")),
        title=escape_text(_text(item.get("title"))) or "",
        summary=escape_text(_text(item.get("summary"))),
        content=content,
        published=parse_datetime(item.get("date_published")),
        updated=parse_datetime(item.get("date_modified")),
        # Per the spec, an item without authors has the feed's.
        author=_author_of(item) or feed_author,
        tags=unique_strings(tags) if isinstance(tags, list) else (),
        images=_images_of(item, base),
    )


def _id_of(value: object) -> str | None:
    # 1.0 feeds in the wild use numbers; 1.1 says "should be a string" and to coerce.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return _text(value)


def _author_of(obj: Mapping[str, Any]) -> str | None:
    authors = obj.get("authors")  # 1.1
    candidates = authors if isinstance(authors, list) else []
    candidates = [*candidates, obj.get("author")]  # 1.0, deprecated in 1.1
    for author in candidates:
        if isinstance(author, dict) and (name := _text(author.get("name"))):
            return name
    return None


def _images_of(item: Mapping[str, Any], base: str) -> tuple[str, ...]:
    found: list[object] = [item.get("image"), item.get("banner_image")]
    attachments = item.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else ():
        if isinstance(attachment, dict) and str(attachment.get("mime_type", "")).startswith(
            "image/"
        ):
            found.append(attachment.get("url"))
    return unique_strings(web_url(base, ref) for ref in found)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
