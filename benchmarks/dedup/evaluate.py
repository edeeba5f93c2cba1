"""How well near-duplicate folding works on the labelled set, and how fast it is.

See README.md beside this file for the set, the figures and what they chose.

The folding here is the real one, in order of publication: for each article, the
candidates are earlier articles that share a band key (``dedup.band_keys``) and were
published within the window; ``dedup.best_match`` picks the story it folds into (an equal
``content_hash`` folds too). The band index is a dict here; the store keeps it in SQLite.

Quality is pairwise: every pair of articles placed in one story is a fold, right when the
labels put them in one story too.

    .venv/bin/python benchmarks/dedup/evaluate.py                 # sweep + chosen threshold
    .venv/bin/python benchmarks/dedup/evaluate.py --threshold 0.3 --examples 20
    .venv/bin/python benchmarks/dedup/evaluate.py --realizations 12  # other hash functions
    .venv/bin/python benchmarks/dedup/evaluate.py --scale 10000 --scale 50000
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sys
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from aggregator import dedup  # noqa: E402
from aggregator.config.settings import DedupSettings  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "stories.jsonl"
WINDOW = DedupSettings().window
WINDOW_TEXT = f"{WINDOW.total_seconds() / 3600:g}h"
CHOSEN = DedupSettings().threshold
SWEEP = [round(0.10 + 0.02 * i, 2) for i in range(10)] + [
    round(0.30 + 0.05 * i, 2) for i in range(13)
]


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    cluster: str
    group: str
    kind: str
    #: the telling this one reworks: pairs with one copy are retellings of one text,
    #: pairs with different copies are stories written separately from the same facts
    copy: str
    source: str
    lang: str
    title: str
    body: str
    published: datetime


def load(path: Path = DATA) -> list[Article]:
    articles = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            articles.append(
                Article(
                    id=row["id"],
                    cluster=row["cluster"],
                    group=row.get("group", row["cluster"]),
                    kind=row.get("kind", ""),
                    copy=row.get("copy", row["id"]),
                    source=row["source"],
                    lang=row["lang"],
                    title=row["title"],
                    body=row["body"],
                    published=datetime.fromisoformat(row["published"]),
                )
            )
    return articles


def halves(articles: Sequence[Article]) -> tuple[list[Article], list[Article]]:
    """A tuning half and a held-out half: whole groups (a retold story with the related
    stories written against it; a template family, so that the held-out half has
    templates never tuned on), alternating within each language."""
    groups = sorted(
        {(a.lang, a.kind == "template", a.group) for a in articles},
    )
    tuning: set[str] = set()
    seen: dict[tuple[str, bool], int] = defaultdict(int)
    for lang, templated, group in groups:
        if seen[(lang, templated)] % 2 == 0:
            tuning.add(group)
        seen[(lang, templated)] += 1
    return (
        [a for a in articles if a.group in tuning],
        [a for a in articles if a.group not in tuning],
    )


# -- folding -------------------------------------------------------------------------------


@dataclass(slots=True)
class Fold:
    """Why an article joined a story: the article it matched and the score (1.0 exact)."""

    matched: str
    score: float


@dataclass
class Folding:
    story: dict[str, str] = field(default_factory=dict)  #: article id → first article's id
    folds: dict[str, Fold] = field(default_factory=dict)
    compared: int = 0  #: candidate comparisons made


class BandIndex:
    """Band key → the recent articles under it, oldest first, and the fingerprints of the
    articles still within the window. An article leaves the window as newer ones arrive;
    its entries are dropped from a key's list when that key is next looked up."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        # one id, or a list of ids when several articles share the key (most keys hold one)
        self.bands: dict[str, str | list[str]] = {}
        self.hashes: dict[str, str | list[str]] = {}
        self.prints: dict[str, dedup.Fingerprint] = {}
        self.order: deque[tuple[datetime, str]] = deque()

    def expire(self, now: datetime) -> None:
        oldest = now - self.window
        while self.order and self.order[0][0] < oldest:
            _, article_id = self.order.popleft()
            del self.prints[article_id]

    def _live(self, index: dict[str, str | list[str]], key: str) -> list[str]:
        entry = index.get(key)
        if entry is None:
            return []
        ids = [entry] if isinstance(entry, str) else entry
        live = [i for i in ids if i in self.prints]
        if len(live) != len(ids):
            if not live:
                del index[key]
            else:
                index[key] = live[0] if len(live) == 1 else live
        return live

    def candidates(self, keys: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for key in keys:
            if key in self.bands:
                found.update(self._live(self.bands, key))
        return found

    def same_content(self, content_hash: str) -> str | None:
        live = self._live(self.hashes, content_hash)
        return live[0] if live else None

    def add(self, article_id: str, when: datetime, fp: dedup.Fingerprint, keys: list[str]) -> None:
        for index, key in [(self.bands, k) for k in keys] + [(self.hashes, fp.content_hash)]:
            entry = index.get(key)
            if entry is None:
                index[key] = article_id
            elif isinstance(entry, str):
                index[key] = [entry, article_id]
            else:
                entry.append(article_id)
        self.prints[article_id] = fp
        self.order.append((when, article_id))


def fold(
    articles: Iterable[tuple[str, datetime, dedup.Fingerprint]],
    threshold: float,
    window: timedelta = WINDOW,
) -> Folding:
    """Fold articles, given in order of publication, into stories."""
    index = BandIndex(window)
    result = Folding()
    for article_id, when, fp in articles:
        index.expire(when)
        keys = dedup.band_keys(fp.signature)
        same = index.same_content(fp.content_hash)
        match: dedup.Match | None
        if same is not None:
            match = dedup.Match(same, 1.0)
        else:
            found = sorted(index.candidates(keys))
            result.compared += len(found)
            match = dedup.best_match(
                fp,
                ((cid, index.prints[cid].signature, index.prints[cid].figures) for cid in found),
                threshold,
            )
        if match is None:
            result.story[article_id] = article_id
        else:
            result.story[article_id] = result.story[match.article_id]
            result.folds[article_id] = Fold(match.article_id, match.score)
        index.add(article_id, when, fp, keys)
    return result


def body_text(body: str) -> str:
    """The body as the pipeline hands it over: HTML stripped, whitespace folded."""
    return " ".join(body.split())


def fingerprint(article: Article) -> dedup.Fingerprint:
    return dedup.Fingerprint.of(article.title, body_text(article.body))


def fingerprints(articles: Sequence[Article]) -> dict[str, dedup.Fingerprint]:
    return {a.id: fingerprint(a) for a in articles}


def in_order(articles: Sequence[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (a.published, a.id))


def fold_set(
    articles: Sequence[Article],
    threshold: float,
    prints: dict[str, dedup.Fingerprint] | None = None,
    window: timedelta = WINDOW,
) -> Folding:
    """Fold the labelled articles (the function the tests call)."""
    prints = prints if prints is not None else fingerprints(articles)
    return fold(((a.id, a.published, prints[a.id]) for a in in_order(articles)), threshold, window)


# -- scoring -------------------------------------------------------------------------------


@dataclass
class Score:
    threshold: float
    precision: float
    recall: float
    true_pairs: int
    folded_pairs: int
    #: recall over pairs retelling one copy, and over pairs written separately
    copy_recall: float
    fresh_recall: float
    false_pairs: list[tuple[str, str]]
    missed_pairs: list[tuple[str, str]]
    folding: Folding

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {pair for ids in groups.values() for pair in combinations(sorted(ids), 2)}


def score(
    articles: Sequence[Article],
    threshold: float,
    prints: dict[str, dedup.Fingerprint] | None = None,
) -> Score:
    folding = fold_set(articles, threshold, prints)
    labelled: dict[str, list[str]] = defaultdict(list)
    predicted: dict[str, list[str]] = defaultdict(list)
    for a in articles:
        labelled[a.cluster].append(a.id)
        predicted[folding.story[a.id]].append(a.id)
    truth, folded = _pairs(labelled), _pairs(predicted)
    right = truth & folded
    copy_of = {a.id: a.copy for a in articles}
    same_copy = {(x, y) for x, y in truth if copy_of[x] == copy_of[y]}
    fresh = truth - same_copy
    return Score(
        threshold=threshold,
        precision=len(right) / len(folded) if folded else 1.0,
        recall=len(right) / len(truth) if truth else 1.0,
        true_pairs=len(truth),
        folded_pairs=len(folded),
        copy_recall=len(right & same_copy) / len(same_copy) if same_copy else 1.0,
        fresh_recall=len(right & fresh) / len(fresh) if fresh else 1.0,
        false_pairs=sorted(folded - truth),
        missed_pairs=sorted(truth - folded),
        folding=folding,
    )


# -- reporting -----------------------------------------------------------------------------


def describe_pair(
    a: Article, b: Article, prints: dict[str, dedup.Fingerprint], folding: Folding
) -> str:
    fa, fb = prints[a.id], prints[b.id]
    sim = dedup.similarity(fa.signature, fb.signature)
    shared = len(set(dedup.band_keys(fa.signature)) & set(dedup.band_keys(fb.signature)))
    agree = dedup.figures_agree(fa.figures, fb.figures)
    how = ""
    for x in (a, b):
        f = folding.folds.get(x.id)
        if f is not None:
            how += f" [{x.id} folded into {f.matched} at {f.score:.2f}]"
    return (
        f"  {a.id} ~ {b.id}: similarity {sim:.2f}, {shared} shared bands, figures "
        f"{'agree' if agree else 'differ'}{how}\n"
        f"      {a.title[:70]}\n      {b.title[:70]}"
    )


def report(
    name: str,
    articles: Sequence[Article],
    prints: dict[str, dedup.Fingerprint],
    threshold: float,
    examples: int,
) -> Score:
    by_id = {a.id: a for a in articles}
    s = score(articles, threshold, prints)
    stories = len({a.cluster for a in articles})
    print(
        f"\n{name}: {len(articles)} articles, {stories} stories, threshold {threshold:.2f}\n"
        f"  pairwise precision {s.precision:.4f}  recall {s.recall:.4f}  "
        f"({s.folded_pairs} pairs folded, {s.true_pairs} true pairs, "
        f"{len(s.false_pairs)} false folds, {len(s.missed_pairs)} missed)\n"
        f"  recall over pairs retelling one copy {s.copy_recall:.4f}, over pairs written "
        "separately from the same facts "
        f"{s.fresh_recall:.4f}"
    )
    for lang in ("ko", "en"):
        part = [a for a in articles if a.lang == lang]
        if part:
            p = score(part, threshold, prints)
            print(
                f"  {lang}: precision {p.precision:.4f}  recall {p.recall:.4f}  "
                f"({len(p.false_pairs)} false, {len(p.missed_pairs)} missed)"
            )
    if examples:
        for label, pairs in (("false folds", s.false_pairs), ("missed", s.missed_pairs)):
            if not pairs:
                print(f"  {label}: none")
                continue
            print(f"  {label} ({len(pairs)}; up to {examples} shown, most similar first):")
            ranked = sorted(
                pairs,
                key=lambda p: -dedup.similarity(prints[p[0]].signature, prints[p[1]].signature),
            )
            for x, y in ranked[:examples]:
                print(describe_pair(by_id[x], by_id[y], prints, s.folding))
    return s


def sweep(
    tuning: Sequence[Article], held_out: Sequence[Article], prints: dict[str, dedup.Fingerprint]
) -> None:
    print(
        "\nthreshold sweep: pairwise precision / recall (recall over retellings of one copy)"
        " [false folds, misses]"
    )
    print(f"  {'threshold':>9}  {'tuning half':>36}  {'held-out half':>36}")
    for t in SWEEP:
        row = []
        for part in (tuning, held_out):
            s = score(part, t, prints)
            row.append(
                f"{s.precision:.3f} / {s.recall:.3f} ({s.copy_recall:.3f}) "
                f"[{len(s.false_pairs):>2}, {len(s.missed_pairs):>3}]"
            )
        mark = "  <- chosen" if abs(t - CHOSEN) < 1e-9 else ""
        print(f"  {t:>9.2f}  {row[0]:>36}  {row[1]:>36}{mark}")


def realizations(articles: Sequence[Article], runs: int, thresholds: Sequence[float]) -> None:
    """How much the figures owe to one hash function: the set folded again with ``runs``
    other multipliers in the n-gram hash (each a different, equally valid sketch). A
    threshold that is only safe for the shipped hash is not safe."""
    rng = random.Random(11)
    shipped = dedup._GOLDEN
    results: dict[float, list[Score]] = defaultdict(list)
    try:
        for _ in range(runs):
            dedup._GOLDEN = rng.getrandbits(64) | 1
            prints = fingerprints(articles)
            for t in thresholds:
                results[t].append(score(articles, t, prints))
    finally:
        dedup._GOLDEN = shipped
    print(f"\n{runs} other hash functions, {len(articles)} articles")
    print(
        f"  {'threshold':>9}  {'precision mean (min)':>20}  {'recall mean (min)':>18}  "
        f"{'copy recall min':>15}  runs with a false fold"
    )
    for t in thresholds:
        r = results[t]
        p = [x.precision for x in r]
        q = [x.recall for x in r]
        print(
            f"  {t:>9.2f}  {sum(p) / runs:>13.3f} ({min(p):.3f})  {sum(q) / runs:>11.3f} "
            f"({min(q):.3f})  {min(x.copy_recall for x in r):>15.3f}  "
            f"{sum(bool(x.false_pairs) for x in r)}/{runs}"
        )


# -- scale ---------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d+")
_CAPITALIZED = re.compile(r"\b[A-Z][a-z]{2,}\b")
_HANGUL_WORD = re.compile(r"[가-힣]{2,4}")
_SYLLABLES = "가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부수우주추쿠투푸후"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def synthetic(base: Sequence[Article], n: int, seed: int = 7) -> Iterator[Article]:
    """``n`` articles made from the labelled ones, one at a time: each takes an article's
    title and half its paragraphs, fills the other half with paragraphs of other articles
    in its language, then replaces every number, English names and a share of the words,
    so that they are mostly distinct stories of the usual length (a few templates' worth
    still look alike, as on a real day). Published about 10,000 a day."""
    rng = random.Random(seed)
    by_lang: dict[str, list[list[str]]] = defaultdict(list)
    for a in base:
        by_lang[a.lang].append(a.body.split("\n\n"))
    start = min(a.published for a in base)

    def number(m: re.Match[str]) -> str:
        return str(rng.randint(1, 10 ** len(m.group())))

    def name(_: re.Match[str]) -> str:
        return rng.choice(_LETTERS.upper()) + "".join(
            rng.choice(_LETTERS) for _ in range(rng.randint(3, 8))
        )

    def hangul(m: re.Match[str]) -> str:
        if rng.random() < 0.5:
            return "".join(rng.choice(_SYLLABLES) for _ in m.group())
        return m.group()

    def english(text: str) -> str:
        words = _CAPITALIZED.sub(name, text).split(" ")
        for k, word in enumerate(words):
            if rng.random() < 0.3:
                words[k] = "".join(rng.choice(_LETTERS) for _ in range(max(2, len(word))))
        return " ".join(words)

    for i in range(n):
        a = base[rng.randrange(len(base))]
        pool = by_lang[a.lang]
        paragraphs = [
            p if rng.random() < 0.5 else rng.choice(rng.choice(pool)) for p in a.body.split("\n\n")
        ]
        text, title = "\n\n".join(paragraphs), a.title
        if a.lang == "en":
            text, title = english(text), english(title)
        else:
            text, title = _HANGUL_WORD.sub(hangul, text), _HANGUL_WORD.sub(hangul, title)
        yield Article(
            id=f"s{i}",
            cluster=f"s{i}",
            group="synthetic",
            kind="synthetic",
            copy=f"s{i}",
            source=a.source,
            lang=a.lang,
            title=_NUMBER.sub(number, title),
            body=_NUMBER.sub(number, text),
            published=start + timedelta(seconds=8.64 * i),
        )


def scale(base: Sequence[Article], n: int, threshold: float) -> None:
    """Time fingerprinting and folding ``n`` synthetic articles, the band index in a
    dict; the articles are made on the fly (their making is timed apart and left out)."""
    t0 = time.perf_counter()
    chars = sum(len(a.title) + len(a.body) for a in synthetic(base, n))
    making = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fingerprinting = 0.0

    def stream() -> Iterator[tuple[str, datetime, dedup.Fingerprint]]:
        nonlocal fingerprinting
        for a in synthetic(base, n):
            t = time.perf_counter()
            fp = fingerprint(a)
            fingerprinting += time.perf_counter() - t
            yield a.id, a.published, fp

    t1 = time.perf_counter()
    folding = fold(stream(), threshold)
    total = time.perf_counter() - t1 - making
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stories = len(set(folding.story.values()))
    print(
        f"\nscale: {n} synthetic articles (mean {chars / n:.0f} characters), threshold "
        f"{threshold:.2f}, window {WINDOW_TEXT} (about {min(n, 30000)} articles in it)\n"
        f"  fingerprints {fingerprinting:.1f} s + folding {total - fingerprinting:.1f} s = "
        f"{total:.1f} s = {total / n * 10000:.1f} s per 10,000 articles "
        f"(making the articles, {making:.1f} s, not counted)\n"
        f"  {folding.compared} candidate comparisons ({folding.compared / n:.1f} per "
        f"article), {n - stories} folded\n"
        f"  peak RSS {rss_after / 1024:.0f} MB, {(rss_after - rss_before) / 1024:.0f} MB more than "
        "before folding (fingerprints and band index of the articles in the window)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--threshold", type=float, default=CHOSEN)
    parser.add_argument("--examples", type=int, default=10, help="false folds/misses shown")
    parser.add_argument("--scale", type=int, action="append", default=[], metavar="N")
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument(
        "--realizations",
        type=int,
        default=0,
        metavar="N",
        help="also fold the tuning and held-out halves with N other hash functions",
    )
    args = parser.parse_args(argv)

    articles = load(args.data)
    if args.scale:
        for n in args.scale:
            scale(articles, n, args.threshold)
        return 0
    prints = fingerprints(articles)
    tuning, held_out = halves(articles)
    stories = {a.cluster for a in articles}
    templated = {a.cluster for a in articles if a.kind == "template"}
    print(
        f"labelled set: {len(articles)} articles, {len(stories)} stories "
        f"({len(stories) - len(templated)} retold stories, {len(templated)} template "
        f"stories), languages: "
        + ", ".join(f"{lang} {sum(a.lang == lang for a in articles)}" for lang in ("ko", "en"))
    )
    print(
        f"core: shingles {dedup.DENSE_SHINGLE_SIZE} (Hangul/CJK) / {dedup.SHINGLE_SIZE} (other "
        f"scripts), sketch {dedup.SKETCH_SIZE} = {dedup.BANDS} "
        f"bands x {dedup.ROWS} rows, window {WINDOW_TEXT}"
    )
    if not args.no_sweep:
        sweep(tuning, held_out, prints)
    report("tuning half", tuning, prints, args.threshold, args.examples)
    report("held-out half", held_out, prints, args.threshold, args.examples)
    report("whole set", articles, prints, args.threshold, args.examples)
    if args.realizations:
        grid = [0.18, 0.20, 0.22, 0.24, 0.26, 0.30]
        for name, part in (("tuning half", tuning), ("held-out half", held_out)):
            print(f"\n{name}:", end="")
            realizations(part, args.realizations, grid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
