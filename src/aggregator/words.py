"""The content words of a story's headline and lead: what reports of one event written
independently still share — its names, places, things and actions — when their sentences
have nothing else in common.

Only the headline and the first ``LEAD_WORDS`` words of the body are read: a news lead
says who, what, where and when, and reading no further bounds the cost per article (the
Korean analyzer costs about 4 µs per character). Headline words count twice.

- **Korean** text goes through ``kiwipiepy``, one spaced word at a time (kept for the
  texts that follow), a morphological analyzer whose model ships
  as a package (nothing is downloaded at run time): its nouns (proper nouns kept apart
  as names), roots, and the Latin and Hanja words among them. "안동시는" and "안동시에서"
  are both 안동시; raw n-grams would see two words.
- **Other text** is cut into words; function words are dropped and plural, past and
  progressive endings trimmed ("rulings" and "ruling" are one word). A capitalized word
  that does not open a sentence is a name.
- **Name phrases** of text in Latin letters: runs of two or more capitalized words
  ("Bayfront Cold Storage", "Naomi Petrakis", "Three Rivers Transit") in the headline
  and the first ``PHRASE_WORDS`` words of the body. A run of names is far more telling
  than each of its words: reports of one event written apart name the same companies,
  people and streets, where the day's other news shares only their single words
  ("transit", "workers").

The analyzer is loaded once per process, on the first Korean text (about 1 s and
300 MB): a process that never reads Korean never loads it.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

#: Words of the body read after the headline.
LEAD_WORDS = 50
#: How many times a headline word counts.
TITLE_WEIGHT = 2
#: Words kept per article at most (the most frequent, then the first seen).
MAX_WORDS = 64
#: Words an article is indexed and looked up by (``Words.key_words``): its names first. A
#: word not looked up weighs as one no other story holds (``same_story.Rarity``), so the
#: fewer looked up, the less an event's common words ("fire", "court") are discounted
#: against its names: on the tune half, 16, 12 and 8 key words gave recall 0.841, 0.858
#: and 0.868 (precision 0.972, 0.967, 0.970), and 0.799 → 0.823 from 12 to 8 in a busy
#: store, with a third fewer terms to look up.
KEY_WORDS = 8
#: Words of the body read for name phrases: a feature's lead names no one, its second
#: and third paragraphs do.
PHRASE_WORDS = 300
#: Name phrases kept per article at most (the first found).
MAX_PHRASES = 24
#: Other capitalized words of the headline and the body's first ``PHRASE_WORDS`` kept at
#: most (the first found): what a report states beyond its lead.
MAX_MENTIONED = 48

#: A Hangul syllable: text holding one is read as Korean.
HANGUL = re.compile("[\uac00-\ud7a3]")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…:;\"“”]$")
#: Morpheme tags kept from the Korean analyzer: common and proper nouns, roots, words in
#: Latin letters and in Hanja.
_KOREAN_TAGS = frozenset({"NNG", "NNP", "XR", "SL", "SH"})
_KOREAN_NAME_TAGS = frozenset({"NNP", "SL", "SH"})
_STOPWORDS = frozenset(
    re.split(
        r"\s+",
        """a about above after again against ago all almost also although am among an and
    another any are around as at be became because been before being below between both
    but by can could did do does doing down during each either else even ever every few
    for from further had has have having he her here hers herself him himself his how
    however i if in into is it its itself just last late later least less like made make
    many may me might more most much must my near nearly new next no nor not now of off
    often on once one only or other our ours out over own per perhaps quite rather said
    same say says several she should since so some still such than that the their them
    then there these they this those though three through thus to too two under until up
    upon us very was we were what when where whether which while who whom whose why will
    with within without would year years yet you your told according percent cent week
    weeks day days today yesterday monday tuesday wednesday thursday friday saturday sunday
    mr mrs ms""",
    )
)


@dataclass(frozen=True, slots=True)
class Words:
    """A text's content words with how often each occurs (headline words twice), and
    which of them are names (proper nouns)."""

    counts: tuple[tuple[str, int], ...] = ()
    names: frozenset[str] = frozenset()
    #: Name phrases, their words case-folded and stemmed, joined by ``_``.
    phrases: frozenset[str] = frozenset()
    #: Capitalized words (stemmed) of the headline and the body's first ``PHRASE_WORDS``
    #: not among the counted words: names a report states after its lead, which another
    #: report of the event names in its own ("Brereton" in a story's fifth paragraph).
    #: English only: reading that much Korean would cost the analyzer several times over.
    mentioned: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.counts)

    def key_words(self, most: int | None = None) -> list[str]:
        """The words an article is indexed and looked up by: names first, then the most
        frequent (headline words count twice), at most ``KEY_WORDS`` (or ``most``: the
        first ``KEY_WORDS`` of a longer list are these)."""
        ranked = sorted(self.counts, key=lambda item: (item[0] not in self.names, -item[1]))
        return [word for word, _ in ranked[: KEY_WORDS if most is None else most]]

    def encode(self) -> str:
        """As the store keeps them: ``word:count`` separated by spaces, a name marked by a
        leading ``^`` (no word holds a space, and ``:`` is read from the right), then each
        name phrase with a leading ``=`` and each word mentioned with a leading ``+``."""
        return " ".join(
            [
                *(
                    f"{'^' if word in self.names else ''}{word}:{count}"
                    for word, count in self.counts
                ),
                *(f"={phrase}" for phrase in sorted(self.phrases)),
                *(f"+{word}" for word in sorted(self.mentioned)),
            ]
        )

    @classmethod
    def decode(cls, text: str | None) -> Words:
        if not text:
            return cls()
        counts = []
        names = set()
        phrases = set()
        mentioned = set()
        for item in text.split(" "):
            if item.startswith("="):
                phrases.add(item[1:])
                continue
            if item.startswith("+"):
                mentioned.add(item[1:])
                continue
            word, _, count = item.rpartition(":")
            if word.startswith("^"):
                word = word[1:]
                names.add(word)
            counts.append((word, int(count)))
        return cls(tuple(counts), frozenset(names), frozenset(phrases), frozenset(mentioned))


#: Stored words decoded, kept for the recent articles that are candidates for many that
#: follow them. Callers only read what it returns.
decoded_words = functools.lru_cache(maxsize=2048)(Words.decode)


def words_of(title: str, body_text: str) -> Words:
    """The content words of a headline and the lead of its body text."""
    # Split no further than read: a body may run to a hundred kilobytes.
    read = body_text.split(None, max(LEAD_WORDS, PHRASE_WORDS))[: max(LEAD_WORDS, PHRASE_WORDS)]
    lead = " ".join(read[:LEAD_WORDS])
    counts: Counter[str] = Counter()
    names: set[str] = set()
    texts = [unicodedata.normalize("NFKC", text) for text in (title, lead)]
    is_korean = [HANGUL.search(text) is not None for text in texts]
    # The Korean texts' spaced words are analyzed in one call: a call costs the analyzer
    # about as much as three words.
    korean = iter(_korean_words([text for text, ko in zip(texts, is_korean, strict=True) if ko]))
    for text, ko, weight in zip(texts, is_korean, (TITLE_WEIGHT, 1), strict=True):
        found = next(korean) if ko else _alphabetic_words(text)
        for word, is_name in found:
            counts[word] += weight
            if is_name:
                names.add(word)
    kept = counts.most_common(MAX_WORDS)
    kept.sort()
    if HANGUL.search(title):
        return Words(tuple(kept), frozenset(word for word, _ in kept if word in names))
    near_top = f"{title}\n{' '.join(read[:PHRASE_WORDS])}"
    return Words(
        tuple(kept),
        frozenset(word for word, _ in kept if word in names),
        name_phrases(near_top),
        _capitalized(near_top, {word for word, _ in kept}),
    )


def _capitalized(text: str, counted: Collection[str]) -> frozenset[str]:
    """The first ``MAX_MENTIONED`` capitalized words of ``text``, stemmed, not among
    ``counted``: at a sentence's start too, for only another text's names are looked up
    among them."""
    found: dict[str, None] = {}
    for token in text.split():
        if len(token) > _KEPT_LENGTH:
            continue
        word, capitalized, _ = _read_token(token)
        if word and capitalized and word not in counted:
            found[word] = None
            if len(found) == MAX_MENTIONED:
                break
    return frozenset(found)


_PHRASE_TOKEN = re.compile(r"[^\W\d_][\w'’.-]*|[^\w\s'’]+|\n|\d[\w.,]*", re.UNICODE)
#: Lowercase words a name may hold between capitalized ones ("Bank of Canada").
_NAME_JOINERS = frozenset({"of", "de", "del", "da", "van", "von", "and", "&"})


@functools.lru_cache(maxsize=4096)
def shared_phrases(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """The name phrases two texts share: the same phrase, or one standing inside the
    other's longer run ("Staffordshire Police" in "Stafford Staffordshire Police", a
    dateline run into the name), each counted once (the longest). Kept: a pair's are asked
    for up to three times."""
    if not a or not b:
        return frozenset()
    split_a = [tuple(p.split("_")) for p in a]
    split_b = [tuple(p.split("_")) for p in b]
    # A phrase can stand inside one of the other's only if all its words are theirs.
    words_a = {word for p in split_a for word in p}
    words_b = {word for p in split_b for word in p}
    found = {p for p in split_a if words_b.issuperset(p) and any(_within(p, q) for q in split_b)}
    found |= {q for q in split_b if words_a.issuperset(q) and any(_within(q, p) for p in split_a)}
    longest = {p for p in found if not any(p != q and _within(p, q) for q in found)}
    return frozenset("_".join(p) for p in longest)


def _within(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    size = len(short)
    return any(long[i : i + size] == short for i in range(len(long) - size + 1))


def _no_name_end(word: str) -> bool:
    """A word a name neither starts nor ends with: a function word, a joiner ("of"), or
    one too short to keep ("Dr")."""
    return not word or word in _STOPWORDS or word in _NAME_JOINERS


def name_phrases(text: str) -> frozenset[str]:
    """Runs of two or more capitalized words, without function words at either end
    ("The", "On Monday"), each word stemmed: ``bayfront_cold_storag``."""
    found: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        words = [word if word in _NAME_JOINERS else stem(word) for word in run]
        while words and _no_name_end(words[0]):
            words.pop(0)
        while words and _no_name_end(words[-1]):
            words.pop()
        if len(words) >= 2 and all(words):
            phrase = "_".join(words)
            if phrase not in found:
                found.append(phrase)
        run.clear()

    for token in _PHRASE_TOKEN.findall(unicodedata.normalize("NFKC", text)):
        if token[0].isupper() and token[0].isalpha():
            bare = token.rstrip(".")
            run.append(bare)
            # A full stop after a word (not after an initial or "Dr.", "U.S.") ends the
            # sentence, and the name with it.
            if token.endswith(".") and len(bare) > 2 and "." not in bare:
                close_run()
        elif not run:
            continue  # most tokens: no name is open
        elif token in _NAME_JOINERS:
            run.append(token)
        else:
            close_run()
    if run:
        close_run()
    return frozenset(found[:MAX_PHRASES])


def _alphabetic_words(text: str) -> list[tuple[str, bool]]:
    found = []
    opens_sentence = True
    for token in text.split():
        if len(token) <= _KEPT_LENGTH:
            word, capitalized, ends_sentence = _read_token(token)
        else:
            word, capitalized, ends_sentence = _read_token.__wrapped__(token)
        if word:
            found.append((word, capitalized and not opens_sentence))
        opens_sentence = ends_sentence
    return found


#: Tokens and words up to this long are kept once read (``_read_token``, ``stem``): news
#: repeats its words ("the", "said", a day's names), and reading English words took a
#: tenth to a sixth less CPU with them kept (0.27 → 0.23–0.25 ms a text). Longer ones are
#: read each time, so a feed of long junk tokens cannot fill memory.
_KEPT_LENGTH = 40


@functools.lru_cache(maxsize=1 << 15)
def _read_token(token: str) -> tuple[str, bool, bool]:
    """A spaced token's content word ("" for none: no letters, or a function word), whether
    that word is capitalized, and whether the token ends a sentence."""
    match = _WORD.search(token)
    word, capitalized = "", False
    if match is not None:
        raw = match.group()
        word = stem(raw)
        if word in _STOPWORDS:
            word = ""
        capitalized = raw[0].isupper()
    return word, capitalized, bool(_SENTENCE_END.search(token))


def stem(word: str) -> str:
    """The word case-folded, without possessive and common inflection endings and a final
    e (a light stemmer: "rulings" → "ruling"; "raise", "raised", "raises" and "raising"
    → "rais")."""
    return _stem(word) if len(word) <= _KEPT_LENGTH else _stem.__wrapped__(word)


@functools.lru_cache(maxsize=1 << 15)
def _stem(word: str) -> str:
    word = word.casefold().replace("’", "'").strip("'-")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) < 3:
        return ""
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4 and not word.endswith("ss"):
            word = word[: -len(ending)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def _korean_words(texts: list[str]) -> list[list[tuple[str, bool]]]:
    """The content words of each text's spaced words (eojeol), from the cache or analyzed
    now: all those not yet seen in one call, each on its own (about 60 µs of CPU a
    word, on a thread a core)."""
    # Each read to its first ``_KEPT_LENGTH`` characters: news writes none longer (29 at
    # most in the labelled sets, a web address), and a feed of long junk would cost the
    # analyzer seconds an article (6 s for one of 200,000) and fill the cache with it.
    spaced = [[word[:_KEPT_LENGTH] for word in text.split()] for text in texts]
    # Looked up first: analyzing the rest may drop some of these from the cache.
    known = {word: _analyzed.get(word) for words in spaced for word in words}
    missing = [word for word, found in known.items() if found is None]
    if missing:
        for word, tokens in zip(missing, _analyze(missing), strict=True):
            analyzed = (_content_word(token.form, token.tag) for token in tokens)
            known[word] = tuple(content for content in analyzed if content is not None)
        with _LOADING:
            for word in missing:
                _analyzed[word] = known[word] or ()
            while len(_analyzed) > ANALYZED_KEPT:
                del _analyzed[next(iter(_analyzed))]  # the oldest
    return [[content for word in words for content in known[word] or ()] for words in spaced]


def _content_word(form: str, tag: str) -> tuple[str, bool] | None:
    if tag not in _KOREAN_TAGS:
        return None
    # Letters and digits only: the analyzer's dictionary holds forms with spaces
    # ("블루 아워") and its foreign words keep their dots ("donga.com.").
    form = "".join(ch for ch in form.casefold() if ch.isalnum())
    if not form or (len(form) < 2 and tag != "NNP"):
        return None  # single-syllable common nouns (곳, 것, 서) say nothing of the event
    return form, tag in _KOREAN_NAME_TAGS


#: Spaced words analyzed, kept (the oldest dropped first) for the texts that follow:
#: news repeats its names, places and phrases, and a word analyzed on its own costs the
#: analyzer nothing again. About 40 MB when full.
ANALYZED_KEPT = 200_000
_analyzed: dict[str, tuple[tuple[str, bool], ...]] = {}
_LOADING = threading.Lock()


@functools.cache
def _analyzer() -> Any:
    from kiwipiepy import Kiwi  # imported here: a second, and 300 MB, to load

    # Without its multi-word and typo dictionaries: they took 174 MiB more in every
    # process that reads Korean and 1.2-1.6 s more before its first text, and read the
    # same content words in all but 17 of the evaluation set's 2,363 Korean articles (the
    # typo dictionary in none: it corrects only when asked to).
    return Kiwi(load_typo_dict=False, load_multi_dict=False)


def _analyze(spaced_words: list[str]) -> list[list[Any]]:
    """Each spaced word's morphemes, analyzed on its own: the same whatever it is analyzed
    with, so a text's words never depend on what came before it."""
    with _LOADING:  # one load, however many threads meet their first Korean text at once
        analyzer = _analyzer()
    return list(analyzer.tokenize(spaced_words))
