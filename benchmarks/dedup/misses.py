"""Where each pair the tuning half gets wrong stopped: what to work on next.

The tuning half is fetched through the real command, in this process (as ``fit_event.py``
does), with ``same_story.verdicts`` wrapped to record, for every pair of articles the
store compared, the last step its verdict reached. Then each pair of one story that
ended in two stories (a miss) and each pair of two stories that ended in one (a false
fold) is listed with that step, its event score where it has one, and the signals; a
tally of the misses by step closes the list.

    .venv/bin/python benchmarks/dedup/misses.py              # tune, as written
    .venv/bin/python benchmarks/dedup/misses.py --together   # placed over a few days
    .venv/bin/python benchmarks/dedup/misses.py --load 10000 # and among other news

The steps, in the order ``verdict`` takes them: ``never compared`` (neither the sketch
bands nor the content words nominated the other), ``n-grams, figures apart`` (similar
enough, but their figures disagree), ``sketch only, few n-grams`` (only the sketch
nominated it, sharing under ``WEIGHED_NGRAMS``), ``not one event before words``
(``may_be_one_event``), ``not weighed`` (``event_signals``: words unrelated or figures
apart), ``score`` (under ``dedup.event_score``), ``nothing names the event`` (and
under ``NAMELESS_SCORE``), and ``story rules`` (the pair was one event, but the story's
other members or what they say together kept the article out); a false fold of two
articles never compared was made
``through another member``. Tune only: the held-out half is never listed.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import sys
from collections.abc import Collection, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import eval_cli  # noqa: E402

from aggregator import same_story  # noqa: E402
from aggregator.dedup import similarity  # noqa: E402
from aggregator.same_story import Rarity, Rules, Text  # noqa: E402

#: The last step a pair's verdict reached, its event score and its signals (where weighed).
Step = tuple[str, float | None, dict[str, float] | None]
#: The steps at which ``same_story.verdict`` folds the pair.
FOLDING_STEPS = frozenset({"n-grams", "one event"})


def step_reached(
    new: Text, old: Text, rarity: Rarity, rules: Rules, weighed: Collection[str] | None
) -> Step:
    """The last step of ``same_story.verdict`` a pair reached, with its event score and
    signals where it was weighed."""
    if same_story.by_ngrams(new, old, rules):
        found = same_story.signals(new, old, rarity)
        return ("n-grams" if found.figures_agree else "n-grams, figures apart"), None, None
    least = same_story.least_shared(old, weighed)
    if similarity(new.signature, old.signature) < least:
        return "sketch only, few n-grams", None, None
    if not same_story.may_be_one_event(new, old, rules):
        return "not one event before words", None, None
    signals = same_story.event_signals(new, old, rarity, rules)
    if signals is None:
        return "not weighed", None, None
    score = same_story.event_score(signals)
    if score < rules.event_score:
        return "score", score, signals
    if score < same_story.NAMELESS_SCORE and not same_story._names_the_event(signals):
        return "nothing names the event", score, signals
    return "one event", score, signals


def recorded_steps(
    rows: list[dict[str, str]], others: list[dict[str, str]] | None = None
) -> tuple[dict[frozenset[str], Step], dict[str, str]]:
    """Fetch ``rows`` (and ``others``, other news) into a new store in this process: the
    last step each compared pair reached (by the articles' ids in the set), and each
    article's story."""
    reached: dict[frozenset[str], Step] = {}

    def record(compared: eval_cli.Compared) -> None:
        new = compared.new
        for old in compared.candidates:
            step = step_reached(new, old, compared.rarity, compared.rules, compared.weighed)
            # The steps restate ``verdict``'s order: stop if it has changed under them.
            least = same_story.least_shared(old, compared.weighed)
            folds = same_story.verdict(new, old, compared.rarity, compared.rules, least)
            if (folds is not None) != (step[0] in FOLDING_STEPS):
                raise SystemExit(f"same_story.verdict no longer stops where this says: {step[0]}")
            reached[frozenset((new.article_id, old.article_id))] = step

    stored = eval_cli.fetch_recording(rows, record, others)
    guid_of = {article.article.id: article.guid for article in stored}
    by_guid = {
        frozenset(guid_of[article_id] for article_id in pair): step
        for pair, step in reached.items()
    }
    return by_guid, {article.guid: article.story_id for article in stored}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--together",
        action="store_true",
        help=f"place the stories over {eval_cli.LOAD_DAYS} days, as fit_event.py also does",
    )
    parser.add_argument(
        "--load",
        type=int,
        metavar="N",
        help="placed as --together, among N other articles a day (as eval_cli.py --load)",
    )
    options = parser.parse_args(argv)
    rows = eval_cli.load("tune")
    others = None
    if options.together or options.load is not None:
        rows = eval_cli.placed_together(rows, eval_cli.LOAD_DAYS)
    if options.load is not None:
        others = eval_cli.other_news(options.load, eval_cli.LOAD_DAYS)
    reached, stories = recorded_steps(rows, others)
    tally: collections.Counter[str] = collections.Counter()
    for a, b in itertools.combinations(sorted(rows, key=lambda row: row["id"]), 2):
        same, folded = a["story"] == b["story"], stories[a["id"]] == stories[b["id"]]
        if same == folded:
            continue
        step, score, signals = reached.get(
            frozenset((a["id"], b["id"])), ("never compared", None, None)
        )
        if same and step == "one event":
            step = "story rules"
        if not same and step == "never compared":
            step = "through another member"
        if same:
            tally[step] += 1
        shown = "" if score is None else f"{'' if step == 'score' else ', score'} {score:.3f}"
        weighed = (
            ""
            if signals is None
            else " " + " ".join(f"{name}={value:.2f}" for name, value in signals.items())
        )
        what = "missed" if same else "folded"
        print(f"{what} {a['id']} ({a['kind']}) {b['id']} ({b['kind']}): {step}{shown}{weighed}")
    if others:
        of_others = {stories[row["id"]] for row in others}
        folded = sum(stories[row["id"]] in of_others for row in rows)
        print(f"articles folded with other news: {folded} of {len(rows)}")
    print(f"{sum(tally.values())} missed pairs, by the step they stopped at:")
    for step, count in tally.most_common():
        print(f"  {step}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
