"""What folding by content words adds per article, with 50,000 articles stored.

Two costs: reading an article's content words (in the digest, beside the fingerprint),
and placing it (in the store's save transaction: the word index look-up, the candidates'
words read and compared, the article's own postings written).

Synthetic articles are made from the labelled set in ``data/`` (``evaluate.synthetic``:
titles and paragraphs mixed, names, numbers and a share of words replaced; about 10,000
a day, Korean and English). ``--stored`` of them go into a SQLite store; the file is
copied, and then ``--probes`` more are saved, alternately, into one copy with their
content words and into the other without (``Fingerprint.words`` empty: placed by the
sketch alone, as before, and no postings written). The difference is what the words add.

    .venv/bin/python benchmarks/dedup/cost.py                     # 50,000 stored
    .venv/bin/python benchmarks/dedup/cost.py --stored 10000 --probes 200
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import evaluate  # noqa: E402

from aggregator import words  # noqa: E402
from aggregator.dedup import Fingerprint  # noqa: E402
from aggregator.digest import MIN_SIMILAR_LETTERS  # noqa: E402
from aggregator.model import Article, Source, story_id  # noqa: E402
from aggregator.sanitize import html_to_text  # noqa: E402
from aggregator.store import Store  # noqa: E402
from aggregator.store.story_index import FoldPolicy  # noqa: E402
from aggregator.words import Words, words_of  # noqa: E402

EVAL_SET = Path(__file__).resolve().parent / "eval" / "stories.jsonl"
SOURCES = 20
BATCH = 100
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def as_article(synthetic: evaluate.Article) -> tuple[str, str, Article]:
    source = f"s{int(synthetic.id[1:]) % SOURCES}"
    body = evaluate.body_text(synthetic.body)
    article = Article(
        title=synthetic.title,
        categories=(),
        excerpt=body[:100],
        feature_text="",
        image=None,
        body=f"<p>{body}</p>",
        date=synthetic.published.astimezone(UTC),
        source=source,
        source_url=f"https://{source}.example/",
        canonical_url=f"https://{source}.example/{synthetic.id}",
        id=story_id(source, synthetic.id),
    )
    return source, synthetic.id, article


def real_text(base: Sequence[evaluate.Article]) -> None:
    """Reading the Korean words of both labelled sets' articles as written (no word
    replaced), in order, from an empty cache: the synthetic articles replace half their
    Korean words with random syllables, which the cache never meets again."""
    texts = [(a.title, evaluate.body_text(a.body)) for a in base if a.lang == "ko"]
    for line in EVAL_SET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["lang"] == "ko":
            texts.append((row["title"], html_to_text(row["body"])))
    words._analyzed.clear()
    started = time.perf_counter()
    for title, body in texts:
        words_of(title, body)
    took = (time.perf_counter() - started) / len(texts) * 1000
    print(f"reading the words of {len(texts)} Korean labelled articles in order: {took:.2f} ms")
    words._analyzed.clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, default=50_000)
    parser.add_argument("--probes", type=int, default=400)
    options = parser.parse_args()
    base = evaluate.load()
    made = list(evaluate.synthetic(base, options.stored + options.probes))
    # Probes are spread among the stored articles' last day, not after them all.
    probes = made[-options.probes :]
    stored = made[: -options.probes]
    day = min(10_000, len(stored))
    for k, probe in enumerate(probes):
        anchor = stored[len(stored) - day + (k * day) // len(probes)]
        probes[k] = replace(probe, published=anchor.published)

    words_of("한국어", "분석기를 미리 불러 둔다")  # the analyzer loads once per process: not timed
    real_text(base)
    reading: dict[str, list[float]] = {"ko": [], "en": []}
    prints: dict[str, Fingerprint] = {}
    started = time.perf_counter()
    for synthetic in made:
        body = evaluate.body_text(synthetic.body)
        # First, to time it apart (the fingerprint reads them again, from the cache).
        t = time.perf_counter()
        words_of(synthetic.title, body)
        reading[synthetic.lang].append(time.perf_counter() - t)
        fingerprint = Fingerprint.of(synthetic.title, body, min_letters=MIN_SIMILAR_LETTERS)
        prints[synthetic.id] = fingerprint
    print(
        f"{len(made):,} articles fingerprinted in {time.perf_counter() - started:.0f} s; "
        "reading content words (headline and lead), per article: "
        + ", ".join(
            f"{lang} {statistics.mean(times) * 1000:.2f} ms mean, "
            f"{statistics.median(times) * 1000:.2f} ms median"
            for lang, times in reading.items()
        )
    )

    with tempfile.TemporaryDirectory() as work:
        with_words = Path(work) / "with-words.db"
        sources = [
            Source(id=f"s{i}", url=f"https://s{i}.example/rss", name=f"S{i}", home="")
            for i in range(SOURCES)
        ]
        policy = FoldPolicy()
        started = time.perf_counter()
        with Store.open(f"sqlite:///{with_words}") as store:
            store.sync_sources(sources)
            by_source: dict[str, list[tuple[str, Article, Fingerprint]]] = {}
            for synthetic in stored:
                source, guid, article = as_article(synthetic)
                batch = by_source.setdefault(source, [])
                batch.append((guid, article, prints[synthetic.id]))
                if len(batch) == BATCH:
                    store.save_articles(source, batch, NOW, policy)
                    batch.clear()
            for source, batch in by_source.items():
                store.save_articles(source, batch, NOW, policy)
        print(f"{len(stored):,} articles stored in {time.perf_counter() - started:.0f} s")
        without_words = Path(work) / "without-words.db"
        shutil.copyfile(with_words, without_words)

        times: dict[bool, list[float]] = {True: [], False: []}
        folds: dict[bool, int] = {True: 0, False: 0}
        with (
            Store.open(f"sqlite:///{with_words}") as full,
            Store.open(f"sqlite:///{without_words}") as bare,
        ):
            for k, synthetic in enumerate(probes):
                source, guid, article = as_article(synthetic)
                fingerprint = prints[synthetic.id]
                # Alternate which goes first, so neither always finds the caches warm.
                for words in (True, False) if k % 2 else (False, True):
                    store = full if words else bare
                    entry = fingerprint if words else replace(fingerprint, words=Words())
                    t = time.perf_counter()
                    result = store.save_articles(source, [(guid, article, entry)], NOW, policy)
                    times[words].append(time.perf_counter() - t)
                    folds[words] += result.folded
    mean = {words: statistics.mean(found) * 1000 for words, found in times.items()}
    median = {words: statistics.median(found) * 1000 for words, found in times.items()}
    print(
        f"saving one article with {len(stored):,} stored ({options.probes} probes, "
        "alternating):\n"
        f"  by sketch alone:        {mean[False]:.2f} ms mean, {median[False]:.2f} ms median"
        f" ({folds[False]} folded)\n"
        f"  with content words too: {mean[True]:.2f} ms mean, {median[True]:.2f} ms median"
        f" ({folds[True]} folded)\n"
        f"  added by the words:     {mean[True] - mean[False]:.2f} ms mean, "
        f"{median[True] - median[False]:.2f} ms median"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
