"""Whether a new article tells the story of a stored one: each signal, and the rule that
decides. Pure: the store finds the candidates and how rare each word is.

Two rules fold, and one veto keeps apart:

- ``similarity``: the texts share at least ``threshold`` of their character n-grams
  (``dedup.similarity`` of the sketches), or ``LATER_SIMILARITY`` later the same day and
  ``COPY_SIMILARITY`` when published further apart than ``event_window``. Copies,
  trimmed headlines and rewrites of one telling.
- ``same_event``: reports written apart from each other share few n-grams (0.08–0.27,
  as much as two earthquakes on different days); what they share instead is weighed
  together (``event_signals``), for reports published within ``CLOSE_HOURS`` of each
  other (later, a report restating an event is most often a follow-up): their content
  words (headline and lead, weighted by rarity among the window's stories), the things
  both name by rare names (the words of one name, "Port Alder", count once, and so do a
  region's Korean places, 경북 and 김천), the people, companies and places both name in
  full, the telling figures both state (not a date, a time or a small count), whether
  their figures agree as a copy's would, whether they were published within
  ``CLOSE_HOURS``, and what sets them apart: names each states that the other does not
  (a report of another event at the same place names other people), and two texts
  naming many people apart (``_named_apart``). ``event_score`` is a logistic model of
  those signals, its weights (``EVENT_WEIGHTS``) fitted on the evaluation set's tuning
  half (``benchmarks/dedup/fit_event.py``); a pair whose score reaches
  ``Rules.event_score`` is one event. Only candidates the content words nominated, or
  sharing ``WEIGHED_NGRAMS`` of the n-grams, are weighed so (``verdicts``).
- Veto: figures that disagree (``dedup.figures_agree``) — a market close, a match or a
  count on another day, or a follow-up with new numbers — keep two texts apart under
  either rule. Reports written apart quote different figures, so for ``same_event``
  figures one gives and the other leaves out do not count against them, in Korean as in
  English, only quantities with values the other states nowhere (copies must also share
  half of them). And a report joins a story by ``same_event`` only if no member
  of it states figures that disagree with its own (``members_allow``), and, when two or
  more are placed, if it is one event with what they say together (``told_together``):
  the report it matched may have left out the score, or the people, another gives.

Every signal is symmetric, so a pair's verdict does not depend on which arrived first.
What a report says in a paragraph that turns to another event is not read for figures or
words (``dedup.other_events``, when the fingerprint is taken). An article that folds with
tellings of several stories merges them when ``may_merge`` allows (``store.story_merge``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
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

#: Reports of one event are published close together: outlets writing an event up apart
#: publish 1–4 hours after one another, and same-day follow-ups with new facts come
#: 4–10 hours later. Reports written apart are one event (``same_event``) only this
#: close: later the same day, a report that restates an event's words, names and figures
#: is a follow-up far more often than a late telling, and no signal the score reads tells
#: the two apart (tune: none of the pairs further apart that the score folded was of one
#: story; weighed as close, 12 pairs of a late telling would fold against 90 of a
#: follow-up or look-alike).
CLOSE_HOURS = 4.0
#: Texts published more than ``CLOSE_HOURS`` apart are one story by n-grams from this
#: similarity; further apart than the event window, only as copies (a follow-up restates
#: the facts it follows in their words: 0.25–0.27 measured).
LATER_SIMILARITY = 0.30
COPY_SIMILARITY = 0.5
#: A name counts as rare when at most this many of the window's stories hold it.
RARE_NAME_ARTICLES = 5
#: Name phrases each of two texts must state for them to be named apart when they share at
#: most one (``_named_apart``): fewer, and a report written apart may simply name others
#: (the prosecutor where the other names the defendant).
NAMED_APART = 5
#: Words two texts must share to be weighed at all (``event_signals``): reports of one
#: event share some (0.11 the least measured), a report of another thing that happens to
#: state three of the same numbers none (a library survey beside a pile-up, 0.02).
#: Nothing in common is no evidence, however close together.
EVENT_WORDS = 0.05
#: The share of n-grams a candidate the content words did not nominate must have in
#: common with a text to be weighed as a report of its event (``verdicts``). Reports
#: written apart share 0.05–0.27 of them; the sketch's other candidates share some by
#: chance, half of them 0.03 or less in ``cost.py``'s synthetic store (50,000 stored).
#: Among 10,000 other articles a day, 5 of 275 ``same_event`` verdicts on the tuning half
#: were on candidates the sketch alone nominated, all sharing 0.047 or more.
WEIGHED_NGRAMS = 0.045
#: Telling figures in common that name an event however many more either states
#: (``_names_the_event``): a report of another event restates one or two of the day's
#: figures in passing, not four.
MANY_TELLING = 4
#: Telling figures agree when at least ``EVENT_TELLING`` are in common and
#: ``TELLING_AGREE`` of the fewer stated. A text with no words to weigh is weighed only
#: when they do.
EVENT_TELLING = 2
TELLING_AGREE = 0.75
#: The event score from which two texts are one event though nothing names it
#: (``_names_the_event``): in a busy store a city's name is no rare name, and Korean
#: reports of one fire or one festival share only their place, the hour, counts and the
#: day's words (tune among 10,000 other articles a day: 7 such pairs scored 0.83–0.94).
NAMELESS_SCORE = 0.8
#: Counts read by ``event_signals`` are capped: beyond these, more says nothing new.
MOST_THINGS = 4
MOST_PHRASES = 4
MOST_TELLING = 6

#: The weights of ``event_score``'s signals (``event_signals``) and its intercept: a
#: logistic regression fitted on the candidate pairs the store compared when the
#: evaluation set's tuning half was fetched (``benchmarks/dedup/fit_event.py``, which
#: prints these lines). Names each report states that the other does not weigh against
#: (a report of another event at the same place names other people); words, names and
#: telling figures in common for, and far more when published close together.
EVENT_WEIGHTS: Mapping[str, float] = {
    "words": 1.364,
    "things": 0.846,
    "phrases": 0.412,
    "telling": 0.437,
    "telling_share": 1.293,
    "figures_as_copies": 1.098,
    "close": 6.751,
    "named_apart": -1.227,
    "korean": -0.679,
    "words_by_things": 0.009,
    "unnamed_fewer": -0.580,
    "unnamed_more": -0.273,
}
EVENT_INTERCEPT = -7.068


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
    #: ``event_score`` at or above which two reports written apart are one event.
    event_score: float
    event_window: timedelta
    #: False: ``same_event`` is not applied, only ``similarity`` (feeds.yaml
    #: ``dedup.independent_reports``).
    independent_reports: bool = True
    #: Reports written apart further apart than this are not weighed as one event
    #: (``CLOSE_HOURS``; a reader's near misses are looked for further).
    close_hours: float = CLOSE_HOURS


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
    #: ``event_score`` of a pair judged by ``same_event`` (None: judged by n-grams).
    event: float | None = None

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
        event = "" if self.event is None else f", event score {self.event:.2f}"
        return (
            f"n-grams {self.sketch:.2f}, {words}, "
            f"shared figures {self.figures} (telling {self.telling[0]} of "
            f"{self.telling[1]}), {hours}, "
            f"figures {'agree' if self.figures_agree else 'disagree'}{event}"
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
        # Only the words looked up (``holders``) weigh other than a word no other story
        # holds: a text's norm is worked out from its unweighted words and those few.
        self._unheld = math.log((limit + 0.5) / 1.5)
        self._norms: dict[int, tuple[Words, float]] = {}

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
        """``words_cosine`` of two texts' words, weighted by this rarity. An article is
        compared with up to 30 candidates, most of them sharing few words: only the
        words both hold are weighed, and each text's norm is worked out once."""
        read_a, read_b = _read(a), _read(b)
        shared = read_a.counted.keys() & read_b.counted.keys()
        if not shared:
            return 0.0
        weight = self.weight
        # Summed exactly (fsum): the same in every process, whichever text comes first.
        dot = math.fsum(read_a.counted[w] * read_b.counted[w] * weight(w) ** 2 for w in shared)
        if not dot:
            return 0.0
        norm = self._norm(read_a) * self._norm(read_b)
        return dot / norm if norm else 0.0

    def _norm(self, read: _Read) -> float:
        found = self._norms.get(id(read.words))
        if found is None or found[0] is not read.words:
            looked_up = [
                read.counted[word] ** 2 * (self.weight(word) ** 2 - self._unheld**2)
                for word in self.holders
                if word in read.counted
            ]
            unheld = read.squares * self._unheld**2
            norm = math.sqrt(max(0.0, math.fsum([unheld, *looked_up])))
            found = self._norms[id(read.words)] = (read.words, norm)
        return found[1]


@dataclass(frozen=True, slots=True)
class _Read:
    """What is worked out of a text's words alone, once: each word weighted
    ``1 + ln count`` (before its rarity), the sum of their squares, the words as a set,
    and whether most are Hangul."""

    words: Words
    counted: dict[str, float]
    squares: float
    word_set: frozenset[str]
    korean: bool


#: ``_read`` by the words' identity (kept with them, so an id is not reused while its
#: entry lives): hashing a text's 64 counts for every look-up cost more than the
#: comparison. Cleared when full.
_READ: dict[int, _Read] = {}
_MOST_READ = 8192


def _read(words: Words) -> _Read:
    found = _READ.get(id(words))
    if found is None or found.words is not words:
        if len(_READ) >= _MOST_READ:
            _READ.clear()
        counted = {word: 1 + math.log(count) for word, count in words.counts}
        # A Korean report names a few things in Latin letters (km, KTX).
        hangul = sum(1 for word in counted if HANGUL.match(word))
        found = _READ[id(words)] = _Read(
            words,
            counted,
            math.fsum(weight**2 for weight in counted.values()),
            frozenset(counted),
            hangul * 2 > len(counted),
        )
    return found


def signals(
    new: Text, old: Text, rarity: Rarity, rule: str = "similarity", event: float | None = None
) -> Signals:
    """Every signal of a pair; the figures judged as ``rule`` judges them (reports written
    apart, ``same_event``, by a narrower veto), with the pair's ``event_score``."""
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
        event=event,
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
    return _read(text.words).word_set


# Each text is compared with many: what is read of its words alone is kept (a frozenset
# keeps its hash; a tuple's is worked out on each call, a third of the cost of the set).
@functools.lru_cache(maxsize=4096)
def _korean_names(names: frozenset[str]) -> frozenset[str]:
    return frozenset(word for word in names if HANGUL.match(word))


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


def verdict(
    new: Text, old: Text, rarity: Rarity, rules: Rules, least_shared: float = 0.0
) -> Verdict | None:
    """The rule by which ``new`` and ``old`` are one story, or None. The cheap signals
    are looked at first; all of them are worked out for a pair that folds. A pair sharing
    less than ``least_shared`` of its n-grams is tried by ``similarity`` only."""
    shared = similarity(new.signature, old.signature)
    if shared >= _ngrams_floor(new, old, rules):
        found = signals(new, old, rarity)
        if not found.figures_agree:
            return None
        return Verdict(old.article_id, "similarity", round(found.sketch, 4), found)
    if shared < least_shared or not may_be_one_event(new, old, rules):
        return None
    weighed = event_signals(new, old, rarity, rules)
    if weighed is None:
        return None
    score = event_score(weighed)
    if score < rules.event_score or (score < NAMELESS_SCORE and not _names_the_event(weighed)):
        return None
    found = signals(new, old, rarity, "same_event", score)
    return Verdict(old.article_id, "same_event", round(score, 4), found)


def may_be_one_event(new: Text, old: Text, rules: Rules) -> bool:
    """What ``verdict`` asks of a pair not one story by n-grams before any words are
    read: ``independent_reports`` on, published within ``CLOSE_HOURS`` of each other (and
    the event window), with words to weigh or telling figures that agree, and something
    that could name the event (``_names_the_event``): most candidates of a busy day stop
    here."""
    hours = _hours_apart(new, old)
    window = rules.event_window.total_seconds() / 3600
    close = hours is not None and hours <= min(rules.close_hours, window)
    if not close or not rules.independent_reports:
        return False
    shared, fewer = _telling(new, old)
    agree = _telling_agree(shared, fewer)
    if not agree and not (new.words and old.words):
        return False
    return agree or shared >= MANY_TELLING or _may_name_alike(new, old)


def by_ngrams(new: Text, old: Text, rules: Rules) -> bool:
    """Whether ``verdict`` judges a pair by its n-grams (``similarity``): they share
    ``threshold`` of them published close together, more later the same day, and a
    copy's share further apart."""
    return similarity(new.signature, old.signature) >= _ngrams_floor(new, old, rules)


def _ngrams_floor(new: Text, old: Text, rules: Rules) -> float:
    """The share of n-grams by which ``by_ngrams`` judges a pair one story."""
    hours = _hours_apart(new, old)
    if hours is not None and hours <= CLOSE_HOURS:
        return rules.threshold
    same_day = hours is not None and hours <= rules.event_window.total_seconds() / 3600
    return max(rules.threshold, LATER_SIMILARITY if same_day else COPY_SIMILARITY)


def event_signals(new: Text, old: Text, rarity: Rarity, rules: Rules) -> dict[str, float] | None:
    """What ``event_score`` weighs of two texts not one story by their n-grams (each
    signal named in ``EVENT_WEIGHTS``); None for a pair it does not weigh: published
    further apart than the event window, ``independent_reports`` off, words unrelated
    (``EVENT_WORDS``), or figures that keep them apart. ``verdict`` asks more of a pair
    (published within ``CLOSE_HOURS``, before it is scored; something that names the
    event, under ``NAMELESS_SCORE``); the score is fitted on every pair weighed here
    (``benchmarks/dedup/fit_event.py``)."""
    hours = _hours_apart(new, old)
    if hours is None or hours > rules.event_window.total_seconds() / 3600:
        return None
    if not rules.independent_reports:
        return None
    if new.words and old.words:
        words = rarity.cosine(new.words, old.words)
        if words < EVENT_WORDS:
            return None
    else:
        words = 0.0  # a text too short to judge: its figures only
    if not _figures_allow_one_event(new.figures, old.figures):
        return None
    shared, fewer = _telling(new, old)
    things = min(_named_things(new, old, rarity), MOST_THINGS)
    unnamed = _unnamed(new, old), _unnamed(old, new)
    return {
        "words": words,
        "things": things,
        "phrases": min(len(_shared_phrases(new, old, rarity)), MOST_PHRASES),
        "telling": min(shared, MOST_TELLING),
        "telling_share": shared / fewer if fewer else 0.0,
        "figures_as_copies": float(
            bool(_shared_figures(new, old)) and figures_agree(new.figures, old.figures)
        ),
        "close": float(hours <= CLOSE_HOURS),
        "named_apart": float(_named_apart(new, old)),
        "korean": float(_is_korean(new) and _is_korean(old)),
        "words_by_things": words * things,
        "unnamed_fewer": min(unnamed),
        "unnamed_more": max(unnamed),
    }


def _telling_agree(shared: int, fewer: int) -> bool:
    return shared >= EVENT_TELLING and shared >= TELLING_AGREE * fewer


def _may_name_alike(new: Text, old: Text) -> bool:
    """Whether two texts could share a rare name or a name phrase: a name of either is
    among the other's words (a Korean name may be tagged so in one text only), or both
    name things in full."""
    mine, theirs = new.words, old.words
    return bool(
        (mine.phrases and theirs.phrases)
        or not mine.names.isdisjoint(_word_set(old))
        or not theirs.names.isdisjoint(_word_set(new))
    )


def _names_the_event(found: Mapping[str, float]) -> bool:
    """Whether two texts share something that names an event, beside their words: a
    thing named by a rare name, a name phrase, telling figures that agree, or
    ``MANY_TELLING`` in common. Words alone and a number or two are the day's template
    (a library's notice and a harbour plan of one outlet), not its event, unless they
    score ``NAMELESS_SCORE`` or more."""
    telling = found["telling"]
    agree = telling >= EVENT_TELLING and found["telling_share"] >= TELLING_AGREE
    return bool(found["things"] or found["phrases"] or agree or telling >= MANY_TELLING)


def event_score(found: Mapping[str, float]) -> float:
    """The likelihood that two reports are of one event, from their ``event_signals``:
    the logistic function of ``EVENT_INTERCEPT`` plus each signal times its weight."""
    z = EVENT_INTERCEPT + math.fsum(EVENT_WEIGHTS[name] * value for name, value in found.items())
    return 1 / (1 + math.exp(-z))


def _unnamed(text: Text, other: Text) -> int:
    """Names ``text`` states (its headline and lead) that ``other`` states nowhere among
    its words, name phrases and the names it mentions further down: a report of another
    event at the same place names other people, companies and places; reports of one
    event name its people alike. A Korean place is the setting, not a name that sets a
    report apart."""
    theirs = other.words
    stated = _word_set(other)
    phrase_words = _phrase_words(theirs.phrases)
    return sum(
        1
        for name in _own_names(text.words.names)
        if name not in stated and name not in phrase_words and name not in theirs.mentioned
    )


@functools.lru_cache(maxsize=4096)
def _own_names(names: frozenset[str]) -> frozenset[str]:
    return frozenset(
        name
        for name in names
        if len(name) > 1 and not (HANGUL.match(name) and is_korean_place(name))
    )


def _is_korean(text: Text) -> bool:
    return _read(text.words).korean


def _named_apart(new: Text, old: Text) -> bool:
    """Whether two texts that each name ``NAMED_APART`` or more people, companies and
    places in full share at most one of those names: reports of one event name its people
    alike; a report of another event at the same place (the women's final at the beach
    of the men's, another jury's verdict in the county) names other people."""
    mine, theirs = new.words.phrases, old.words.phrases
    if len(mine) < NAMED_APART or len(theirs) < NAMED_APART:
        return False
    return len(shared_phrases(mine, theirs)) <= 1


def _figures_allow_one_event(mine: frozenset[str], theirs: frozenset[str]) -> bool:
    """The figures veto for reports written apart: figures one report gives and the other
    leaves out say nothing; quantities with values the other states nowhere still keep
    them apart. Korean reports too: asking them to share a third of their figures as well
    (their counters, 명 and 건, do not say what they count, so conflicts are seldom seen)
    kept apart reports of one sale or one prize that each gave their own, and the
    look-alikes it held back score below ``Rules.event_score`` (0.70 at most, tuning
    half)."""
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


def members_allow(figures: frozenset[str], members: Iterable[frozenset[str]]) -> bool:
    """Whether a report written apart may join a story whose members state ``members``:
    none states a quantity with other values (``dedup.figures_agree``, nothing need be
    shared). A report of another game of the league joins by the report it matched, which
    gave no score; the story's other report gave the score, and it is another."""
    return all(figures_agree(figures, theirs, min_shared=0) for theirs in members)


def told_together(texts: Sequence[Text]) -> Text:
    """The tellings of one story as one text: their words counted together, their names,
    name phrases and figures, dated as the first. A report of another event at the
    story's place may match the one telling that says least of it; against what all of
    them say, the names and figures it does not share stand out. Reports of an event
    written apart come within ``CLOSE_HOURS`` of its first; a same-day follow-up, later,
    may be close to a late telling only. No sketch: the n-grams are the tellings' own."""
    counts: dict[str, int] = {}
    names: set[str] = set()
    phrases: set[str] = set()
    mentioned: set[str] = set()
    figures: set[str] = set()
    for text in texts:
        words = text.words
        for word, count in words.counts:
            counts[word] = counts.get(word, 0) + count
        names |= words.names
        phrases |= words.phrases
        mentioned |= words.mentioned
        figures |= text.figures
    dates = [text.date for text in texts if text.date is not None]
    return Text(
        texts[0].article_id,
        (),
        frozenset(figures),
        Words(
            tuple(sorted(counts.items())),
            frozenset(names),
            frozenset(phrases),
            frozenset(mentioned - counts.keys()),
        ),
        min(dates) if dates else None,
    )


def verdicts(
    new: Text,
    candidates: Iterable[Text],
    rarity: Rarity,
    rules: Rules,
    weighed: Collection[str] | None = None,
) -> list[Verdict]:
    """Every candidate ``new`` folds with, the best first: by n-gram similarity where any
    does (the most similar), else by ``event_score`` (the highest); ties go to the
    smaller id. With ``weighed`` (those the content words nominated), the others are
    tried by ``same_event`` only if they share ``WEIGHED_NGRAMS`` of their n-grams: the
    sketch nominates many that share a few by chance, and reading their words was most
    of what comparing cost."""
    found = [
        v
        for v in (verdict(new, c, rarity, rules, least_shared(c, weighed)) for c in candidates)
        if v is not None
    ]
    return sorted(found, key=lambda v: (v.rule != "similarity", -v.score, v.article_id))


def least_shared(candidate: Text, weighed: Collection[str] | None) -> float:
    """The share of n-grams ``candidate`` must have in common with a text to be weighed
    as a report of its event: none if the content words nominated it (``weighed``, None
    when every candidate is), else ``WEIGHED_NGRAMS``."""
    return 0.0 if weighed is None or candidate.article_id in weighed else WEIGHED_NGRAMS
