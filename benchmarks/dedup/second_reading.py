"""A second reading of tune pairs: how often a reader agrees with the set's labels, and
with whom the reader sides where the folding gets a pair wrong.

``reading/tune.tsv`` holds pairs of the tuning half and what a reader given the two
texts alone (outlet, time, headline, body; no label, kind or id) judged them: ``same``
event, ``different`` events or ``unsure``, with a short reason. The reader worked from
a brief of the set's two definitions (one event told apart; another event of the same
setting or a follow-up), not from the labels or the code. The pairs were drawn with the
folds of the code of their day (change 41, the tune half as written, one order): every
pair it got wrong, and 65 pairs a language of each kind it got right (one-story pairs
folded, copies and trimmed headlines left out; look-alike pairs kept apart, each a hard
negative or follow-up against a report of the story it resembles).

This script fetches the tune half through the real command in this process, as
``misses.py`` does, and prints, by the way each pair was drawn and by language, what the
reader judged; then, for the pairs this checkout gets wrong, whether the reader reads
them as the labels do.

    .venv/bin/python benchmarks/dedup/second_reading.py

Tune only: the held-out half is neither read nor listed.
"""

from __future__ import annotations

import collections
import csv
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import eval_cli  # noqa: E402

READING = HERE / "reading" / "tune.tsv"
JUDGMENTS = ("same", "different", "unsure")


def read_pairs(path: Path = READING) -> list[dict[str, str]]:
    """The pairs read, one dict each (``pair``, ``a``, ``b``, ``drawn``, ``reading``,
    ``reason``); a judgment outside ``JUDGMENTS`` is refused."""
    with path.open(encoding="utf-8", newline="") as file:
        pairs = list(csv.DictReader(file, delimiter="\t"))
    for pair in pairs:
        if pair["reading"] not in JUDGMENTS:
            raise SystemExit(f"{path}: {pair['pair']}: unknown reading {pair['reading']!r}")
    return pairs


def tally_line(label: str, readings: Sequence[str]) -> str:
    counts = collections.Counter(readings)
    return f"  {label:<34} {len(readings):>5} " + " ".join(
        f"{counts[judgment]:>9}" for judgment in JUDGMENTS
    )


def main(argv: Sequence[str] | None = None) -> int:
    pairs = read_pairs()
    rows = eval_cli.load("tune")
    by_id = {row["id"]: row for row in rows}
    missing = {pair[side] for pair in pairs for side in ("a", "b")} - by_id.keys()
    if missing:
        raise SystemExit(f"{READING}: not in the tune half: {', '.join(sorted(missing))}")
    stored = eval_cli.fetch_recording(rows, lambda compared: None)
    story_of = {article.guid: article.story_id for article in stored}

    header = f"  {'':<34} {'pairs':>5} " + " ".join(f"{j:>9}" for j in JUDGMENTS)
    print(f"{len(pairs)} tune pairs read a second time, by how they were drawn:")
    print(header)
    drawn: dict[str, list[str]] = collections.defaultdict(list)
    for pair in pairs:
        drawn[f"{pair['drawn']}, {by_id[pair['a']]['lang']}"].append(pair["reading"])
    for label in sorted(drawn):
        print(tally_line(label, drawn[label]))

    print("The pairs this checkout gets wrong, as the reader reads them:")
    print(header)
    wrong: dict[str, list[str]] = collections.defaultdict(list)
    for pair in pairs:
        a, b = by_id[pair["a"]], by_id[pair["b"]]
        one_story = a["story"] == b["story"]
        folded = story_of[a["id"]] == story_of[b["id"]]
        if one_story != folded:
            what = "one story, missed" if one_story else "two stories, folded"
            wrong[f"{what}, {a['lang']}"].append(pair["reading"])
    for label in sorted(wrong):
        print(tally_line(label, wrong[label]))
    all_wrong = sum(
        (a["story"] == b["story"]) != (story_of[a["id"]] == story_of[b["id"]])
        for a, b in itertools.combinations(rows, 2)
    )
    read = sum(len(readings) for readings in wrong.values())
    print(f"{read} of the {all_wrong} pairs this checkout gets wrong on the tune half were read")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
