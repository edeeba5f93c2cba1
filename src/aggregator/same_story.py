"""Whether a new article tells the story of a stored one: each signal, and the rule that
decides. Pure: the store finds the candidates and how rare each word is.

Two rules fold, and one veto keeps apart:

- ``similarity``: the texts share at least ``threshold`` of their character n-grams
  (``dedup.similarity`` of the sketches), or ``COPY_SIMILARITY`` when published further
  apart than ``event_window``. Copies, trimmed headlines and rewrites of one telling.
- ``same_event``: reports written apart from each other share few n-grams (0.08–0.27,
  as much as two earthquakes on different days) but the same rare content words, names,
  places and figures, on the same day. They fold when published within ``event_window``
  of each other, their content words (headline and lead, weighted by rarity among the
  window's articles) have a cosine of at least ``words_threshold``, and they share at
  least ``STRONG_EVIDENCE`` rare names or figures.
- Veto: figures that disagree (``dedup.figures_agree``) — a market close, a match or a
  count on another day, or a follow-up with new numbers — keep two texts apart under
  either rule.

Every signal is symmetric, so a pair's verdict does not depend on which arrived first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.dedup import figure_values, figures_agree, similarity
from aggregator.words import Words

#: Rare names and figures two reports must both state to be one event by their words.
STRONG_EVIDENCE = 2
#: Texts published further apart than the event window are one story by n-grams only as
#: copies: a follow-up restates the facts it follows in their words (0.27 measured).
COPY_SIMILARITY = 0.5
#: A name counts as rare when at most this many of the window's articles hold it.
RARE_NAME_ARTICLES = 5


@dataclass(frozen=True, slots=True)
class Text:
    """What is compared of one article."""

    article_id: str
    signature: tuple[int, ...]
    figures: frozenset[str]
    words: Words
    date: datetime | None


@dataclass(frozen=True, slots=True)
class Rules:
    threshold: float
    words_threshold: float
    event_window: timedelta


@dataclass(frozen=True, slots=True)
class Signals:
    """Each signal's value for one pair."""

    #: Estimated share of character n-grams (Jaccard).
    sketch: float
    #: Cosine of the content words weighted by rarity.
    words: float
    #: Rare names both state, and figure values both state.
    names: tuple[str, ...]
    figures: int
    #: Hours between the two publications (None: one is undated).
    hours: float | None
    figures_agree: bool

    def describe(self) -> str:
        hours = "undated" if self.hours is None else f"{self.hours:.1f} h apart"
        names = ", ".join(self.names[:4]) + (" …" if len(self.names) > 4 else "")
        return (
            f"n-grams {self.sketch:.2f}, words {self.words:.2f}, "
            f"rare names {len(self.names)}{f' ({names})' if names else ''}, "
            f"shared figures {self.figures}, {hours}, "
            f"figures {'agree' if self.figures_agree else 'disagree'}"
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """A candidate the new article folds with: by which rule, its score, every signal."""

    article_id: str
    rule: str
    score: float
    signals: Signals


#: How rare a word is among the window's articles: how many hold it (at most the count
#: the store looks up, ``Rarity.limit``).
@dataclass(frozen=True, slots=True)
class Rarity:
    holders: Mapping[str, int]
    limit: int

    def weight(self, word: str) -> float:
        """Inverse document frequency, ``ln((limit + 0.5) / (holders + 0.5))``: about 4
        for a word no other article holds, 0 for one at the limit, which says nothing."""
        held = min(self.holders.get(word, 0) + 1, self.limit)  # + 1: the new article
        return math.log((self.limit + 0.5) / (held + 0.5))

    def is_rare(self, word: str) -> bool:
        return self.holders.get(word, 0) + 1 <= RARE_NAME_ARTICLES


def signals(new: Text, old: Text, rarity: Rarity) -> Signals:
    shared_names = sorted(
        word
        for word in new.words.names & old.words.names
        if rarity.is_rare(word) and rarity.weight(word) > 0
    )
    hours = None
    if new.date is not None and old.date is not None:
        hours = abs((new.date - old.date).total_seconds()) / 3600
    return Signals(
        sketch=similarity(new.signature, old.signature),
        words=words_cosine(new.words, old.words, rarity.weight),
        names=tuple(shared_names),
        figures=len(figure_values(new.figures) & figure_values(old.figures)),
        hours=hours,
        figures_agree=figures_agree(new.figures, old.figures),
    )


def words_cosine(a: Words, b: Words, weight: Callable[[str], float]) -> float:
    """Cosine of two texts' content words, each weighted ``(1 + ln count) × rarity``."""
    va = {word: (1 + math.log(count)) * weight(word) for word, count in a.counts}
    vb = {word: (1 + math.log(count)) * weight(word) for word, count in b.counts}
    dot = sum(va[word] * vb[word] for word in va.keys() & vb.keys())
    if not dot:
        return 0.0
    norm = math.sqrt(sum(v * v for v in va.values())) * math.sqrt(sum(v * v for v in vb.values()))
    return dot / norm if norm else 0.0


def verdict(new: Text, old: Text, rarity: Rarity, rules: Rules) -> Verdict | None:
    """The rule by which ``new`` and ``old`` are one story, or None."""
    found = signals(new, old, rarity)
    if not found.figures_agree:
        return None
    same_day = found.hours is not None and found.hours <= rules.event_window.total_seconds() / 3600
    if found.sketch >= (rules.threshold if same_day else max(rules.threshold, COPY_SIMILARITY)):
        return Verdict(old.article_id, "similarity", round(found.sketch, 4), found)
    if (
        same_day
        and found.words >= rules.words_threshold
        and len(found.names) + found.figures >= STRONG_EVIDENCE
    ):
        return Verdict(old.article_id, "same_event", round(found.words, 4), found)
    return None


def best_verdict(
    new: Text, candidates: Iterable[Text], rarity: Rarity, rules: Rules
) -> Verdict | None:
    """The candidate ``new`` folds with: by n-gram similarity where any does (the most
    similar), else by words (the highest cosine); ties go to the smaller id."""
    found = [v for v in (verdict(new, c, rarity, rules) for c in candidates) if v is not None]
    if not found:
        return None
    return min(found, key=lambda v: (v.rule != "similarity", -v.score, v.article_id))
