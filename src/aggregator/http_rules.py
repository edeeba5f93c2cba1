"""HTTP semantics of the published site, as pure functions: which file a request path
names, each file's Content-Type and Cache-Control, which content-coding to send, and
whether a conditional request is answered with 304.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aggregator.feed_style import XML_MEDIA_TYPE
from aggregator.syndication import FEED_MEDIA_TYPES

INDEX = "index.html"
OPML = "opml.xml"
#: Seconds a client or cache may reuse a published file without asking again.
MAX_AGE = 60
#: Content-codings we precompute, in order of preference when equally acceptable.
CODINGS = ("br", "gzip")


def media_type(path: str) -> str:
    """The Content-Type of a published file, by its place and extension."""
    if path == OPML:
        return "text/x-opml; charset=utf-8"
    extension = path.rpartition(".")[2] if "." in path else ""
    if path.startswith("feeds/") and extension in FEED_MEDIA_TYPES:
        return FEED_MEDIA_TYPES[extension]
    return {
        "html": "text/html; charset=utf-8",
        "xml": "application/xml; charset=utf-8",
        "xsl": XML_MEDIA_TYPE,
        "json": "application/json",
        "txt": "text/plain; charset=utf-8",
    }.get(extension, "application/octet-stream")


def cache_control(path: str) -> str:
    if path.endswith(".html"):
        return f"max-age={MAX_AGE}"
    return f"public, max-age={MAX_AGE}"


def site_key(path: str) -> str | None:
    """The map key a request path names, or None when it cannot name one.

    ``path`` is the request's path percent-decoded exactly once (ASGI's ``scope["path"]``);
    nothing is decoded again, so ``%252e`` stays ``%2e`` and matches no key. Anything that
    looks like an escape (``..`` or ``.`` segments, empty segments, backslashes, NUL, a
    second leading slash) is refused outright, before the exact-key lookup that would
    refuse it anyway.
    """
    if not path.startswith("/"):
        return None
    key = path[1:] or INDEX
    if "\x00" in key or "\\" in key:
        return None
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        return None
    return key


def choose_coding(accept_encoding: str | None, available: Mapping[str, object]) -> str | None:
    """The content-coding to send (``br`` or ``gzip``), or None for the body as it is.

    A compressed coding is chosen whenever the client accepts it (q > 0, by name or by
    ``*``), the higher q first and brotli on a tie; identity wins only when the client
    names it with a strictly higher q. No header means identity.
    """
    if not accept_encoding or not available:
        return None
    qualities: dict[str, float] = {}
    for element in accept_encoding.split(","):
        name, *parameters = (part.strip() for part in element.split(";"))
        name = name.lower()
        if not name:
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if name == "x-gzip":
            name = "gzip"
        qualities[name] = max(quality, qualities.get(name, 0.0))
    star = qualities.get("*", 0.0)
    best: str | None = None
    best_quality = 0.0
    for coding in CODINGS:
        if coding not in available:
            continue
        quality = qualities.get(coding, star)
        if quality > best_quality:
            best, best_quality = coding, quality
    if best is not None and qualities.get("identity", 0.0) > best_quality:
        return None
    return best


def none_match(header: str, etag: str) -> bool:
    """Whether an If-None-Match value matches ``etag`` (weak comparison, or ``*``)."""
    opaque = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False


def not_modified_since(header: str, last_modified: datetime) -> bool:
    """Whether an If-Modified-Since value is at or after ``last_modified``; an invalid
    date never is."""
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified <= since
