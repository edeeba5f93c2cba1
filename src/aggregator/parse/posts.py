"""A local directory of front-matter posts (a ``file://`` source), read as a feed.

Each ``*.md`` / ``*.markdown`` / ``*.html`` file directly in the directory is YAML front
matter between two ``---`` lines, then an HTML body: the format ``publish`` writes and
Jekyll reads. Front matter is plain text (``title``, ``excerpt``), escaped into HTML like
every ``Entry`` string. One bad file is skipped with a warning; it never hides the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from aggregator.model import Entry, ParsedFeed
from aggregator.parse.base import (
    ParseFailure,
    as_utc,
    escape_text,
    parse_datetime,
    unique_strings,
    web_url,
)

#: Files at or over this size are skipped unread.
MAX_POST_BYTES = 10 * 1024 * 1024

_POST_SUFFIXES = frozenset({".md", ".markdown", ".html"})
_JEKYLL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
# The C loader when libyaml is there; both are safe (plain data, no Python objects).
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Unreadable(Exception):
    """A post file that cannot be read as front matter + body; the message says why."""


def parse_posts_dir(path: Path) -> ParsedFeed | ParseFailure:
    """Every post file directly in ``path`` as one entry, in file-name order."""
    try:
        files = sorted(
            child
            for child in path.iterdir()
            if child.suffix.lower() in _POST_SUFFIXES and child.is_file()
        )
    except OSError as e:
        return ParseFailure(f"cannot read the posts directory {path}: {e.strerror or e}")
    entries: list[Entry] = []
    warnings: list[str] = []
    for file in files:
        try:
            entries.append(_read_post(file))
        except _Unreadable as e:
            warnings.append(f"{file.name} skipped: {e}")
    return ParsedFeed(
        title=path.name or None,
        link=None,
        base_url=path.absolute().as_uri() + "/",
        entries=tuple(entries),
        warnings=tuple(warnings),
    )


def _read_post(file: Path) -> Entry:
    try:
        with file.open("rb") as stream:
            # Read one byte past the cap rather than trusting stat(): files can grow.
            raw = stream.read(MAX_POST_BYTES)
            if stream.read(1):
                raise _Unreadable(f"larger than the limit of {MAX_POST_BYTES:,} bytes")
    except OSError as e:
        raise _Unreadable(f"cannot be read: {e.strerror or e}") from e
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as e:
        raise _Unreadable(f"not valid UTF-8 at byte {e.start}") from e
    meta, body = _split(text)
    return _to_entry(meta, body, file.name)


def _split(text: str) -> tuple[Mapping[str, Any], str]:
    """Front matter (as a mapping) and body of one post."""
    first, newline, rest = text.partition("\n")
    if first.rstrip() != "---" or not newline:
        raise _Unreadable("no front matter (the first line is not ---)")
    fence = _FENCE.search(rest)
    if fence is None:
        raise _Unreadable("the front matter has no closing --- line")
    try:
        meta = yaml.load(rest[: fence.start()], Loader=_Loader)  # a safe loader, see _Loader
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" at line {where.line + 2}" if where is not None else ""
        raise _Unreadable(f"invalid YAML front matter{line}: {getattr(e, 'problem', e)}") from e
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise _Unreadable("the front matter is not a mapping of keys to values")
    # After the closing fence's own line end, one blank line conventionally separates the
    # front matter from the body; it is not content.
    body = rest[fence.end() :].removeprefix("\n").removeprefix("\n").rstrip()
    return meta, body


def _to_entry(meta: Mapping[str, Any], body: str, file_name: str) -> Entry:
    link = web_url(None, meta.get("canonical_url")) or web_url(None, meta.get("link"))
    image = web_url(None, meta.get("image"))
    return Entry(
        guid=_scalar(meta.get("id")) or file_name,
        link=link,
        title=escape_text(_scalar(meta.get("title"))) or "",
        summary=escape_text(_scalar(meta.get("excerpt"))),
        content=body or None,
        published=_date_of(meta.get("date"), file_name),
        author=_author_of(meta.get("author")),
        tags=unique_strings([*_strings(meta.get("tags")), *_strings(meta.get("categories"))]),
        images=(image,) if image else (),
    )


def _date_of(value: object, file_name: str) -> datetime | None:
    if isinstance(value, date):  # YAML timestamps: datetime (naive or aware) or date
        try:
            return as_utc(value)
        except (ValueError, OverflowError):
            return None
    if (parsed := parse_datetime(value)) is not None:
        return parsed
    # Jekyll's convention: the file name starts with the post's date.
    if match := _JEKYLL_DATE.match(file_name):
        return parse_datetime(match.group(1))
    return None


def _author_of(value: object) -> str | None:
    # Some themes write ``author: {name: ..., url: ...}``.
    if isinstance(value, dict):
        value = value.get("name")
    return _scalar(value)


def _strings(value: object) -> list[str]:
    """A list of strings or one string (YAML authors write both) as a list."""
    if isinstance(value, list):
        return [text for v in value if (text := _scalar(v))]
    text = _scalar(value)
    return [text] if text else []


def _scalar(value: object) -> str | None:
    """A YAML scalar as text: ids and titles are sometimes numbers or dates."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None
