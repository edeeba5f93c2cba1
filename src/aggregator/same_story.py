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
  window's stories) have a cosine of at least ``words_threshold``, and they share at
  least ``STRONG_EVIDENCE`` things named by rare names (the words of one name, "Port
  Alder", count once, and so do a region's Korean places, 경북 and 김천) or telling
  figures (not a date, a time or a small count: every report of the day states those);
  figures alone are evidence only when most of them agree (a report of another event
  restates the day's other figures in passing).
  Published close together, naming the same ``NAMED_PHRASES`` people, companies or
  places in full ("Bayfront Cold Storage", "Naomi Petrakis") and quoting telling
  figures alike, half that cosine is enough.
- Named apart: two texts each naming ``NAMED_APART`` people, companies or places in
  full and sharing at most one of those names are one event by ``same_event`` only when
  their telling figures agree: what else they share is the place of the day.
- Veto: figures that disagree (``dedup.figures_agree``) — a market close, a match or a
  count on another day, or a follow-up with new numbers — keep two texts apart under
  either rule. Reports written apart quote different figures, so for ``same_event`` in
  English figures one gives and the other leaves out do not count against them, only
  quantities with values the other states nowhere; Korean counters (명, 건) do not say
  what they count, so Korean reports must still share ``KOREAN_SHARED`` of their
  figures (copies, half).

Every signal is symmetric, so a pair's verdict does not depend on which arrived first.
What a report says in a paragraph that turns to another event is not read for figures or
words (``dedup.other_events``, when the fingerprint is taken). An article that folds with
tellings of several stories merges them when ``may_merge`` allows (``store.story_merge``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.dedup import (
    figure_values,
    figures_agree,
    similarity,
    telling_values,
)
from aggregator.korean_places import is_korean_place
from aggregator.words import HANGUL, Words, decoded_words, shared_phrases

#: Things named by rare names and telling figures two reports must both state to be one
#: event by their words.
STRONG_EVIDENCE = 2
#: Reports of one event are published close together: within this many hours, rare
#: words or telling figures in common are enough; later the same day (a follow-up with
#: the facts restated, an afternoon edition), the telling figures must agree as well.
#: Outlets writing an event up apart publish 1–4 hours after one another; same-day
#: follow-ups with new facts come 4–10 hours later.
CLOSE_HOURS = 4.0
#: Texts published more than ``CLOSE_HOURS`` apart are one story by n-grams from this
#: similarity; further apart than the event window, only as copies (a follow-up restates
#: the facts it follows in their words: 0.25–0.27 measured).
LATER_SIMILARITY = 0.30
COPY_SIMILARITY = 0.5
#: Telling figures (``dedup.telling_values``) two reports must share, and the share of
#: the fewer stated, to be one event by figures (within ``CLOSE_HOURS``) or to count
#: as agreeing later the same day.
TELLING_SHARED = 2
TELLING_SHARE = 0.75
#: Telling figures in common enough, close together, without the words agreeing:
#: independent reports word an event differently ("blaze", "fire") but quote it alike.
TELLING_ALONE = 3
#: What their words must still reach then (when both texts have words): reports of one
#: event share some (0.11 the least measured), a report of another thing that happens to
#: state three of the same numbers none (a library survey beside a pile-up: 0.02).
TELLING_ALONE_WORDS = 0.05
#: Telling figures in common that are evidence however many more either report states:
#: a report of another event restates one or two of the day's other figures in passing,
#: not four (reports of one event quoting eight of fourteen alike had no evidence).
TELLING_EVIDENCE = 4
#: The share of ``words_threshold`` the words must reach when telling figures agree close
#: together.
TELLING_WORDS = 2 / 3
#: What the words must reach more than ``CLOSE_HOURS`` apart (with telling figures
#: agreeing): a follow-up the same day restates the facts and names (0.40 measured).
LATER_WORDS = 0.5
#: A name counts as rare when at most this many of the window's stories hold it.
RARE_NAME_ARTICLES = 5
#: Name phrases ("Bayfront Cold Storage", "Naomi Petrakis") two reports published close
#: together must both state to be one event on less agreement of their words (the share
#: ``NAMED_WORDS`` of ``words_threshold``) and of their figures (only quantities stated
#: with other values count against them, not figures one report gives and the other
#: leaves out): reports written apart name the same company, people and street but quote
#: different figures from different sources.
NAMED_PHRASES = 2
NAMED_WORDS = 1 / 2
#: Name phrases each of two texts must state for them to be named apart when they share at
#: most one (``_named_apart``): fewer, and a report written apart may simply name others
#: (the prosecutor where the other names the defendant).
NAMED_APART = 5
#: The share of the fewer figures two Korean reports written apart must have in common
#: (``dedup.figures_agree``): each gives figures the other leaves out, but another event
#: of the same day shares a fifth of them or less.
KOREAN_SHARED = 1 / 3


@dataclass(frozen=True, slots=True)
class Text:
    """What is compared of one article. A stored article's words may be given as the
    store keeps them (``Words.encode``): they are decoded only for a pair that gets as
    far as its words, and most candidates are set aside before (a day apart, figures)."""

    article_id: str
    signature: tuple[int, ...]
    figures: frozenset[str]
    stored_words: Words | str
    date: datetime | None

    @property
    def words(self) -> Words:
        found = self.stored_words
        return found if isinstance(found, Words) else decoded_words(found)


@dataclass(frozen=True, slots=True)
class Rules:
    threshold: float
    words_threshold: float
    event_window: timedelta
    #: False: ``same_event`` is not applied, only ``similarity`` (feeds.yaml
    #: ``dedup.independent_reports``).
    independent_reports: bool = True


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
    #: Name phrases both state (with a rare word).
    phrases: tuple[str, ...]
    #: Telling figures both state, and how many the one stating fewer states.
    telling: tuple[int, int]
    #: Hours between the two publications (None: one is undated).
    hours: float | None
    figures_agree: bool
    #: Whether both texts had content words to compare (none are read for a text too
    #: short to judge, nor kept for a new one under ``independent_reports: false``).
    words_compared: bool = True

    def describe(self) -> str:
        hours = "undated" if self.hours is None else f"{self.hours:.1f} h apart"
        names = ", ".join(self.names[:4]) + (" …" if len(self.names) > 4 else "")
        phrases = ", ".join(p.replace("_", " ") for p in self.phrases[:3])
        phrases += " …" if len(self.phrases) > 3 else ""
        words = (
            f"words {self.words:.2f}, "
            f"rare names {len(self.names)}{f' ({names})' if names else ''}, "
            f"name phrases {len(self.phrases)}"
            f"{f' ({phrases})' if phrases else ''}"
            if self.words_compared
            else "words not compared"
        )
        return (
            f"n-grams {self.sketch:.2f}, {words}, "
            f"shared figures {self.figures} (telling {self.telling[0]} of "
            f"{self.telling[1]}), {hours}, "
            f"figures {'agree' if self.figures_agree else 'disagree'}"
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """A candidate the new article folds with: by which rule, its score, every signal."""

    article_id: str
    rule: str
    score: float
    signals: Signals


class Rarity:
    """How rare a word is among the window's stories: how many hold it (at most the
    count the store looks up, ``limit``), counted in stories so that one told by many
    outlets does not make its own words common; each word's weight is worked out once."""

    def __init__(self, holders: Mapping[str, int], limit: int) -> None:
        self.holders = holders
        self.limit = limit
        self._weights: dict[str, float] = {}
        # One article is compared with up to 30 candidates, and a pair's words up to three
        # times: each text's weighted words are worked out once, by the text's identity
        # (the text is kept with them, so its id is not reused while they are).
        self._vectors: dict[int, tuple[Words, dict[str, float], float]] = {}

    def weight(self, word: str) -> float:
        """Inverse document frequency, ``ln((limit + 0.5) / (holders + 0.5))``: about 4
        for a word no other story holds, 0 for one at the limit, which says nothing.
        Counted with the new article; a word not looked up counts as held by it alone."""
        found = self._weights.get(word)
        if found is None:
            held = min(self.holders.get(word, 0) + 1, self.limit)
            found = self._weights[word] = math.log((self.limit + 0.5) / (held + 0.5))
        return found

    def is_rare(self, word: str) -> bool:
        return self.holders.get(word, 0) + 1 <= RARE_NAME_ARTICLES

    def cosine(self, a: Words, b: Words) -> float:
        """``words_cosine`` of two texts' words, weighted by this rarity."""
        va, norm_a = self._vector(a)
        vb, norm_b = self._vector(b)
        return _cosine(va, norm_a, vb, norm_b)

    def _vector(self, words: Words) -> tuple[dict[str, float], float]:
        found = self._vectors.get(id(words))
        if found is None or found[0] is not words:
            vector = _weighted(words, self.weight)
            found = self._vectors[id(words)] = (words, vector, _norm(vector))
        return found[1], found[2]


def signals(new: Text, old: Text, rarity: Rarity, rule: str = "similarity") -> Signals:
    """Every signal of a pair; the figures judged as ``rule`` judges them (reports written
    apart, ``same_event``, by a narrower veto)."""
    if rule == "similarity":
        agree = figures_agree(new.figures, old.figures)
    else:
        agree = _figures_allow_one_event(new.figures, old.figures)
    return Signals(
        sketch=similarity(new.signature, old.signature),
        words=rarity.cosine(new.words, old.words),
        names=_shared_names(new, old, rarity),
        figures=_shared_figures(new, old),
        phrases=_shared_phrases(new, old, rarity),
        telling=_telling(new, old),
        hours=_hours_apart(new, old),
        figures_agree=agree,
        words_compared=bool(new.words) and bool(old.words),
    )


def _shared_names(new: Text, old: Text, rarity: Rarity) -> tuple[str, ...]:
    """Rare names both state. A word both state only inside names that differ ("Transit"
    of "Metro Transit Workers Union" and of "Three Rivers Transit") is not a name they
    share."""
    shared = new.words.names & old.words.names
    # The Korean analyzer tags a name by its context, a proper noun in one text and a
    # common noun in the other: a Korean word both hold is a name if either tags it so.
    differ = _korean_names(new.words.names) ^ _korean_names(old.words.names)
    if differ:
        shared |= differ & _word_set(new) & _word_set(old)
    if shared and new.words.phrases and old.words.phrases:
        in_new, in_old = _phrase_words(new.words.phrases), _phrase_words(old.words.phrases)
        named_alike = _phrase_words(shared_phrases(new.words.phrases, old.words.phrases))
        shared = {w for w in shared if w not in in_new or w not in in_old or w in named_alike}
    return tuple(sorted(w for w in shared if rarity.is_rare(w) and rarity.weight(w) > 0))


def _named_things(new: Text, old: Text, rarity: Rarity) -> int:
    """How many people, places and things both name by rare names: the words of one name
    both state in full ("Port Alder") count once."""
    names = _shared_names(new, old, rarity)
    if not names:
        return 0
    phrases = shared_phrases(new.words.phrases, old.words.phrases)
    named = [phrase for phrase in phrases if any(w in names for w in phrase.split("_"))]
    in_phrases = _phrase_words(frozenset(named))
    # A Korean name that opens a longer one names the same place: 부산 of 부산지법 (its
    # court), 충남 of 충남도.
    within = {
        name
        for name in names
        if HANGUL.match(name) and any(o != name and o.startswith(name) for o in names)
    }
    # Korean places say where, once: two reports of one region's day name its province,
    # city and court whatever happened (경북 and 김천; 경기도 and 수원지법).
    places = {name for name in names if HANGUL.match(name) and is_korean_place(name)}
    others = sum(
        name not in in_phrases and name not in within and name not in places for name in names
    )
    return others + bool(places - in_phrases) + len(named)


def _word_set(text: Text) -> frozenset[str]:
    return _words_counted(text.words.counts)


# Each text is compared with many: what is read of its words alone is kept (a frozenset
# keeps its hash; a tuple's is worked out on each call, a third of the cost of the set).
@functools.lru_cache(maxsize=4096)
def _korean_names(names: frozenset[str]) -> frozenset[str]:
    return frozenset(word for word in names if HANGUL.match(word))


@functools.lru_cache(maxsize=4096)
def _words_counted(counts: tuple[tuple[str, int], ...]) -> frozenset[str]:
    return frozenset(word for word, _ in counts)


@functools.lru_cache(maxsize=4096)
def _phrase_words(phrases: frozenset[str]) -> frozenset[str]:
    """The words of name phrases (a text's, or those two share: each pair's are asked for
    up to three times, so they are kept)."""
    return frozenset(word for phrase in phrases for word in phrase.split("_"))


def _shared_phrases(new: Text, old: Text, rarity: Rarity) -> tuple[str, ...]:
    """Name phrases both state that hold a rare word ("Federal Reserve" is in the day's
    news everywhere; "Bayfront Cold Storage" is not)."""
    shared = shared_phrases(new.words.phrases, old.words.phrases)
    return tuple(sorted(p for p in shared if any(rarity.is_rare(word) for word in p.split("_"))))


def _shared_figures(new: Text, old: Text) -> int:
    return len(figure_values(new.figures) & figure_values(old.figures))


def _hours_apart(new: Text, old: Text) -> float | None:
    if new.date is None or old.date is None:
        return None
    return abs((new.date - old.date).total_seconds()) / 3600


def words_cosine(a: Words, b: Words, weight: Callable[[str], float]) -> float:
    """Cosine of two texts' content words, each weighted ``(1 + ln count) × rarity``."""
    va, vb = _weighted(a, weight), _weighted(b, weight)
    return _cosine(va, _norm(va), vb, _norm(vb))


def _weighted(words: Words, weight: Callable[[str], float]) -> dict[str, float]:
    return {word: (1 + math.log(count)) * weight(word) for word, count in words.counts}


def _norm(vector: dict[str, float]) -> float:
    return math.sqrt(sum(v * v for v in vector.values()))


def _cosine(va: dict[str, float], norm_a: float, vb: dict[str, float], norm_b: float) -> float:
    # Summed exactly (fsum): a plain sum's last digit follows the order of the words, and
    # a set's order follows the process's string hashing. The same in every process, and
    # whichever text comes first.
    dot = math.fsum(weight * vb[word] for word, weight in va.items() if word in vb)
    if not dot:
        return 0.0
    norm = norm_a * norm_b
    return dot / norm if norm else 0.0


def verdict(new: Text, old: Text, rarity: Rarity, rules: Rules) -> Verdict | None:
    """The rule by which ``new`` and ``old`` are one story, or None. The cheap signals
    are looked at first; all of them are worked out for a pair that folds."""
    hours = _hours_apart(new, old)
    close = hours is not None and hours <= CLOSE_HOURS
    same_day = hours is not None and hours <= rules.event_window.total_seconds() / 3600
    if close:
        floor = rules.threshold
    else:
        floor = max(rules.threshold, LATER_SIMILARITY if same_day else COPY_SIMILARITY)
    rule = "similarity" if similarity(new.signature, old.signature) >= floor else None
    if rule is None:
        if not same_day or not rules.independent_reports:
            return None
        shared, fewer = _telling(new, old)
        telling_agree = shared >= TELLING_SHARED and shared >= TELLING_SHARE * fewer
        if (
            close
            and telling_agree
            and shared >= TELLING_ALONE
            and _some_words_alike(new, old, rarity)
        ):
            rule = "same_event"
        elif close or telling_agree:
            names = _named_things(new, old, rarity)
            # Figures alone are evidence only when most agree, or four or more do: a report
            # of another event restates one or two of the day's other figures in passing.
            many = shared >= TELLING_EVIDENCE
            evidence = names + shared if names or telling_agree or many else 0
            if close:
                # Two kinds of evidence agreeing close together need less of each.
                bar = rules.words_threshold * (TELLING_WORDS if telling_agree else 1)
            else:
                bar = max(rules.words_threshold, LATER_WORDS)
            if not (
                evidence >= STRONG_EVIDENCE and rarity.cosine(new.words, old.words) >= bar
            ) and not (close and _named_alike(new, old, rarity, rules.words_threshold)):
                return None
            rule = "same_event"
        else:
            return None
        # Named apart, the telling figures must agree: the words and names two reports
        # share are then the day's setting (a beach, a county, a court), not its event.
        if not telling_agree and _named_apart(new, old):
            return None
    found = signals(new, old, rarity, rule)
    if not found.figures_agree:
        return None
    score = found.sketch if rule == "similarity" else found.words
    return Verdict(old.article_id, rule, round(score, 4), found)


def _named_apart(new: Text, old: Text) -> bool:
    """Whether two texts that each name ``NAMED_APART`` or more people, companies and
    places in full share at most one of those names: reports of one event name its people
    alike; a report of another event at the same place (the women's final at the beach
    of the men's, another jury's verdict in the county) names other people."""
    mine, theirs = new.words.phrases, old.words.phrases
    if len(mine) < NAMED_APART or len(theirs) < NAMED_APART:
        return False
    return len(shared_phrases(mine, theirs)) <= 1


def _some_words_alike(new: Text, old: Text, rarity: Rarity) -> bool:
    """Whether the words of two texts agreeing by figures alone are not unrelated (a text
    with no words to compare is judged by its figures alone)."""
    if not new.words or not old.words:
        return True
    return rarity.cosine(new.words, old.words) >= TELLING_ALONE_WORDS


def _named_alike(new: Text, old: Text, rarity: Rarity, words_threshold: float) -> bool:
    """Whether two reports close together name the same people, companies or places in
    full (``NAMED_PHRASES``), quote ``TELLING_SHARED`` telling figures alike, and their
    words reach the lower named bar: evidence enough with fewer words in common. Names
    alone are not: a report of another event names the same mayor, court or regulator,
    and often the event beside it in passing."""
    if _telling(new, old)[0] < TELLING_SHARED:
        return False
    if len(_shared_phrases(new, old, rarity)) < NAMED_PHRASES:
        return False
    return rarity.cosine(new.words, old.words) >= words_threshold * NAMED_WORDS


def _figures_allow_one_event(mine: frozenset[str], theirs: frozenset[str]) -> bool:
    """The figures veto for reports written apart. In English, figures one report gives
    and the other leaves out say nothing; quantities with values the other states
    nowhere still keep them apart. A Korean counter (명, 개, 건) does not say what is
    counted, so conflicts are seldom seen and Korean reports must share some of their
    figures as well: ``KOREAN_SHARED`` of the fewer (copies share half)."""
    if HANGUL.search(" ".join(mine)) or HANGUL.search(" ".join(theirs)):
        return figures_agree(mine, theirs, min_shared=KOREAN_SHARED)
    return figures_agree(mine, theirs, min_shared=0)


def _telling(new: Text, old: Text) -> tuple[int, int]:
    """Telling figures both state, and how many the one stating fewer states."""
    mine, theirs = telling_values(new.figures), telling_values(old.figures)
    return len(mine & theirs), min(len(mine), len(theirs))


def may_merge(one: Text, other: Text, rules: Rules) -> bool:
    """Whether the tellings of two stories one article folds with may be one event: they
    are within the event window of each other and state no quantity with other values.
    A round-up of the day's two fires folds with each report, but the two give other
    tolls. (Not the Korean share of figures in common: the two were told apart.)"""
    hours = _hours_apart(one, other)
    if hours is None or hours > rules.event_window.total_seconds() / 3600:
        return False
    return figures_agree(one.figures, other.figures, min_shared=0)


def verdicts(new: Text, candidates: Iterable[Text], rarity: Rarity, rules: Rules) -> list[Verdict]:
    """Every candidate ``new`` folds with, the best first: by n-gram similarity where any
    does (the most similar), else by words (the highest cosine); ties go to the smaller
    id."""
    found = [v for v in (verdict(new, c, rarity, rules) for c in candidates) if v is not None]
    return sorted(found, key=lambda v: (v.rule != "similarity", -v.score, v.article_id))
