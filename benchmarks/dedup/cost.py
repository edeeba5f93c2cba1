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
    .venv/bin/python benchmarks/dedup/cost.py --retold 0.25
    .venv/bin/python benchmarks/dedup/cost.py --retold 0.25 --keep /tmp/store.db  # again
    .venv/bin/python benchmarks/dedup/cost.py --retold 0.25 --pass 100 --probes 2000

Probes fold with nothing stored unless ``--retold`` makes that share of them retell an
article stored the same day (its body under a new headline, half an hour later): they
join its story, and what a save checks on joining one (the story's members and what
they tell together, ``story_index._told``) is timed too, with the members it reads.

On SQLite it also counts the pages each save appends to the write-ahead log
(``LogPages``): each is written to the log at a commit and back into the file at a
checkpoint, the most of what a save costs beyond its CPU.

With ``--pass N`` the probes are saved N at a time as a fetch pass saves them (each
source's in one save, without placing them, then all placed together by ``settle``, 100
to a transaction), and the time per article is a pass's divided by N (one at a time, a
save commits twice: the article, then its placing). Pages are counted one at a time only.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import struct
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import evaluate  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from aggregator import words  # noqa: E402
from aggregator.dedup import Fingerprint  # noqa: E402
from aggregator.digest import MIN_SIMILAR_LETTERS  # noqa: E402
from aggregator.model import Article, Source, story_id  # noqa: E402
from aggregator.sanitize import html_to_text  # noqa: E402
from aggregator.store import Store, story_index  # noqa: E402
from aggregator.store.story_index import FoldPolicy  # noqa: E402
from aggregator.words import Words, words_of  # noqa: E402

EVAL_SET = Path(__file__).resolve().parent / "eval" / "stories.jsonl"
SOURCES = 20
BATCH = 100
NOW = datetime(2026, 12, 1, tzinfo=UTC)


#: What of a save is timed apart: the word look-up, reading the candidates' stored
#: columns, comparing them, and writing the article's postings (``story_index``).
PARTS = {
    "word look-up": "_word_candidates",
    "reading the candidates": "_texts",
    "comparing them": "verdicts",
    "writing the postings": "index_words",
    "checking the story joined": "_tells_the_story",
    "stories told alike": "_stories_told_alike",
    "moving the postings": "move_words",
}


class Parts:
    """The time a save spends in each of ``PARTS``, by whether it has content words:
    ``story_index``'s functions wrapped for the probes only."""

    def __init__(self) -> None:
        self.words = True
        self.spent: dict[bool, dict[str, float]] = {True: {}, False: {}}
        self._originals: dict[str, Callable[..., Any]] = {}
        self._inside = False

    def install(self) -> None:
        for label, name in PARTS.items():
            # A version of the store without the part (run on older code) times it as 0.
            original = getattr(story_index, name, None)
            if original is not None:
                self._originals[name] = original
                setattr(story_index, name, self._timed(label, original))

    def uninstall(self) -> None:
        for name, original in self._originals.items():
            setattr(story_index, name, original)

    def _timed(self, label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            # A part called inside another (the members a check reads) is the outer's.
            if self._inside:
                return original(*args, **kwargs)
            self._inside = True
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._inside = False
                spent = self.spent[self.words]
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t

        return timed

    def report(self, probes: int, mean: dict[bool, float], compared: str = "words") -> None:
        print(f"  of which, mean per article (without {compared} / with / added):")
        rest = dict(mean)
        for label in PARTS:
            found = {kept: self.spent[kept].get(label, 0.0) / probes * 1000 for kept in mean}
            for kept in rest:
                rest[kept] -= found[kept]
            print(f"    {label + ':':28}{_three(found)}")
        print(f"    {'the rest:':28}{_three(rest)} (the article's row, keys, sketch, commit)")


def _three(found: dict[bool, float]) -> str:
    return f"{found[False]:.2f} / {found[True]:.2f} / {found[True] - found[False]:+.2f} ms"


class Stores:
    """The store the articles are saved in, and a copy of it: SQLite files in ``work``,
    or two databases on a PostgreSQL ``server`` (the copy made with ``CREATE DATABASE …
    TEMPLATE``), dropped at the end."""

    NAMES = ("aggregator_cost_words", "aggregator_cost_bare")

    def __init__(self, server: str | None, work: Path) -> None:
        self.server = make_url(server) if server else None
        self.work = work
        self.kind = "PostgreSQL" if server else "SQLite"

    def __enter__(self) -> Stores:
        self._drop()
        if self.server is not None:
            self._admin(f"CREATE DATABASE {self.NAMES[0]}")
        return self

    def __exit__(self, *_: object) -> None:
        self._drop()

    def first(self) -> str:
        return self._url(self.NAMES[0])

    def take(self, kept: Path) -> None:
        """Start the first store as a copy of a SQLite file kept before."""
        shutil.copyfile(kept, self.work / f"{self.NAMES[0]}.db")

    def keep(self, kept: Path) -> None:
        """Keep a copy of the first store (closed by now) for later runs."""
        shutil.copyfile(self.work / f"{self.NAMES[0]}.db", kept)

    def copy(self) -> str:
        """A copy of the first store (closed by now)."""
        if self.server is None:
            shutil.copyfile(self.work / f"{self.NAMES[0]}.db", self.work / f"{self.NAMES[1]}.db")
        else:
            self._admin(f"CREATE DATABASE {self.NAMES[1]} TEMPLATE {self.NAMES[0]}")
        return self._url(self.NAMES[1])

    def _url(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.work / name}.db"
        return self.server.set(database=name).render_as_string(hide_password=False)

    def _drop(self) -> None:
        if self.server is not None:
            for name in self.NAMES:
                self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        import psycopg

        assert self.server is not None
        server = self.server.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(statement)


class LogPages:
    """Pages a SQLite store's commits append to its write-ahead log, read from the
    log's index (``<file>-shm``): the header's ``mxFrame``, the last valid frame, as
    laid out in SQLite's file format (a 32-bit integer in the machine's byte order at
    offset 16). Every page a transaction changes is appended once per commit, and
    written back into the file at the next checkpoint. A checkpoint lets the next
    writer start the log over (the count falls): the frames written before it in the
    same save are not counted, once in about 60 saves."""

    def __init__(self, url: str) -> None:
        database = make_url(url).database
        self.index = Path(f"{database}-shm") if database else None
        self.pages = 0

    def read(self) -> int:
        if self.index is None or not self.index.exists():
            return 0
        with self.index.open("rb") as index:
            header = index.read(20)
        return struct.unpack("=I", header[16:20])[0] if len(header) == 20 else 0

    def count(self, before: int) -> None:
        after = self.read()
        self.pages += after - before if after >= before else after


def store_all(
    store: Store,
    stored: Sequence[evaluate.Article],
    prints: dict[str, Fingerprint],
    policy: FoldPolicy,
) -> None:
    """Save the stored articles, ``BATCH`` of a source's at a time."""
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


def save_probes(
    store: Store,
    probes: Sequence[evaluate.Article],
    prints: dict[str, Fingerprint],
    words: bool,
    policy: FoldPolicy,
) -> int:
    """Save ``probes`` (without their content words unless ``words``) as the service
    does: one alone as ``update`` saves it, settled in its own transaction after; more as
    a fetch pass does, each source's in one save, and all of them settled at the end.
    Returns how many folded into a story told before."""
    by_source: dict[str, list[tuple[str, Article, Fingerprint]]] = {}
    for synthetic in probes:
        source, guid, article = as_article(synthetic)
        fingerprint = prints[synthetic.id]
        entry = fingerprint if words else replace(fingerprint, words=Words())
        by_source.setdefault(source, []).append((guid, article, entry))
    if len(probes) == 1:
        ((source, batch),) = by_source.items()
        return store.save_articles(source, batch, NOW, policy).folded
    folded = sum(
        store.save_articles(source, batch, NOW, policy, settle=False).folded
        for source, batch in by_source.items()
    )
    return folded + len(store.settle(policy, NOW))


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
    replaced), in order of publication: all of them from an empty cache, and the later
    half after the earlier half has filled it, as a service's long-lived digest workers
    keep it. The synthetic articles replace half their Korean words with random
    syllables, which the cache never meets again."""
    dated = [(a.published, a.title, evaluate.body_text(a.body)) for a in base if a.lang == "ko"]
    for line in EVAL_SET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["lang"] == "ko":
            published = datetime.fromisoformat(row["published"])
            dated.append((published, row["title"], html_to_text(row["body"])))
    dated.sort(key=lambda found: found[0])
    texts = [(title, body) for _, title, body in dated]
    words._analyzed.clear()
    cold = _reading(texts)
    words._analyzed.clear()
    earlier, later = texts[: len(texts) // 2], texts[len(texts) // 2 :]
    for title, body in earlier:
        words_of(title, body)
    seen = set(words._analyzed)
    spaced = [word for title, body in later for word in _read_spaced(title, body)]
    warm = _reading(later)
    new = len(set(spaced) - seen)
    print(
        f"reading the words of {len(texts)} Korean labelled articles in order, per article: "
        f"{cold} from an empty cache; the later {len(later)} after the earlier filled it: "
        f"{warm} ({new / len(spaced):.2f} of their spaced words not seen before)"
    )
    words._analyzed.clear()


def _reading(texts: Sequence[tuple[str, str]]) -> str:
    """Wall and CPU time reading the words of each text, per text: the analyzer works on
    two threads, so a process pays more CPU than the wall clock shows."""
    wall, cpu = time.perf_counter(), time.process_time()
    for title, body in texts:
        words_of(title, body)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return f"{wall / len(texts) * 1000:.2f} ms ({cpu / len(texts) * 1000:.2f} ms CPU)"


def _read_spaced(title: str, body: str) -> list[str]:
    """The spaced words ``words_of`` reads of a text: its headline and lead."""
    lead = " ".join(body.split(None, words.LEAD_WORDS)[: words.LEAD_WORDS])
    return [w for text in (title, lead) for w in unicodedata.normalize("NFKC", text).split()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, default=50_000)
    parser.add_argument("--probes", type=int, default=400)
    parser.add_argument(
        "--retold",
        type=float,
        default=0.0,
        help="the share of probes that retell an article stored that day and join its story",
    )
    parser.add_argument(
        "--pass",
        dest="pass_size",
        type=int,
        default=1,
        metavar="N",
        help="save the probes N at a time as a fetch pass does (each source's in one save, "
        "settled together at the end), timed per article; 1: one at a time, as update does",
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        help="a PostgreSQL server to store in (postgresql://user@host/db; two databases "
        "are created beside db and dropped after), instead of SQLite files",
    )
    parser.add_argument(
        "--keep",
        metavar="FILE",
        type=Path,
        help="SQLite only: keep the built store in FILE, or start from a copy of FILE if "
        "it exists (the same --stored; a store built by other code is used as it is), so "
        "that versions of the code are timed on one store, a run after another",
    )
    parser.add_argument(
        "--joins-from",
        type=float,
        metavar="SCORE",
        help="time what keeping near misses for a reader (dedup.reader.joins_from) adds: "
        "both copies place by their words, one keeping near misses from SCORE",
    )
    options = parser.parse_args()
    if options.keep and options.server:
        parser.error("--keep keeps a SQLite file; it does not go with --server")
    reuse = options.keep is not None and options.keep.exists()
    base = evaluate.load()
    made = list(evaluate.synthetic(base, options.stored + options.probes))
    # Probes are spread among the stored articles' last day, not after them all.
    probes = made[-options.probes :]
    stored = made[: -options.probes]
    day = min(10_000, len(stored))
    every = round(1 / options.retold) if options.retold else 0
    for k, probe in enumerate(probes):
        anchor = stored[len(stored) - day + (k * day) // len(probes)]
        if every and k % every == 0:
            # The same body under a new headline: one story by n-grams.
            headline = anchor.title.split(" ", 1)[-1]
            later = anchor.published + timedelta(minutes=30)
            probes[k] = replace(anchor, id=probe.id, title=headline, published=later)
        else:
            probes[k] = replace(probe, published=anchor.published)
    made = [*stored, *probes]

    words_of("한국어", "분석기를 미리 불러 둔다")  # the analyzer loads once per process: not timed
    real_text(base)
    reading: dict[str, list[float]] = {"ko": [], "en": []}
    reading_cpu: dict[str, float] = {"ko": 0.0, "en": 0.0}
    prints: dict[str, Fingerprint] = {}
    started = time.perf_counter()
    for synthetic in probes if reuse else made:
        body = evaluate.body_text(synthetic.body)
        # First, to time it apart (the fingerprint reads them again, from the cache).
        t, cpu = time.perf_counter(), time.process_time()
        words_of(synthetic.title, body)
        reading[synthetic.lang].append(time.perf_counter() - t)
        reading_cpu[synthetic.lang] += time.process_time() - cpu
        fingerprint = Fingerprint.of(synthetic.title, body, min_letters=MIN_SIMILAR_LETTERS)
        prints[synthetic.id] = fingerprint
    print(
        f"{len(prints):,} articles fingerprinted in {time.perf_counter() - started:.0f} s; "
        "reading content words (headline and lead), per article: "
        + ", ".join(
            f"{lang} {statistics.mean(times) * 1000:.2f} ms mean, "
            f"{statistics.median(times) * 1000:.2f} ms median "
            f"({reading_cpu[lang] / len(times) * 1000:.2f} ms CPU mean)"
            for lang, times in reading.items()
        )
    )

    policy = FoldPolicy()
    # With --joins-from, "with words" keeps near misses and "by sketch alone" places by
    # its words too, without: what is timed apart is what keeping them adds.
    joins = options.joins_from is not None
    policies = {True: replace(policy, joins_from=options.joins_from), False: policy}
    sources = [
        Source(id=f"s{i}", url=f"https://s{i}.example/rss", name=f"S{i}", home="")
        for i in range(SOURCES)
    ]
    parts = Parts()
    with tempfile.TemporaryDirectory() as work, Stores(options.server, Path(work)) as stores:
        started = time.perf_counter()
        if reuse:
            stores.take(options.keep)
        # A kept store is opened too: one kept by older code is brought up to date.
        with Store.open(stores.first()) as store:
            store.sync_sources(sources)
            if not reuse:
                store_all(store, stored, prints, policy)
        if reuse:
            print(f"{len(stored):,} articles stored: a copy of {options.keep}")
        else:
            print(
                f"{len(stored):,} articles stored in {stores.kind} "
                f"in {time.perf_counter() - started:.0f} s"
            )
            if options.keep:
                stores.keep(options.keep)
        copy = stores.copy()

        times: dict[bool, list[float]] = {True: [], False: []}
        folds: dict[bool, int] = {True: 0, False: 0}
        # This process holds every article's fingerprint (50,400 of them, millions of
        # objects): left to the collector, its full passes over them landed in the saves
        # that make the most objects (with words: 1.2 ms more in reading the candidates,
        # by the mean). The service freezes what survives (``scheduler``), and so does
        # this, before it times.
        gc.collect()
        gc.freeze()
        parts.install()
        logs = {True: LogPages(stores.first()), False: LogPages(copy)}
        with Store.open(stores.first()) as full, Store.open(copy) as bare:
            for k, start in enumerate(range(0, len(probes), options.pass_size)):
                chunk = probes[start : start + options.pass_size]
                # Alternate which goes first, so neither always finds the caches warm.
                for words in (True, False) if k % 2 else (False, True):
                    store = full if words else bare
                    parts.words = words
                    logged = logs[words].read()
                    t = time.perf_counter()
                    folds[words] += save_probes(
                        store, chunk, prints, words or joins, policies[words]
                    )
                    times[words].append((time.perf_counter() - t) / len(chunk))
                    logs[words].count(logged)
        parts.uninstall()
    labels = (
        (
            "by their words:",
            f"keeping near misses from {options.joins_from}:",
            "added by keeping them:",
        )
        if joins
        else ("by sketch alone:", "with content words too:", "added by the words:")
    )
    width = max(len(label) for label in labels) + 1
    mean = {words: statistics.mean(found) * 1000 for words, found in times.items()}
    median = {words: statistics.median(found) * 1000 for words, found in times.items()}
    print(
        f"saving one article with {len(stored):,} stored ({options.probes} probes, "
        + ("alternating" if options.pass_size == 1 else f"passes of {options.pass_size}")
        + "):\n"
        f"  {labels[0]:<{width}}{mean[False]:.2f} ms mean, {median[False]:.2f} ms median"
        f" ({folds[False]} folded)\n"
        f"  {labels[1]:<{width}}{mean[True]:.2f} ms mean, {median[True]:.2f} ms median"
        f" ({folds[True]} folded)\n"
        f"  {labels[2]:<{width}}{mean[True] - mean[False]:.2f} ms mean, "
        f"{median[True] - median[False]:.2f} ms median"
    )
    parts.report(len(probes), mean, "near misses" if joins else "words")
    # A pass writes thousands of pages: the log is checkpointed and started over within
    # most passes, and the frames before that are not seen (``LogPages``).
    if stores.kind == "SQLite" and options.pass_size == 1:
        pages = {words: log.pages / len(probes) for words, log in logs.items()}
        print(
            "  pages appended to the write-ahead log per article (each written back into the "
            f"file at a checkpoint): {pages[False]:.0f} / {pages[True]:.0f} / "
            f"{pages[True] - pages[False]:+.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
