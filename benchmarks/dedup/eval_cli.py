"""Folding measured through the real command on the evaluation set (``eval/``).

Each outlet of one half of ``eval/stories.jsonl`` becomes an RSS file; a ``feeds.yaml``
lists them as ``file://`` sources in a shuffled order; ``aggregator fetch --all`` stores
them, and the folds are read back from the store. Pairs of articles are scored: precision
and recall overall, by language and by how the later telling was made (``kind``; a pair
with an independently written telling counts as independent), and how many hard
negatives and follow-ups were folded into anything.

    .venv/bin/python benchmarks/dedup/eval_cli.py                  # the tuning half
    .venv/bin/python benchmarks/dedup/eval_cli.py --half heldout   # report figures
    .venv/bin/python benchmarks/dedup/eval_cli.py --runs 3 --threshold 0.15
    .venv/bin/python benchmarks/dedup/eval_cli.py --copies-only   # dedup.independent_reports: false
    .venv/bin/python benchmarks/dedup/eval_cli.py --half heldout --part measured --load 10000

``--load N`` places the stories over a few days among N other articles a day (made from
the older labelled set), as a busy store holds them: the day's words are then common
and rare as in a store that is not empty, and the candidates compete for their places.

Tune on ``tune``; quote ``heldout``.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import math
import random
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from aggregator.cli import main as aggregator_main
from aggregator.model import StoredArticle
from aggregator.same_story import Rarity, Rules, Text, Verdict
from aggregator.store import Store, story_index

HERE = Path(__file__).resolve().parent
SET = HERE / "eval" / "stories.jsonl"
AGGREGATOR = Path(sys.executable).with_name("aggregator")
PAIR_KINDS = ("wire_copy", "headline_trim", "rewrite", "independent")
#: Kinds that must stay apart from the story they resemble (``eval/README.md``).
LOOK_ALIKE_KINDS = ("hard_negative", "follow_up")


def _story_number(row: dict[str, str]) -> int:
    return int(row["story"].split("-")[1])


#: Which stories are scored (``eval/README.md``): all; the first 20 of each language and
#: the first two additions, on which the rules were set; the third addition, written
#: after and measured once as held out before it joined the tune half; the fourth and
#: fifth, held out; the sixth to ninth, the eighteenth, the twenty-first, the
#: twenty-fourth, the thirty-third, the forty-third and the forty-seventh, each measured
#: once as held out, then tune; the tenth to seventeenth, the nineteenth and twentieth,
#: the twenty-second and twenty-third, the twenty-fifth to thirty-second, the
#: thirty-fourth, thirty-fifth, thirty-seventh to thirty-ninth and the forty-first, held
#: out, each measured once on the rules it was written after (from the twenty-fifth on,
#: on the event score); the thirty-sixth, written for tune, its look-alikes as alike as
#: they come; the fortieth, written for tune, its hard negatives naming the story's
#: event in passing; the forty-second, held out, measured once beside a change tried;
#: the forty-fourth, held out, measured once on change 37 and change 36; the
#: forty-fifth, held out, measured once on change 38 and change 37; the forty-sixth,
#: held out, measured once on change 39 and change 38; the forty-eighth, held out,
#: measured once on change 41 and change 40; the forty-ninth, held out, measured once on
#: change 41 (no rule change followed it); the fiftieth, held out, measured once on
#: change 41 with and without the reader; the fifty-first, held out, measured once with
#: the reader splitting; the fifty-second, held out, written after the reader joined
#: near misses and measured once with it; the fifty-third, held out, written after a
#: split took along what joined through it, and measured once with it.
PARTS = {
    "all": lambda row: True,
    "first": lambda row: _story_number(row) < 300,
    "third": lambda row: 300 <= _story_number(row) < 400,
    "fourth": lambda row: 400 <= _story_number(row) < 500,
    "fifth": lambda row: 500 <= _story_number(row) < 600,
    "sixth": lambda row: 600 <= _story_number(row) < 700,
    "seventh": lambda row: 700 <= _story_number(row) < 800,
    "eighth": lambda row: 800 <= _story_number(row) < 900,
    "ninth": lambda row: 900 <= _story_number(row) < 1000,
    "tenth": lambda row: 1000 <= _story_number(row) < 1100,
    "eleventh": lambda row: 1100 <= _story_number(row) < 1200,
    "twelfth": lambda row: 1200 <= _story_number(row) < 1300,
    "thirteenth": lambda row: 1300 <= _story_number(row) < 1400,
    "fourteenth": lambda row: 1400 <= _story_number(row) < 1500,
    "fifteenth": lambda row: 1500 <= _story_number(row) < 1600,
    "sixteenth": lambda row: 1600 <= _story_number(row) < 1700,
    "seventeenth": lambda row: 1700 <= _story_number(row) < 1800,
    "eighteenth": lambda row: 1800 <= _story_number(row) < 1900,
    "nineteenth": lambda row: 1900 <= _story_number(row) < 2000,
    "twentieth": lambda row: 2000 <= _story_number(row) < 2100,
    "twenty-first": lambda row: 2100 <= _story_number(row) < 2200,
    "twenty-second": lambda row: 2200 <= _story_number(row) < 2300,
    "twenty-third": lambda row: 2300 <= _story_number(row) < 2400,
    "twenty-fourth": lambda row: 2400 <= _story_number(row) < 2500,
    "twenty-fifth": lambda row: 2500 <= _story_number(row) < 2600,
    "twenty-sixth": lambda row: 2600 <= _story_number(row) < 2700,
    "twenty-seventh": lambda row: 2700 <= _story_number(row) < 2800,
    "twenty-eighth": lambda row: 2800 <= _story_number(row) < 2900,
    "twenty-ninth": lambda row: 2900 <= _story_number(row) < 3000,
    "thirtieth": lambda row: 3000 <= _story_number(row) < 3100,
    "thirty-first": lambda row: 3100 <= _story_number(row) < 3200,
    "thirty-second": lambda row: 3200 <= _story_number(row) < 3300,
    "thirty-third": lambda row: 3300 <= _story_number(row) < 3400,
    "thirty-fourth": lambda row: 3400 <= _story_number(row) < 3500,
    "thirty-fifth": lambda row: 3500 <= _story_number(row) < 3600,
    "thirty-sixth": lambda row: 3600 <= _story_number(row) < 3700,
    "thirty-seventh": lambda row: 3700 <= _story_number(row) < 3800,
    "thirty-eighth": lambda row: 3800 <= _story_number(row) < 3900,
    "thirty-ninth": lambda row: 3900 <= _story_number(row) < 4000,
    "fortieth": lambda row: 4000 <= _story_number(row) < 4100,
    "forty-first": lambda row: 4100 <= _story_number(row) < 4200,
    "forty-second": lambda row: 4200 <= _story_number(row) < 4300,
    "forty-third": lambda row: 4300 <= _story_number(row) < 4400,
    "forty-fourth": lambda row: 4400 <= _story_number(row) < 4500,
    "forty-fifth": lambda row: 4500 <= _story_number(row) < 4600,
    "forty-sixth": lambda row: 4600 <= _story_number(row) < 4700,
    "forty-seventh": lambda row: 4700 <= _story_number(row) < 4800,
    "forty-eighth": lambda row: 4800 <= _story_number(row) < 4900,
    "forty-ninth": lambda row: 4900 <= _story_number(row) < 5000,
    "fiftieth": lambda row: 5000 <= _story_number(row) < 5100,
    "fifty-first": lambda row: 5100 <= _story_number(row) < 5200,
    "fifty-second": lambda row: 5200 <= _story_number(row) < 5300,
    "fifty-third": lambda row: 5300 <= _story_number(row) < 5400,
    #: Every part measured so far (with ``--half heldout``, every held-out part).
    "measured": lambda row: _story_number(row) < 5400,
}


@dataclass
class Scores:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else 1.0


#: Days the stories are placed over with ``--load``, and the sources other news comes from.
LOAD_DAYS = 3
OTHER_SOURCES = 40
#: The first of those days.
LOAD_START = datetime(2026, 6, 1, tzinfo=UTC)


def placed_together(rows: list[dict[str, str]], days: int) -> list[dict[str, str]]:
    """The rows with their stories placed over ``days`` days, one after another at even
    spacing, instead of spread over the years they were written for. A story and the
    look-alikes and follow-ups that resemble it move together, keeping their times apart;
    other stories now share their days, as they would on a news day."""
    groups: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for row in rows:
        groups[row["resembles"] or row["story"]].append(row)
    spacing = timedelta(days=days) / max(len(groups), 1)
    placed = []
    for number, key in enumerate(sorted(groups)):
        times = [datetime.fromisoformat(row["published"]) for row in groups[key]]
        for row, published in zip(groups[key], times, strict=True):
            moved = LOAD_START + number * spacing + (published - min(times))
            placed.append({**row, "published": moved.isoformat()})
    return placed


def other_news(per_day: int, days: int) -> list[dict[str, str]]:
    """``per_day`` synthetic articles a day (``evaluate.synthetic``: the older labelled set's
    articles mixed and their names, numbers and a share of words replaced) from a day before
    the stories' first day to a day after their last."""
    sys.path.insert(0, str(HERE))
    import evaluate

    total = per_day * (days + 2)
    step = timedelta(days=1) / per_day if per_day else timedelta(0)
    start = LOAD_START - timedelta(days=1)
    return [
        {
            "id": f"other-{number}",
            "title": made.title,
            "body": "".join(f"<p>{escape(p)}</p>" for p in made.body.split("\n\n")),
            "published": (start + number * step).isoformat(),
        }
        for number, made in enumerate(evaluate.synthetic(evaluate.load(), total))
    ]


def load(half: str) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines()]
    return in_the_past([row for row in rows if row["half"] == half], datetime.now(UTC))


def in_the_past(rows: list[dict[str, str]], now: datetime) -> list[dict[str, str]]:
    """The rows moved back by whole weeks until the latest is a day before ``now``: the
    set holds stories dated after the day it is measured on, and an entry dated in the
    future is dated when fetched instead, which differs from source to source and would
    make the grouping follow the order sources are fetched in. Times apart, weekdays and
    times of day stay as written."""
    latest = max((datetime.fromisoformat(row["published"]) for row in rows), default=now)
    weeks = max(0, math.ceil((latest - now + timedelta(days=1)) / timedelta(weeks=1)))
    if not weeks:
        return rows
    shift = timedelta(weeks=weeks)
    return [
        {**row, "published": (datetime.fromisoformat(row["published"]) - shift).isoformat()}
        for row in rows
    ]


def rss(outlet: str, rows: list[dict[str, str]]) -> str:
    items = "".join(
        f"<item><title>{escape(row['title'])}</title>"
        f"<link>https://outlet{zlib.crc32(outlet.encode())}.example/{row['id']}</link>"
        f"<guid isPermaLink='false'>{row['id']}</guid>"
        f"<pubDate>{_rfc822(row['published'])}</pubDate>"
        f"<description>{escape(row['body'])}</description></item>"
        for row in rows
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(outlet)}</title><link>https://outlet.example/</link>"
        f"<description>{escape(outlet)}</description>{items}</channel></rss>"
    )


def _rfc822(iso: str) -> str:
    from datetime import datetime
    from email.utils import format_datetime

    return format_datetime(datetime.fromisoformat(iso))


def write_sources(
    directory: Path,
    rows: list[dict[str, str]],
    seed: int,
    dedup: list[str],
    others: list[dict[str, str]] | None = None,
) -> Path:
    """Each outlet's articles as an RSS file in ``directory``, listed as sources of a
    feeds.yaml in an order shuffled by ``seed``, with ``dedup`` settings (``key: value``);
    returns the feeds.yaml. ``others`` (other news) come from ``OTHER_SOURCES`` sources of
    their own."""
    by_outlet: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for row in rows:
        by_outlet[row["outlet"]].append(row)
    for number, row in enumerate(others or ()):
        by_outlet[f"other news {number % OTHER_SOURCES}"].append(row)
    outlets = sorted(by_outlet)
    random.Random(seed).shuffle(outlets)
    lines = [
        "storage: sqlite:///data/aggregator.db",
        "output: {dir: public, posts_dir: null}",
        # Other news comes in feeds of hundreds of entries.
        "fetch: {workers: 0, parse_timeout: 600s}",
        "retention: null",
        f"dedup: {{{', '.join(['window: 30d', *dedup])}}}",
        "sources:",
    ]
    for number, outlet in enumerate(outlets):
        feed = directory / f"outlet{number}.xml"
        feed.write_text(rss(outlet, by_outlet[outlet]), encoding="utf-8")
        # Named by the outlet, not by its place in the order: a source keeps its id
        # whichever answers first, and ids break ties.
        source = f"o{zlib.crc32(outlet.encode()):08x}"
        lines.append(f"  - {{id: {source}, url: '{feed.as_uri()}'}}")
    config = directory / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


#: Passes a run makes at most while the reader still reads (``most_per_pass`` each).
READ_PASSES = 5
#: What the reader did in each run (``fetch``'s ``read:`` line), printed with the figures.
READER_LINES: list[str] = []


@dataclass(frozen=True)
class Joined:
    """How an article joined its story, as the store records it: the rule, its score,
    and the article it matched (its id in the set)."""

    rule: str
    score: float | None
    matched: str | None


def run_once(
    rows: list[dict[str, str]],
    seed: int,
    dedup: list[str],
    evidence: bool = False,
    others: list[dict[str, str]] | None = None,
    joined: dict[str, Joined] | None = None,
) -> dict[str, str]:
    """Article id → story id as the store holds them after one ``fetch --all``; with
    ``evidence``, each article that joined a story is printed with the signals it joined by;
    ``joined``, filled with how each article that joined a story joined it.
    ``dedup``: settings beside the configured ones (``key: value``)."""
    with tempfile.TemporaryDirectory() as work:
        directory = Path(work)
        config = write_sources(directory, rows, seed, dedup, others)
        # With a reader, fetched again (nothing new) until it has read what it has to
        # read: each pass reads ``most_per_pass`` at most.
        for _ in range(READ_PASSES):
            done = subprocess.run(
                [str(AGGREGATOR), "-c", str(config), "fetch", "--all"],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise SystemExit(f"fetch failed:\n{done.stderr[-2000:]}")
            read = [line for line in done.stderr.splitlines() if line.startswith("read:")]
            READER_LINES.extend(read)
            if not read:
                break
        with Store.open(f"sqlite:///{directory / 'data' / 'aggregator.db'}") as store:
            stored = list(store.articles())
        if evidence:
            for article in stored:
                if article.fold_evidence:
                    print(article.guid, article.fold_match, article.fold_evidence)
        if joined is not None:
            guid_of = {article.article.id: article.guid for article in stored}
            for article in stored:
                if article.fold_rule:
                    matched = guid_of.get(article.fold_match or "")
                    joined[article.guid] = Joined(article.fold_rule, article.fold_score, matched)
        return {article.guid: article.story_id for article in stored}


def how_folded(row: dict[str, str], joined: dict[str, Joined], of_story: list[str]) -> str:
    """How a look-alike came to share a story: the rule it joined by (a same_event fold
    by its event score's band), or that of a report of another story that joined it, or
    through other members."""
    if row["id"] in joined:
        return _band(joined[row["id"]])
    joiners = [joined[other] for other in of_story if other in joined]
    by_it = [found for found in joiners if found.matched == row["id"]]
    return f"joined by {_band(by_it[0])}" if by_it else "through other members"


def _band(found: Joined) -> str:
    if found.rule != "same_event" or found.score is None:
        return found.rule
    low = next((low for low in (0.95, 0.9, 0.8) if found.score >= low), None)
    return f"same_event {low:.2f}+" if low is not None else "same_event under 0.80"


@dataclass(frozen=True)
class Compared:
    """What ``story_index.verdicts`` is given: an article, its candidates, the rarity its
    words are weighed by, the rules, and the candidates its words nominated (None: all)."""

    new: Text
    candidates: list[Text]
    rarity: Rarity
    rules: Rules
    weighed: Collection[str] | None


def fetch_recording(
    rows: list[dict[str, str]],
    record: Callable[[Compared], None],
    others: list[dict[str, str]] | None = None,
) -> list[StoredArticle]:
    """Fetch ``rows`` (and ``others``, other news) into a new store in this process
    (``aggregator fetch --all``, the sources in their listed order), calling ``record``
    with every article's candidates as the store compares them; the articles stored."""
    original = story_index.verdicts

    def recording(
        new: Text,
        candidates: Iterable[Text],
        rarity: Rarity,
        rules: Rules,
        weighed: Collection[str] | None = None,
    ) -> list[Verdict]:
        listed = list(candidates)
        record(Compared(new, listed, rarity, rules, weighed))
        return original(new, listed, rarity, rules, weighed)

    story_index.verdicts = recording  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as work:
            directory = Path(work)
            config = write_sources(directory, rows, seed=0, dedup=[], others=others)
            aggregator_main(["-c", str(config), "fetch", "--all"], standalone_mode=False)
            with Store.open(f"sqlite:///{directory / 'data' / 'aggregator.db'}") as store:
                return list(store.articles())
    finally:
        story_index.verdicts = original  # type: ignore[assignment]


def score(rows: list[dict[str, str]], stories: dict[str, str]) -> dict[str, Scores]:
    by_id = {row["id"]: row for row in rows}
    scores: dict[str, Scores] = collections.defaultdict(Scores)
    for left, right in itertools.combinations(sorted(by_id), 2):
        a, b = by_id[left], by_id[right]
        same = a["story"] == b["story"]
        folded = stories[left] == stories[right]
        kinds = {a["kind"], b["kind"]}
        kind = "independent" if "independent" in kinds else b["kind"]
        groups = ["all", a["lang"] if a["lang"] == b["lang"] else "mixed"]
        if same:
            groups += [kind, f"{kind}/{a['lang']}"]
        for group in groups:
            if same and folded:
                scores[group].true_positive += 1
            elif same:
                scores[group].false_negative += 1
            elif folded:
                scores[group].false_positive += 1
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("tune", "heldout"), default="tune")
    parser.add_argument("--runs", type=int, default=3, help="source orders tried")
    parser.add_argument("--threshold", type=float, help="dedup.threshold (default: as configured)")
    parser.add_argument(
        "--event-score", type=float, help="dedup.event_score (default: as configured)"
    )
    parser.add_argument(
        "--copies-only",
        action="store_true",
        help="dedup.independent_reports: false (fold only texts sharing their wording)",
    )
    parser.add_argument(
        "--show", action="store_true", help="list the pairs missed and folded wrongly (tune only)"
    )
    parser.add_argument(
        "--evidence",
        action="store_true",
        help="print each fold's matched article and signals (tune only)",
    )
    parser.add_argument(
        "--part",
        choices=sorted(PARTS),
        default="all",
        help="score only these stories' articles (the half's are fetched together)",
    )
    parser.add_argument(
        "--load",
        type=int,
        metavar="N",
        help=f"place the stories over {LOAD_DAYS} days among N other articles a day "
        "(0: placed so, with no other news)",
    )
    parser.add_argument(
        "--reader",
        metavar="URL",
        help="dedup.reader at this chat completions URL, reading every fold "
        "(recorded_reader.py answers it)",
    )
    parser.add_argument(
        "--reader-model",
        default="recorded",
        metavar="NAME",
        help="dedup.reader.model: the model's name at the endpoint (a real model's, "
        "model_reading.py)",
    )
    parser.add_argument(
        "--joins-from",
        type=float,
        metavar="SCORE",
        help="dedup.reader.joins_from (default: as configured; 1 reads no near miss)",
    )
    options = parser.parse_args()
    if options.half == "heldout" and (options.show or options.evidence):
        parser.error(
            "the held-out half is scored, never looked into: --show and --evidence are for tune"
        )
    rows = load(options.half)
    others: list[dict[str, str]] = []
    if options.load is not None:
        rows = placed_together(rows, LOAD_DAYS)
        others = other_news(options.load, LOAD_DAYS)
    scored = [row for row in rows if PARTS[options.part](row)]
    total: dict[str, Scores] = collections.defaultdict(Scores)
    folded_negatives: collections.Counter[str] = collections.Counter()
    with_others = 0
    partitions = set()
    # Each article's fellow members in each order: an article whose story is not the same
    # in every order was grouped by the order its reports arrived in.
    groups_of: dict[str, set[frozenset[str]]] = collections.defaultdict(set)
    dedup = []
    if options.threshold is not None:
        dedup.append(f"threshold: {options.threshold}")
    if options.event_score is not None:
        dedup.append(f"event_score: {options.event_score}")
    if options.copies_only:
        dedup.append("independent_reports: false")
    if options.reader:
        reader = (
            f"url: '{options.reader}', model: '{options.reader_model}', most_per_pass: 1000, "
            "timeout: 600s"
        )
        if options.joins_from is not None:
            reader += f", joins_from: {options.joins_from}"
        dedup.append(f"reader: {{{reader}}}")
    how: collections.Counter[str] = collections.Counter()
    mixed_how: collections.Counter[str] = collections.Counter()
    by_kind = {row["id"]: row["kind"] for row in scored}
    label_of = {row["id"]: row["story"] for row in scored}
    folded_by_part: collections.Counter[str] = collections.Counter()
    for seed in range(options.runs):
        joined: dict[str, Joined] = {}
        stories = run_once(rows, seed, dedup, options.evidence, others, joined)
        partition = _partition({row["id"]: stories[row["id"]] for row in scored})
        partitions.add(partition)
        for together in partition:
            for article in together:
                groups_of[article].add(together)
        if options.show:
            _show(rows, stories, seed)
        for group, found in score(scored, stories).items():
            total[group].true_positive += found.true_positive
            total[group].false_positive += found.false_positive
            total[group].false_negative += found.false_negative
        members = collections.Counter(stories.values())
        of_others = {stories[row["id"]] for row in others}
        with_others += sum(stories[row["id"]] in of_others for row in scored)
        folded = [
            row
            for row in scored
            if row["kind"] in LOOK_ALIKE_KINDS and members[stories[row["id"]]] > 1
        ]
        folded_negatives.update(f"{row['kind']}/{row['lang']}" for row in folded)
        folded_by_part.update(_part_of(row) for row in folded)
        story_members: dict[str, list[str]] = collections.defaultdict(list)
        for article, story in stories.items():
            story_members[story].append(article)
        how.update(
            f"{row['lang']}: {how_folded(row, joined, story_members[stories[row['id']]])}"
            for row in folded
        )
        # Reports of stories that are no look-alikes of one another, folded together.
        mixed = [
            row
            for row in scored
            if row["kind"] not in LOOK_ALIKE_KINDS
            and any(
                label_of.get(other, row["story"]) != row["story"]
                and by_kind.get(other) not in LOOK_ALIKE_KINDS
                for other in story_members[stories[row["id"]]]
            )
        ]
        mixed_how.update(
            f"{row['lang']}: {how_folded(row, joined, story_members[stories[row['id']]])}"
            for row in mixed
        )
    negatives = collections.Counter(
        f"{row['kind']}/{row['lang']}" for row in scored if row["kind"] in LOOK_ALIKE_KINDS
    )
    print(
        f"half {options.half}, {options.part} stories: {len(scored)} articles scored of "
        f"{len(rows)}, {len({r['story'] for r in scored})} stories"
    )
    print(f"{options.runs} runs, source order shuffled each run; pairs of articles:")
    print(f"{'group':28} {'precision':>9} {'recall':>7} {'pairs':>6}")
    order = ["all", "ko", "en", *PAIR_KINDS]
    order += [f"{kind}/{lang}" for kind in PAIR_KINDS for lang in ("ko", "en")]
    for group in order:
        if group in total:
            found = total[group]
            pairs = (found.true_positive + found.false_negative) // options.runs
            print(f"{group:28} {found.precision:9.3f} {found.recall:7.3f} {pairs:6}")
    print(
        f"hard negatives and follow-ups folded into another story: "
        f"{folded_negatives.total()} of {negatives.total() * options.runs} (over all runs)"
    )
    print(
        "  by kind: "
        + ", ".join(
            f"{group} {folded_negatives[group]} of {negatives[group] * options.runs}"
            for group in sorted(negatives)
        )
    )
    print("  by how: " + ", ".join(f"{way} {count}" for way, count in sorted(how.items())))
    look_alikes_by_part = collections.Counter(
        _part_of(row) for row in scored if row["kind"] in LOOK_ALIKE_KINDS
    )
    print(
        "  by part (stories numbered from): "
        + ", ".join(
            f"{part} {folded_by_part[part]} of {count * options.runs}"
            for part, count in sorted(look_alikes_by_part.items(), key=lambda item: int(item[0]))
        )
    )
    print(
        "reports of other stories (no look-alikes) in one story: "
        f"{mixed_how.total()} (over all runs)"
        + (", by how: " if mixed_how else "")
        + ", ".join(f"{way} {count}" for way, count in sorted(mixed_how.items()))
    )
    if options.load is not None:
        print(
            f"placed over {LOAD_DAYS} days among {len(others):,} other articles "
            f"({options.load:,} a day); articles folded with other news: {with_others} of "
            f"{len(scored) * options.runs} (over all runs)"
        )
    for line in READER_LINES:
        print(f"the reader, one pass: {line.removeprefix('read: ')}")
    print(f"different groupings across the {options.runs} source orders: {len(partitions)}")
    moved = sum(len(found) > 1 for found in groups_of.values())
    print(f"articles grouped differently across the orders: {moved} of {len(scored)}")
    return 0


def _part_of(row: dict[str, str]) -> str:
    """The part a story was written in, by the first number of its range: 1, 3, …, 4100
    (the first part, 001–020, with the first two additions, 101–220)."""
    number = _story_number(row)
    return "1" if number < 300 else str(number // 100 * 100 + 1)


def _show(rows: list[dict[str, str]], stories: dict[str, str], seed: int) -> None:
    for a, b in itertools.combinations(sorted(rows, key=lambda row: row["id"]), 2):
        same, folded = a["story"] == b["story"], stories[a["id"]] == stories[b["id"]]
        if same != folded:
            wrong = "missed" if same else "folded"
            print(f"run {seed}: {wrong} {a['id']} ({a['kind']}) {b['id']} ({b['kind']})")


def _partition(stories: dict[str, str]) -> frozenset[frozenset[str]]:
    """Which articles were told as one story, whatever the story ids (they name the
    founder, which depends on the order)."""
    groups: dict[str, set[str]] = collections.defaultdict(set)
    for article, story in stories.items():
        groups[story].add(article)
    return frozenset(frozenset(group) for group in groups.values())


if __name__ == "__main__":
    raise SystemExit(main())
