"""What a publish costs as the store's history grows: after one new article, and with
nothing new, for stores of 1,000, 10,000 and 50,000 articles (SQLite).

    .venv/bin/python benchmarks/publish_history.py [--sizes 1000 10000 50000] [--repeat 5]

Each store is filled with articles from 50 sources over 90 days (a fifth of them retold by
another source under the same URL, so stories have several members), published once in
full, and then measured: ``pipeline.publish_all`` right after one new article is stored
(the newest of all, so every channel it matches and the index page change; median and
range of ``--repeat`` runs) and with nothing new. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator import pipeline
from aggregator.config import parse_config
from aggregator.model import Article, story_id
from aggregator.store import Store

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SOURCES = 50
DAYS = 90

CONFIG = """\
site: {{title: Bench, link: 'https://news.example/', timezone: Asia/Seoul}}
storage: sqlite:///{directory}/db.sqlite
output: {{dir: {directory}/public, posts_dir: {directory}/_posts}}
sources:
{sources}
channels:
  - {{id: all, title: All}}
  - {{id: ai, title: AI, keywords: [AI, 인공지능], limit: 20}}
  - {{id: first, title: First outlets, sources: [s00, s01, s02]}}
"""


def make_article(rng: random.Random, source: str, n: int) -> tuple[str, Article]:
    guid = f"{source}-{n}"
    shared = rng.random() < 0.2
    topic = rng.choice(["AI", "인공지능", "rates", "storm", "election", "match"])
    return guid, Article(
        title=f"{topic} report {n} from {source}",
        categories=(rng.choice(["World", "Tech", "Sports"]),),
        excerpt=f"What happened in report {n}, in two sentences. " * 2,
        feature_text=f"What happened in report {n}.",
        image=f"https://{source}.example/img/{n}.jpg",
        body=f"<p>{'Body text of the report. ' * 40}</p>",
        date=NOW - timedelta(minutes=rng.randrange(0, DAYS * 24 * 60)),
        source=source,
        source_url=f"https://{source}.example/",
        canonical_url=f"https://wire.example/{n // 3}"
        if shared
        else f"https://{source}.example/{n}",
        id=story_id(source, guid),
    )


def filled_store(directory: Path, size: int):  # type: ignore[no-untyped-def]
    sources = "\n".join(
        f"  - {{id: s{i:02d}, url: 'https://s{i:02d}.example/rss'}}" for i in range(SOURCES)
    )
    settings = parse_config(CONFIG.format(directory=directory, sources=sources), base_dir=directory)
    store = Store.open(settings.storage)
    store.sync_sources(settings.sources)
    rng = random.Random(size)
    per_source = size // SOURCES
    for i in range(SOURCES):
        source = f"s{i:02d}"
        batch = [make_article(rng, source, n) for n in range(per_source)]
        store.save_articles(source, batch, NOW)
    return settings, store


def seconds(action) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(size: int, repeat: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="publish-history-") as name:
        directory = Path(name)
        settings, store = filled_store(directory, size)
        try:
            first = seconds(lambda: pipeline.publish_all(settings, store, NOW))
            after_one = []
            rng = random.Random(1)
            for n in range(repeat):
                # The newest article of all: it enters every channel it matches.
                guid, new = make_article(rng, "s00", 10_000_000 + n)
                new = replace(new, date=NOW + timedelta(minutes=n + 1))
                store.save_articles("s00", [(guid, new)], NOW)
                after_one.append(seconds(lambda: pipeline.publish_all(settings, store, NOW)))
            unchanged = [
                seconds(lambda: pipeline.publish_all(settings, store, NOW)) for _ in range(repeat)
            ]
        finally:
            store.close()
    return {
        "size": size,
        "first": first,
        "after_one": after_one,
        "unchanged": unchanged,
    }


def spread(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{statistics.median(ms):.0f} ms [{min(ms):.0f}–{max(ms):.0f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = [measure(size, args.repeat) for size in args.sizes]
    base = statistics.median(rows[0]["after_one"])  # type: ignore[arg-type]
    print(
        "| stored articles | first publish | after one new article "
        "| ratio to smallest | nothing new |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        after = statistics.median(row["after_one"])  # type: ignore[arg-type]
        print(
            f"| {row['size']:,} | {row['first']:.2f} s | {spread(row['after_one'])} "  # type: ignore[arg-type]
            f"| {after / base:.2f}× | {spread(row['unchanged'])} |"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    main()
