"""One item per story: the article kept to tell it, and who else reported it.

Pure. The kept article of a story is its earliest published member; ties go to the source
listed first in feeds.yaml, then to the one stored first. The published item takes the
story's id (which never changes as members join or leave) and lists every other outlet in
``also_reported_by``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from aggregator.model import Mention, StoredArticle


def _story_of(stored: StoredArticle) -> str:
    return stored.story_id or stored.article.id or stored.guid


def kept_items(
    articles: Iterable[StoredArticle], source_rank: Mapping[str, int]
) -> list[StoredArticle]:
    """One ``StoredArticle`` per story, carrying the story's id and its other outlets."""
    groups: dict[str, list[StoredArticle]] = {}
    for stored in articles:
        groups.setdefault(_story_of(stored), []).append(stored)
    last = len(source_rank)

    def telling_order(stored: StoredArticle) -> tuple[datetime, int, int]:
        return (
            stored.article.date or stored.first_seen,
            source_rank.get(stored.source_id, last),
            stored.seq,
        )

    items = []
    for story, members in groups.items():
        members.sort(key=telling_order)
        kept, others = members[0], members[1:]
        mentions = dict.fromkeys(
            Mention(m.article.source or m.source_id, m.article.canonical_url or "")
            for m in others
            if m.source_id != kept.source_id
        )
        article = replace(kept.article, id=story, also_reported_by=tuple(mentions))
        items.append(
            replace(
                kept,
                article=article,
                story_id=story,
                # The founder's numbers: a story keeps its place (and post name) for ever.
                first_seen=min(m.first_seen for m in members),
                seq=min(m.seq for m in members),
            )
        )
    return items
