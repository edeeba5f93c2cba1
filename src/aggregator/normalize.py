"""One parsed entry made into the front-matter model (``model.Article``).

Pure: the entry, its source and ``now`` in, an ``Article`` out. Titles and excerpts become
plain text, the body is sanitized HTML wrapped in the source's header and footer
templates, the image follows the rule media:content → media:thumbnail → enclosure →
first ``<img>`` → the source's default image, and the id is stable for the entry.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime, timedelta

from aggregator.model import Article, Entry, Source, story_id
from aggregator.sanitize import first_image, inert_markdown, plain_text, sanitize_html
from aggregator.urls import absolute_url, canonical_url, encoded_url

DEFAULT_EXCERPT_LENGTH = 300
#: A date this far ahead of ``now`` is a publisher's clock or time-zone mistake.
FUTURE_TOLERANCE = timedelta(minutes=10)
#: A sentence ends at . ! ? and their full-width forms, maybe followed by closing quotes.
_SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’」』)\]]*(?=\s|$)")
_UNTITLED_LENGTH = 80


def entry_guid(entry: Entry, base_url: str | None) -> str:
    """The entry's own id; else its canonical link; else a hash of title and date."""
    if entry.guid and entry.guid.strip():
        return entry.guid.strip()
    link = canonical_url(entry.link, base_url)
    if link:
        return link
    when = entry.published or entry.updated
    material = f"{entry.title}\x00{when.isoformat() if when else ''}\x00{entry.summary or ''}"
    return "sha256:" + hashlib.sha256(material.encode()).hexdigest()[:32]


def cut_text(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters, at the last sentence end if that
    keeps at least half, else at the last word boundary (marked with an ellipsis)."""
    if len(text) <= limit:
        return text
    window = text[: limit + 1]
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= limit]
    if sentence_ends and sentence_ends[-1] >= limit // 2:
        return window[: sentence_ends[-1]].rstrip()
    space = window.rfind(" ", 0, limit)
    cut = window[:space] if space >= limit // 2 else window[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def _published(entry: Entry, now: datetime) -> datetime:
    when = entry.published or entry.updated or now
    return now if when > now + FUTURE_TOLERANCE else when


def _render(template: str, fields: dict[str, str]) -> str:
    return template.format_map(fields) if template else ""


def normalize(
    entry: Entry,
    source: Source,
    *,
    base_url: str,
    now: datetime,
    excerpt_length: int = DEFAULT_EXCERPT_LENGTH,
) -> Article:
    """The front-matter article for ``entry`` as published by ``source``."""
    # Posts are Markdown files to Jekyll: the body must mean the same to kramdown.
    content = inert_markdown(sanitize_html(entry.content or entry.summary or "", base_url))
    # Plain-text fields hold no markup, not even decoded from entities (plain_text); nor
    # does the source's name, which an imported OPML file may have supplied.
    source_name = plain_text(source.name) or source.id
    excerpt = cut_text(plain_text(entry.summary or "") or plain_text(content), excerpt_length)
    title = plain_text(entry.title) or cut_text(excerpt, _UNTITLED_LENGTH)
    link = canonical_url(entry.link, base_url)
    link = encoded_url(link) if link else link
    candidates = [absolute_url(url, base_url) for url in entry.images]
    image = next((url for url in candidates if url), None) or first_image(content)
    # Front matter carries URLs as text a theme prints into attributes.
    image = encoded_url(image) if image else source.default_image

    plain = {
        "source_name": source_name,
        "home": source.home,
        "excerpt": excerpt,
        "image": image or "",
        "title": title,
        "link": link or source.home,
    }
    escaped = {key: html.escape(value, quote=True) for key, value in plain.items()}
    templates = source.templates
    # A template that shows the image is left out when there is no image to show.
    header = "" if "{image}" in templates.header and not image else templates.header
    footer = "" if "{image}" in templates.footer and not image else templates.footer
    body = "\n\n".join(part for part in (_render(header, escaped), content) if part)
    if footer:
        body = f"{body}\n{_render(footer, escaped)}" if body else _render(footer, escaped)

    guid = entry_guid(entry, base_url)
    return Article(
        title=title,
        categories=source.categories,
        excerpt=excerpt,
        feature_text=_render(templates.feature_text, plain),
        image=image,
        body=body,
        date=_published(entry, now),
        source=source_name,
        source_url=source.home,
        canonical_url=link,
        id=story_id(source.id, guid),
        author=plain_text(entry.author or "") or None,
        tags=tuple(dict.fromkeys(t for t in (plain_text(tag) for tag in entry.tags) if t)),
    )


def is_wanted(article: Article, source: Source) -> bool:
    """Whether ``article`` passes the source's include/exclude regexes (title + excerpt)."""
    text = f"{article.title}\n{article.excerpt}"
    if source.include and not any(re.search(p, text) for p in source.include):
        return False
    return not any(re.search(p, text) for p in source.exclude)
