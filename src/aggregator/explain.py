"""What ``dedup explain`` says of a story: each member, and the rule and match that
brought it in (the command prints it; the demo shows it too)."""

from __future__ import annotations

from aggregator import pipeline
from aggregator.config import Settings
from aggregator.model import StoredArticle
from aggregator.store import Store
from aggregator.stories import kept_items


def explain_lines(settings: Settings, store: Store, article_id: str) -> list[str]:
    """The report on the story of ``article_id`` (an article's or a story's id); nothing
    when no stored article or story has it."""
    found = store.article(article_id)
    members = store.story(found.story_id if found else article_id)
    if not members:
        return []
    names = {source.id: source.name for source in settings.sources}
    story = members[0].story_id
    kept = kept_items(members, pipeline.source_rank(settings))[0]
    lines = [f"story {story}: {len(members)} articles; kept: {kept.source_id} {kept.guid}"]
    for member in members:
        marker = "*" if found and member.article.id == found.article.id else " "
        lines.append(
            f"{marker} {member.article.id}  {names.get(member.source_id, member.source_id)}"
        )
        lines.append(f"    {member.article.title}")
        lines.append(f"    {fold_reason(member)}")
    return lines


def fold_reason(member: StoredArticle) -> str:
    rule, match = member.fold_rule, member.fold_match
    if rule is None:
        return "founded the story"
    if rule == "similarity":
        return f"joined by similarity {member.fold_score:.2f} to {match}{_evidence(member)}"
    if rule == "same_event":
        # The signals say the event score (and, for articles placed before there was one,
        # the words' cosine the rule was held to).
        return f"joined as the same event to {match}{_evidence(member)}"
    if rule == "merged":
        return f"its story was merged in: {match} told both{_evidence(member)}"
    if rule == "split":
        return f"split out of story {match}; stays on its own"
    return f"joined by the same {rule.replace('_', ' ')} as {match}"


def _evidence(member: StoredArticle) -> str:
    return f"\n      signals: {member.fold_evidence}" if member.fold_evidence else ""
