"""When two articles tell the same story: fingerprints and similarity, pure.

A story's text (title + body text, boilerplate such as copyright lines, datelines and
bylines removed) is reduced to letters and digits, cut into overlapping character
n-grams (so Hangul needs no tokenizer and spacing differences do not matter), and
sketched with one-permutation MinHash: one stable hash per n-gram, the smallest per bin.
Two sketches agree in about the share of bins that their n-gram sets share (Jaccard).
Bands of the sketch index it for look-up (LSH): stories sharing a band are candidates,
and only candidates are compared.

Stories built on one template (market closes, weather by region) share most n-grams but
not their figures, so two texts whose numbers disagree are never the same story.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: n-gram length, in letters/digits (Hangul syllables count one each).
SHINGLE_SIZE = 4
#: Sketch length; BANDS × ROWS must equal it.
SKETCH_SIZE = 128
BANDS = 32
ROWS = 4
_EMPTY = (1 << 64) - 1

_BOILERPLATE = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # copyright and reuse notices, Korean and English
        r"(ⓒ|©|\(c\)|copyright)[^.。\n]{0,120}",
        r"(무단\s*전재|재배포\s*금지|무단전재)[^.。\n]{0,60}",
        r"all rights reserved\.?",
        # datelines: "(서울=연합뉴스) 홍길동 기자 =", "SEOUL, Nov 20 (Reuters) -",
        # "WASHINGTON (AP) —"
        r"\([^()]{1,20}=[^()]{1,20}\)\s*([^\s=]{1,10}\s*){0,3}기자\s*=",
        r"^[A-Z][A-Z .,'-]{2,40}(,\s*[A-Z][a-z]{2,9}\.?\s*\d{1,2})?\s*\([^()]{1,30}\)\s*[-—–]+",
        r"^[A-Z][A-Z .'-]{2,30}\s*[-—–]+\s",
        # bylines and contacts
        r"[가-힣]{2,4}\s*(기자|특파원|통신원)(\s*[a-z0-9._%+-]+@[a-z0-9.-]+)?",
        r"\bby\s+[A-Z][a-z]+(\s+[A-Z][a-z]+){0,2}\b",
        r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}",
        r"https?://\S+",
        # stock phrases of wire services and syndication
        r"(사진|그래픽)\s*=\s*[^\s]{1,20}",
        r"(reporting|writing|editing) by [^.\n]{1,80}",
    )
]
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def story_text(title: str, body_text: str) -> str:
    """The text that identifies a story: title and body with boilerplate removed."""
    text = f"{title}\n{body_text}"
    for pattern in _BOILERPLATE:
        text = pattern.sub(" ", text)
    return text


def letters(text: str) -> str:
    """Only letters and digits, case-folded and NFKC-normalized: spacing and punctuation
    never make two tellings differ."""
    normalized = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in normalized if ch.isalnum())


def content_hash(text: str) -> str:
    """Exact-content key: the same letters and digits in the same order."""
    return hashlib.sha256(letters(text).encode()).hexdigest()


def numbers(text: str) -> frozenset[str]:
    """The figures a text states (thousands separators dropped)."""
    return frozenset(n.replace(",", "") for n in _NUMBER.findall(text))


def _stable_hash(gram: str) -> int:
    # Python's hash() changes per process; the sketch lives in the database for ever.
    return int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "big")


def sketch(text: str, shingle_size: int = SHINGLE_SIZE) -> tuple[int, ...]:
    """One-permutation MinHash of the text's n-grams, densified so no bin stays empty."""
    compact = letters(text)
    if len(compact) < shingle_size:
        grams = {compact} if compact else set()
    else:
        grams = {compact[i : i + shingle_size] for i in range(len(compact) - shingle_size + 1)}
    bins = [_EMPTY] * SKETCH_SIZE
    for gram in grams:
        value = _stable_hash(gram)
        slot = value % SKETCH_SIZE
        if value < bins[slot]:
            bins[slot] = value
    return _densify(bins)


def _densify(bins: list[int]) -> tuple[int, ...]:
    """Fill empty bins from the next non-empty one (rotation), offset by the distance, so
    that short texts still compare bin by bin."""
    filled = [b for b in bins if b != _EMPTY]
    if not filled:
        return tuple(bins)
    out = list(bins)
    size = len(bins)
    for i, value in enumerate(bins):
        if value != _EMPTY:
            continue
        step = 1
        while bins[(i + step) % size] == _EMPTY:
            step += 1
        out[i] = (bins[(i + step) % size] + step * 0x9E3779B97F4A7C15) & _EMPTY
    return tuple(out)


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the n-gram sets behind two sketches."""
    if not a or not b or a[0] == _EMPTY or b[0] == _EMPTY:
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def band_keys(signature: Sequence[int]) -> list[str]:
    """One key per band: stories sharing any key are candidates to compare."""
    keys = []
    for band in range(BANDS):
        rows = signature[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(
            band.to_bytes(2, "big") + b"".join(r.to_bytes(8, "big") for r in rows),
            digest_size=8,
        )
        keys.append(digest.hexdigest())
    return keys


def figures_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two texts' figures allow them to be one story: when both state several
    numbers, most of them must be shared (a retelling keeps the facts)."""
    if len(a) < 2 or len(b) < 2:
        return True
    return len(a & b) / min(len(a), len(b)) >= 0.5


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the store keeps of a story's text to find its retellings."""

    content_hash: str
    signature: tuple[int, ...]
    figures: frozenset[str]

    @classmethod
    def of(cls, title: str, body_text: str) -> Fingerprint:
        text = story_text(title, body_text)
        return cls(content_hash(text), sketch(text), numbers(text))

    def encode_signature(self) -> str:
        return ",".join(format(v, "x") for v in self.signature)

    @staticmethod
    def decode_signature(text: str) -> tuple[int, ...]:
        return tuple(int(v, 16) for v in text.split(",")) if text else ()


@dataclass(frozen=True, slots=True)
class Match:
    """The best candidate for a new story, and how similar it is."""

    article_id: str
    score: float


def best_match(
    fingerprint: Fingerprint,
    candidates: Iterable[tuple[str, tuple[int, ...], frozenset[str]]],
    threshold: float,
) -> Match | None:
    """The most similar candidate at or above ``threshold`` whose figures agree."""
    best: Match | None = None
    for article_id, signature, figures in candidates:
        score = similarity(fingerprint.signature, signature)
        if score < threshold or not figures_agree(fingerprint.figures, figures):
            continue
        if (
            best is None
            or score > best.score
            or (score == best.score and article_id < best.article_id)
        ):
            best = Match(article_id, score)
    return best
