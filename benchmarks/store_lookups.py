"""What three store look-ups cost as the store grows, with their indexes and without:
moving a story's keys when an article placed by its words joins another
(``settling.MOVE_KEYS``), finding the earliest article holding a copy's text
(``story_index.holder_sql``), and taking the oldest articles for retention when none is
old enough (``retention._OLDEST``).

    .venv/bin/python benchmarks/store_lookups.py [--sizes 1000 10000 50000] [--calls 200]

Each store (SQLite) is filled with articles from 50 sources over 90 days, each with a
text hash and story keys as a save writes them (no sketch or words: placing is not
measured here). A copy of the file has the indexes dropped. Each look-up is made
``--calls`` times on each file, alternately, inside a transaction rolled back; the median
is printed in microseconds, with the ratio of without to with.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.dedup import Fingerprint
from aggregator.model import Article, Source, story_id
from aggregator.store import Store, retention, settling, story_index
from aggregator.store.story_index import FoldPolicy

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SOURCES = 50
DAYS = 90
BATCH = 500
INDEXES = ("ix_story_keys_story_id", "ix_articles_text_hash", "ix_articles_first_seen")


def fill(path: Path, size: int) -> list[tuple[str, str]]:
    """A store of ``size`` articles; returns each article's story and text hash."""
    rng = random.Random(size)
    sources = [
        Source(id=f"s{i:02d}", url=f"https://s{i:02d}.example/rss", name=f"S{i}", home="")
        for i in range(SOURCES)
    ]
    held: list[tuple[str, str]] = []
    with Store.open(f"sqlite:///{path}") as store:
        store.sync_sources(sources)
        for i, source in enumerate(sources):
            batch = []
            for n in range(size // SOURCES):
                guid = f"{source.id}-{n}"
                article = Article(
                    title=f"Report {n} from {source.id}",
                    categories=(),
                    excerpt="What happened.",
                    feature_text="",
                    image=None,
                    body=f"<p>{'Body text of the report. ' * 40}</p>",
                    date=NOW - timedelta(minutes=rng.randrange(0, DAYS * 24 * 60)),
                    source=source.id,
                    source_url=f"https://{source.id}.example/",
                    canonical_url=f"https://{source.id}.example/{n}",
                    id=story_id(source.id, guid),
                )
                text_hash = f"{i:02d}{n:08d}"
                batch.append((guid, article, Fingerprint(text_hash, (), frozenset())))
                held.append((article.id, text_hash))
                if len(batch) == BATCH:
                    store.save_articles(source.id, batch, NOW, FoldPolicy())
                    batch = []
            if batch:
                store.save_articles(source.id, batch, NOW, FoldPolicy())
    return held


def timed(conn: sqlite3.Connection, statement: str, params: tuple[object, ...]) -> float:
    conn.execute("BEGIN")
    started = time.perf_counter()
    conn.execute(statement, params).fetchall()
    spent = time.perf_counter() - started
    conn.execute("ROLLBACK")
    return spent


def measure(size: int, calls: int, work: Path) -> dict[str, tuple[float, float]]:
    indexed, bare = work / f"indexed-{size}.db", work / f"bare-{size}.db"
    held = fill(indexed, size)
    shutil.copyfile(indexed, bare)
    with sqlite3.connect(bare) as conn:
        for name in INDEXES:
            conn.execute(f"DROP INDEX {name}")
    # As the store binds a moment on SQLite (``Statements.moment``): every article was
    # first seen at NOW, so none is old enough.
    cutoff = (NOW - timedelta(days=DAYS + 1)).replace(tzinfo=None).isoformat(" ", "microseconds")
    rng = random.Random(0)
    looks: dict[str, Callable[[], tuple[str, tuple[object, ...]]]] = {
        "moving a story's keys (a join)": lambda: (settling.MOVE_KEYS, ("x", rng.choice(held)[0])),
        "the earliest holder of a text (a copy)": lambda: (
            story_index.holder_sql("hash"),
            (rng.choice(held)[1],),
        ),
        "the oldest articles, none old enough (a prune)": lambda: (
            retention._OLDEST,
            (cutoff, cutoff, 500),
        ),
    }
    found: dict[str, tuple[float, float]] = {}
    with (
        sqlite3.connect(indexed, isolation_level=None) as with_indexes,
        sqlite3.connect(bare, isolation_level=None) as without,
    ):
        for label, look in looks.items():
            spent: dict[bool, list[float]] = {True: [], False: []}
            for k in range(calls):
                statement, params = look()
                for has in (True, False) if k % 2 else (False, True):
                    spent[has].append(timed(with_indexes if has else without, statement, params))
            found[label] = (statistics.median(spent[True]), statistics.median(spent[False]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--calls", type=int, default=200)
    options = parser.parse_args()
    print("| stored articles | look-up | with the index | without | ratio |")
    print("| ---: | --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="store-lookups-") as name:
        for size in options.sizes:
            for label, (indexed, bare) in measure(size, options.calls, Path(name)).items():
                print(
                    f"| {size:,} | {label} | {indexed * 1e6:.0f} µs | {bare * 1e6:.0f} µs "
                    f"| {bare / indexed:.0f}× |"
                )


if __name__ == "__main__":
    main()
