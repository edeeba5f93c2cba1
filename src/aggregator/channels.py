"""Which stored articles a channel shows, and in what order.

A channel (``model.Channel``) is a filter over stored articles: the topic (any of its
categories *or* any of its keywords, so ``categories: [AI]`` with ``keywords: [AI]`` shows
what is filed under AI and what talks about it) within any of its sources. An empty list is
no filter. The result is newest first and cut to the channel's limit. Pure: values in,
values out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from .model import Channel, StoredArticle, story_id

_ASCII_ALNUM = re.compile(r"[a-z0-9]")


def select(channel: Channel, articles: Iterable[StoredArticle]) -> list[StoredArticle]:
    """The articles ``channel`` publishes: filtered, newest first, at most ``channel.limit``.

    Ordering: by ``article.date`` descending (undated articles last), ties broken by store
    ``seq`` descending (the later insert first), then by story id ascending so the order is
    total and the same on every run.
    """
    shows = matcher(channel)
    chosen = [stored for stored in articles if shows(stored)]
    # Two stable sorts: id ascending first, so it only decides what date and seq leave tied.
    chosen.sort(key=_story_key)
    chosen.sort(key=_recency_key, reverse=True)
    return chosen[: max(channel.limit, 0)]


def matcher(channel: Channel) -> Callable[[StoredArticle], bool]:
    """Whether ``channel``'s filter lets an article through (its limit aside)."""
    sources = frozenset(channel.sources)
    categories = frozenset(c.casefold() for c in channel.categories)
    keywords = keyword_pattern(channel.keywords)

    def shows(stored: StoredArticle) -> bool:
        return (not sources or stored.source_id in sources) and (
            (not categories and keywords is None)
            or (bool(categories) and _has_category(stored, categories))
            or (keywords is not None and _has_keyword(stored, keywords))
        )

    return shows


def _has_category(stored: StoredArticle, wanted: frozenset[str]) -> bool:
    return any(c.casefold() in wanted for c in stored.article.categories)


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for any of ``keywords``. A Latin-letter edge must be a word edge ("AI"
    is not in "Rain" or "Aim"), while Hangul matches inside words, where particles attach
    ("인공지능" is in "인공지능이")."""
    parts = []
    for keyword in keywords:
        word = keyword.casefold().strip()
        if not word:
            continue
        before = r"(?<![a-z0-9])" if _ASCII_ALNUM.match(word[0]) else ""
        # A plural or possessive ending still counts: "robot" is in "robots", "AI's".
        after = r"(?:'?s|es)?(?![a-z0-9])" if _ASCII_ALNUM.match(word[-1]) else ""
        parts.append(before + re.escape(word) + after)
    return re.compile("|".join(parts)) if parts else None


def _has_keyword(stored: StoredArticle, pattern: re.Pattern[str]) -> bool:
    # casefold, not lower: matches "STRASSE" with "straße"; Hangul is unaffected.
    return bool(pattern.search(f"{stored.article.title}\n{stored.article.excerpt}".casefold()))


def _story_key(stored: StoredArticle) -> str:
    return stored.article.id or story_id(stored.source_id, stored.guid)


def _recency_key(stored: StoredArticle) -> tuple[bool, float, int]:
    date = stored.article.date
    if date is None:
        return (False, 0.0, stored.seq)
    return (True, as_utc(date).timestamp(), stored.seq)


def as_utc(moment: datetime) -> datetime:
    """``moment`` with a time zone: naive datetimes are taken to be UTC (the store's
    convention), aware ones are kept as they are."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
