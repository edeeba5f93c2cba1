"""Where the facts two reports share sit in each: a check of whether a look-alike, which
restates the story's event in one background paragraph, can be told from a report of the
event, which states its facts throughout. Tune only.

The tuning half is fetched through the real command in this process, as ``misses.py``
does, and each pair the event score weighed is taken with its score. A pair's shared
facts are the tokens both reports hold that at most ``RARE_IN`` of the half's articles
hold (a Korean word also by its first two syllables, a crude stem). Each report's
headline and paragraphs are counted for them; ``concentration`` is the most one
paragraph holds, as a share of the report's total, the larger of the two reports'. For
the pairs that score ``dedup.event_score`` or more, the vetoes below are counted: pairs
of one story (recall lost) and pairs of two (look-alike folds kept apart).

    .venv/bin/python benchmarks/dedup/shared_facts.py
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import eval_cli  # noqa: E402
import misses  # noqa: E402

from aggregator.config.settings import DedupSettings  # noqa: E402

#: A fact is a token held by at most this many of the half's articles.
RARE_IN = 6
#: Vetoes tried: concentration over these.
VETOES = (0.6, 0.7)
_TOKEN = re.compile(r"[0-9A-Za-z가-힣][0-9A-Za-z가-힣.,·∼~%㎞]*")
_TAG = re.compile(r"<[^>]+>")


def parts(row: dict[str, str]) -> list[str]:
    """A report's headline and paragraphs, as text."""
    paragraphs = [_TAG.sub(" ", p) for p in row["body"].split("</p>")]
    return [row["title"], *(p for p in paragraphs if p.strip())]


def tokens(text: str) -> set[str]:
    found: set[str] = set()
    for token in _TOKEN.findall(text):
        token = token.strip(".,").lower()
        if len(token) < 2:
            continue
        found.add(token)
        if re.match("[가-힣]", token) and len(token) > 2:
            found.add(token[:2])
    return found


def concentration(
    mine: dict[str, str], theirs: set[str], rare: collections.Counter[str], held: set[str]
) -> float | None:
    """The most of the facts shared with ``theirs`` one part of ``mine`` holds, as a share;
    None when they share none."""
    shared = {token for token in held & theirs if rare[token] <= RARE_IN}
    if not shared:
        return None
    counts = [len(tokens(part) & shared) for part in parts(mine)]
    return max(counts) / sum(counts)


def main() -> int:
    rows = eval_cli.load("tune")
    by_id = {row["id"]: row for row in rows}
    reached, _stories = misses.recorded_steps(rows)
    held = {row["id"]: tokens(" ".join(parts(row))) for row in rows}
    rare = collections.Counter(token for found in held.values() for token in found)
    cut = DedupSettings().event_score
    vetoed: collections.Counter[tuple[str, bool, float]] = collections.Counter()
    weighed: collections.Counter[tuple[str, bool]] = collections.Counter()
    for pair, (_step, score, _signals) in reached.items():
        if score is None or score < cut:
            continue
        a, b = sorted(pair)
        first, second = by_id[a], by_id[b]
        ways = (
            concentration(first, held[b], rare, held[a]),
            concentration(second, held[a], rare, held[b]),
        )
        if None in ways:
            continue
        most = max(way for way in ways if way is not None)
        key = first["lang"], first["story"] == second["story"]
        weighed[key] += 1
        for veto in VETOES:
            vetoed[(*key, veto)] += most > veto
    print(f"tune, pairs scoring {cut} or more; vetoed by concentration over:")
    for lang in ("ko", "en"):
        one, two = weighed[(lang, True)], weighed[(lang, False)]
        for veto in VETOES:
            print(
                f"  {lang} {veto}: {vetoed[(lang, True, veto)]} of {one} one-story pairs, "
                f"{vetoed[(lang, False, veto)]} of {two} look-alike pairs"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
