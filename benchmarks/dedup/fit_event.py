"""Fit ``same_story.EVENT_WEIGHTS``: what reports of one event written apart share, weighed.

The evaluation set's tuning half is fetched through the real command, in this process
(``aggregator fetch --all`` over local feeds, as ``eval_cli.py`` does), as written and
placed over a few days as on a busy news day, and every pair of candidates the store
weighs (``same_story.event_signals``: not one story by n-grams, within the event window,
words not unrelated, figures not apart) is recorded with its signals and its label (one
story or two). A logistic regression with an L2 penalty is fitted on those pairs by
Newton's method, and checked part by part: each addition of the set (``eval/README.md``)
is scored by the weights fitted on all the others, so the figures printed say how the
weights do on stories they were not fitted on. The figures are the score's alone, on
pairs: ``verdict`` asks more of a pair before it is scored, and a story is joined through
any of its members.

    .venv/bin/python benchmarks/dedup/fit_event.py          # prints the weights' lines
    .venv/bin/python benchmarks/dedup/fit_event.py --score 0.75

The weights printed go into ``src/aggregator/same_story.py`` (``EVENT_WEIGHTS``,
``EVENT_INTERCEPT``). Fit on ``tune`` only: the held-out half is scored by ``eval_cli.py``,
never fitted on.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import eval_cli  # noqa: E402

from aggregator import same_story  # noqa: E402
from aggregator.dedup import similarity  # noqa: E402

#: The L2 penalty on the weights (not the intercept): with a few hundred pairs, it keeps
#: a signal that separates a handful of them from taking a weight it cannot earn.
PENALTY = 1.0
SCORES = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)
#: The tuning half's latest parts (story numbers from 1800): written after the rules had
#: been set, each measured once as held out before it was moved to tune.
LATEST_PARTS = 18


@dataclass(frozen=True, slots=True)
class Pair:
    """A pair the store weighed: its signals, and what the labels say."""

    signals: dict[str, float]
    same_story: bool
    part: int


def judged_pairs(rows: list[dict[str, str]]) -> list[Pair]:
    """Fetch ``rows`` into a new store, in this process, and record every pair the store
    weighs (``event_signals``), as it was weighed last (a pair is weighed again when an
    article is placed after arriving)."""
    judged: dict[tuple[str, str], dict[str, float]] = {}

    def record(compared: eval_cli.Compared) -> None:
        new, rules, weighed = compared.new, compared.rules, compared.weighed
        for old in compared.candidates:
            if same_story.by_ngrams(new, old, rules):
                continue
            # As ``verdicts`` does: one only the sketch nominated must share some n-grams.
            if similarity(new.signature, old.signature) < same_story.least_shared(old, weighed):
                continue
            found = same_story.event_signals(new, old, compared.rarity, rules)
            if found is not None:
                left, right = sorted((new.article_id, old.article_id))
                judged[left, right] = found

    stored = eval_cli.fetch_recording(rows, record)
    guid_of = {article.article.id: article.guid for article in stored}
    by_id = {row["id"]: row for row in rows}
    pairs = []
    for (left, right), found in sorted(judged.items()):
        a, b = by_id[guid_of[left]], by_id[guid_of[right]]
        pairs.append(Pair(found, a["story"] == b["story"], eval_cli._story_number(a) // 100))
    return pairs


def fit(signals: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and intercept of a logistic regression, L2-penalized (``PENALTY``, not on
    the intercept), by Newton's method."""
    x = np.hstack([signals, np.ones((len(signals), 1))])
    weights = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], PENALTY)
    penalty[-1] = 0.0
    for _ in range(100):
        likely = 1 / (1 + np.exp(-x @ weights))
        gradient = x.T @ (likely - labels) + penalty * weights
        hessian = (x.T * (likely * (1 - likely))) @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-10:
            break
    return weights[:-1], float(weights[-1])


def scored(signals: np.ndarray, weights: np.ndarray, intercept: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(signals @ weights + intercept)))


def report(labels: np.ndarray, found: np.ndarray, mask: np.ndarray) -> str:
    true = int((found & labels & mask).sum())
    false = int((found & ~labels & mask).sum())
    missed = int((~found & labels & mask).sum())
    precision = true / (true + false) if true + false else 1.0
    recall = true / (true + missed) if true + missed else 1.0
    return f"precision {precision:.3f} recall {recall:.3f} ({true} right, {false} wrong)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--score", type=float, action="append", help="scores to report at")
    options = parser.parse_args(argv)
    names = list(same_story.EVENT_WEIGHTS)
    rows = eval_cli.load("tune")
    # As written, each story on its own day, and placed over a few days as on a busy news
    # day: then many stories of other events are published close together, and which of
    # the signals tell them apart is learnt, not that being close is enough.
    pairs = judged_pairs(rows) + judged_pairs(eval_cli.placed_together(rows, eval_cli.LOAD_DAYS))
    signals = np.array([[pair.signals[name] for name in names] for pair in pairs])
    labels = np.array([pair.same_story for pair in pairs])
    parts = np.array([pair.part for pair in pairs])
    print(f"{len(pairs)} pairs weighed, {int(labels.sum())} of one story")
    # Each part scored by weights fitted on the others.
    apart = np.zeros(len(pairs))
    for part in sorted(set(parts)):
        others = parts != part
        weights, intercept = fit(signals[others], labels[others])
        apart[parts == part] = scored(signals[parts == part], weights, intercept)
    everywhere = np.ones(len(pairs), dtype=bool)
    latest = parts >= LATEST_PARTS
    print("each part scored by the weights fitted on the others:")
    for score in options.score or SCORES:
        print(f"  score {score:.2f}: {report(labels, apart >= score, everywhere)}")
    print(f"the parts written from the eighteenth on ({int(latest.sum())} pairs):")
    for score in options.score or SCORES:
        print(f"  score {score:.2f}: {report(labels, apart >= score, latest)}")
    # Korean pairs are weighed on fewer signals (no name phrases): how each language does
    # at each score.
    korean = signals[:, names.index("korean")] == 1.0
    for language, mask in (("Korean", korean), ("English", ~korean)):
        print(f"{language} pairs ({int(mask.sum())}):")
        for score in options.score or SCORES:
            print(f"  score {score:.2f}: {report(labels, apart >= score, mask)}")
    weights, intercept = fit(signals, labels)
    print("fitted on every part (same_story.py):")
    print("EVENT_WEIGHTS: Mapping[str, float] = {")
    for name, weight in zip(names, weights, strict=True):
        print(f'    "{name}": {weight:.3f},')
    print("}")
    print(f"EVENT_INTERCEPT = {intercept:.3f}")
    if not math.isfinite(intercept):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
