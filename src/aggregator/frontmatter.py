"""Reading and writing posts: YAML front matter, then the HTML body.

The layout is the reference article's: ``---``, the front matter in the reference's key
order and scalar styles, ``---``, a blank line, the body, two blank lines. Values go
through a real YAML emitter, so any title (``: ``, ``#``, quotes, ``---``, newlines,
control characters) survives the round trip. Post file names follow Jekyll's
``YYYY-MM-DD-<slug>.md``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

import yaml

from aggregator.errors import FrontMatterError
from aggregator.model import Article, Mention, StoredArticle
from aggregator.sanitize import inert_markdown, restored_markdown

_FENCE = "---\n"
_AFTER_BODY = "\n\n\n"
#: Characters YAML treats as line breaks or cannot keep in block or plain scalars; a value
#: holding one is written double-quoted, where they are escaped.
_NEEDS_ESCAPES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\r]")

# libyaml's loader is several times faster; the pure one reads the same documents.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Folded(str):
    """A string to emit as a folded block scalar (``>``), as the reference does."""


class _SingleQuoted(str):
    """A string to emit single-quoted, as the reference does for ``image``."""


class _PostDumper(yaml.SafeDumper):
    """SafeDumper that indents list items under their key (``  - News``)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str, style: str | None) -> yaml.ScalarNode:
    if _NEEDS_ESCAPES.search(value):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=style)


_PostDumper.add_representer(_Folded, lambda d, v: _represent_str(d, v, ">"))
_PostDumper.add_representer(_SingleQuoted, lambda d, v: _represent_str(d, v, "'"))
_PostDumper.add_representer(str, lambda d, v: _represent_str(d, v, None))


def _folded(text: str) -> str:
    # A folded scalar with "clip" chomping ends in exactly one newline; the empty string
    # has no folded form worth writing.
    return _Folded(text + "\n") if text else ""


def dumps(article: Article) -> str:
    """The post file's text for ``article``."""
    data = front_matter_values(article)
    front = direct_front_matter(data)
    if front is None:
        front = emitted_front_matter(data)
    return f"{_FENCE}{front}{_FENCE}\n{article.body}{_AFTER_BODY}"


def emitted_front_matter(data: Mapping[str, Any]) -> str:
    """The front matter as the YAML emitter writes it: the reference for every post."""
    return yaml.dump(data, Dumper=_PostDumper, allow_unicode=True, sort_keys=False, width=1 << 30)


def front_matter_values(article: Article) -> dict[str, Any]:
    """The front matter's keys in the reference's order, with the styles they take."""
    # Themes run these through Markdown (`{{ page.excerpt | markdownify }}`, a Markdown
    # `feature_text`): nothing in them may become a link; character references print the
    # same where a theme prints the text as HTML.
    data: dict[str, Any] = {
        "title": inert_markdown(article.title),
        "categories": list(article.categories),
        "excerpt": _folded(inert_markdown(article.excerpt)),
        "feature_text": _folded(inert_markdown(article.feature_text)),
    }
    if article.image is not None:
        data["image"] = _SingleQuoted(article.image)
    optional: dict[str, Any] = {
        "date": article.date,
        "source": article.source,
        "source_url": article.source_url,
        "canonical_url": article.canonical_url,
        "id": article.id,
        "author": None if article.author is None else inert_markdown(article.author),
        "tags": list(article.tags) or None,
        "also_reported_by": [{"source": m.source, "link": m.link} for m in article.also_reported_by]
        or None,
    }
    data.update((key, value) for key, value in optional.items() if value is not None)
    if _holds_liquid(article):
        # Jekyll runs a post's text through Liquid: feed text with "{% raise %}" would stop
        # the site's build, and "{{ site.secret }}" print its configuration.
        data["render_with_liquid"] = False
    return data


_LIQUID_MARKERS = ("{{", "{%")


def _holds_liquid(article: Article) -> bool:
    texts = (
        article.body,
        article.title,
        article.excerpt,
        article.feature_text,
        article.source or "",
        article.author or "",
        *article.categories,
        *article.tags,
    )
    return any(marker in text for text in texts for marker in _LIQUID_MARKERS)


# -- the direct writer ---------------------------------------------------------------------
#
# PyYAML's emitter is pure Python and walks every character several times: most of the
# cost of writing a post. The usual front matter (one-line plain titles and URLs, folded
# excerpts, a date, lists of plain words) is written here directly, in exactly the bytes
# the emitter writes; any value outside those safe shapes sends the whole post to the
# emitter. ``tests/test_frontmatter.py`` holds the two to each other.

#: Characters the emitter writes as they are in every style used here: printable ASCII and
#: the printable Unicode planes (``allow_unicode``), less the line breaks and the BOM.
_PRINTABLE = re.compile(
    "[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010fffe]*"
)
#: First characters that make a plain scalar an indicator, or need a look at what follows.
_PLAIN_UNSAFE_START = frozenset("#,[]{}&*!|>'\"%@`?:-. ")
_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
#: The tag a plain scalar reads back as: "2024", "true" and "null" are not plain text.
_implicit_tag = yaml.resolver.Resolver().resolve


def _plain(value: object) -> str | None:
    """``value`` as the emitter writes a plain scalar, or None when it would not."""
    if (
        type(value) is not str
        or not value
        or value[0] in _PLAIN_UNSAFE_START
        or value[-1] in " :"
        or ": " in value
        or " #" in value
        or not _PRINTABLE.fullmatch(value)
        or _implicit_tag(yaml.ScalarNode, value, (True, False)) != _STR_TAG
    ):
        return None
    return value


def _single_quoted(value: str) -> str | None:
    if not value or value[0] == " " or value[-1] == " " or not _PRINTABLE.fullmatch(value):
        return None
    return "'" + value.replace("'", "''") + "'"


def _folded_block(value: str) -> str | None:
    """A ``>`` block of lines with no surrounding spaces, as indented lines with a blank
    line for each line break (the form a folded scalar keeps breaks in)."""
    if not value.endswith("\n"):
        return None
    lines = value[:-1].split("\n")
    for line in lines:
        if not line or line[0] == " " or line[-1] == " " or not _PRINTABLE.fullmatch(line):
            return None
    return ">\n" + "\n\n".join("  " + line for line in lines) + "\n"


def _scalar(value: object) -> str | None:
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is _Folded:
        return _folded_block(value)
    if type(value) is _SingleQuoted:
        return _single_quoted(value)
    if type(value) is datetime:
        text = value.isoformat(" ")
        if _implicit_tag(yaml.ScalarNode, text, (True, False)) != _TIMESTAMP_TAG:
            return None
        return text
    return _plain(value)


def direct_front_matter(data: Mapping[str, Any]) -> str | None:
    """The front matter as ``yaml.dump`` with ``_PostDumper`` writes it, or None where this
    writer is not sure to match it."""
    out: list[str] = []
    for key, value in data.items():
        if isinstance(value, list):
            if not value:
                out.append(f"{key}: []\n")
                continue
            out.append(f"{key}:\n")
            for item in value:
                if isinstance(item, dict):
                    first = True
                    for inner_key, inner_value in item.items():
                        text = _scalar(inner_value)
                        if text is None or _plain(inner_key) is None:
                            return None
                        out.append(f"{'  - ' if first else '    '}{inner_key}: {text}\n")
                        first = False
                    if first:  # an empty mapping
                        return None
                    continue
                text = _plain(item)
                if text is None:
                    return None
                out.append(f"  - {text}\n")
            continue
        text = _scalar(value)
        if text is None:
            return None
        out.append(f"{key}: {text}" if text.startswith(">") else f"{key}: {text}\n")
    return "".join(out)


def loads(text: str, *, name: str = "<post>") -> Article:
    """Read a post file's text back into an ``Article``.

    Accepts posts written by other tools too: unknown keys are ignored, missing ones take
    empty values. Raises ``FrontMatterError`` naming ``name`` when there is no front matter.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not text.startswith(_FENCE):
        raise FrontMatterError(f"{name}: does not start with a '---' front matter line")
    end = text.find("\n" + _FENCE, len(_FENCE) - 1)
    if end < 0:
        raise FrontMatterError(f"{name}: front matter is not closed by a '---' line")
    try:
        data = yaml.load(text[len(_FENCE) : end + 1], Loader=_Loader) or {}
    except yaml.YAMLError as error:
        raise FrontMatterError(f"{name}: front matter is not valid YAML: {error}") from error
    if not isinstance(data, Mapping):
        raise FrontMatterError(f"{name}: front matter is not a mapping of keys to values")
    body = text[end + 1 + len(_FENCE) :].removeprefix("\n")
    body = body[: -len(_AFTER_BODY)] if body.endswith(_AFTER_BODY) else body.rstrip("\n")
    return Article(
        title=restored_markdown(_text(data.get("title"))),
        categories=_strings(data.get("categories")),
        excerpt=restored_markdown(_unfolded(data.get("excerpt"))),
        feature_text=restored_markdown(_unfolded(data.get("feature_text"))),
        image=_optional_text(data.get("image")),
        body=body,
        date=_datetime(data.get("date")),
        source=_optional_text(data.get("source")),
        source_url=_optional_text(data.get("source_url")),
        canonical_url=_optional_text(data.get("canonical_url")),
        id=_optional_text(data.get("id")),
        author=_restored(_optional_text(data.get("author"))),
        tags=_strings(data.get("tags")),
        also_reported_by=tuple(
            Mention(source=_text(m.get("source")), link=_text(m.get("link")))
            for m in data.get("also_reported_by") or ()
            if isinstance(m, Mapping)
        ),
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def _restored(text: str | None) -> str | None:
    return None if text is None else restored_markdown(text)


def _unfolded(value: object) -> str:
    return _text(value).removesuffix("\n")


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(str(item) for item in value if item is not None)
    return (str(value),)


def _datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


# -- file names ------------------------------------------------------------------------

#: Longest slug in UTF-8 bytes: with the date, a suffix and ``.md`` a name stays far below
#: the 255-byte limit of common file systems (Hangul takes 3 bytes a letter).
SLUG_MAX_BYTES = 120


def slugify(title: str, max_bytes: int = SLUG_MAX_BYTES) -> str:
    """A file-name-safe slug that keeps letters of every script (Hangul included)."""
    text = unicodedata.normalize("NFKC", title).lower()
    kept = "".join(ch if unicodedata.category(ch)[0] in "LNM" else "-" for ch in text)
    slug = re.sub(r"-{2,}", "-", kept).strip("-")
    encoded = slug.encode()
    if len(encoded) > max_bytes:
        slug = encoded[:max_bytes].decode(errors="ignore").rstrip("-")
    return slug


def post_filename(article: Article, tz: tzinfo, fallback: datetime, suffix: str = "") -> str:
    """``YYYY-MM-DD-<slug>.md``, the date in the site's time zone."""
    when = (article.date or fallback).astimezone(tz)
    slug = slugify(article.title) or (article.id or "post")
    return f"{when:%Y-%m-%d}-{slug}{suffix}.md"


def assign_post_filenames(articles: Iterable[StoredArticle], tz: tzinfo) -> dict[str, str]:
    """Article id → post file name for all ``articles``, with no two names alike.

    Articles are taken in the order they were first stored, so an article keeps the plain
    name it was given first and a later one with the same date and slug gets a stable
    suffix from its id.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for stored in sorted(articles, key=lambda s: s.seq):
        article = stored.article
        article_id = article.id or stored.guid
        name = post_filename(article, tz, stored.first_seen)
        if name.casefold() in taken:
            name = post_filename(article, tz, stored.first_seen, suffix=f"-{article_id[:8]}")
        taken.add(name.casefold())
        names[article_id] = name
    return names
