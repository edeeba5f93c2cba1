"""How a language model behind a chat completions endpoint reads the questions
``dedup.reader`` asks on the tuning half, against the half's labels.

``eval_cli.py --reader`` measures what the folding does with a reader; this measures the
reader: each recorded question (``recorded_reader.py --record``, on the tuning half) is
sent to the endpoint exactly as ``aggregator.reading`` sends it, and its reading is
compared with the labels (by the two headlines, as ``recorded_reader.py --tune-labels``
does). It first asks the questions every reader is checked by
(``aggregator.reader_trust``), and says what the reader would be trusted with.

    .venv/bin/python benchmarks/dedup/recorded_reader.py --record /tmp/asked.jsonl &
    .venv/bin/python benchmarks/dedup/eval_cli.py --half tune --runs 1 \\
        --reader http://127.0.0.1:8731/v1/chat/completions
    .venv/bin/python benchmarks/dedup/model_reading.py --questions /tmp/asked.jsonl \\
        --url http://127.0.0.1:8080/v1/chat/completions --model NAME --sample 60

Tuning half only: its labels may be read, and the held-out half's questions stay unread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recorded_reader import labelled_reading, tune_stories  # noqa: E402

from aggregator.config import ReaderSettings  # noqa: E402
from aggregator.reader_trust import ControlAnswer, answers, trust_of  # noqa: E402
from aggregator.reading import ask, reader_client, request_body  # noqa: E402


def language(reports: str) -> str:
    return "ko" if any("\uac00" <= letter <= "\ud7a3" for letter in reports) else "en"


async def read_all(
    reader: ReaderSettings, questions: list[tuple[str, bool]]
) -> tuple[list[ControlAnswer], list[bool | None], list[float]]:
    """The reader's answers to ``CONTROLS`` and to each question, and each question's
    seconds."""
    async with reader_client(reader) as client:
        controls = await answers(client, reader)
        said: list[bool | None] = []
        seconds: list[float] = []
        for reports, _ in questions:
            body = request_body(reader.model, "", "", reader.max_tokens)
            body["messages"][-1]["content"] = reports  # as recorded: both reports, fenced
            started = time.perf_counter()
            said.append((await ask(client, reader, body))[0])
            seconds.append(time.perf_counter() - started)
            print(f"  {len(said)}/{len(questions)}", file=sys.stderr, end="\r", flush=True)
    return controls, said, seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, required=True, help="recorded questions")
    parser.add_argument("--url", required=True, help="the chat completions URL")
    parser.add_argument("--model", required=True, help="the model's name at the endpoint")
    parser.add_argument("--sample", type=int, help="ask this many, drawn evenly by label")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300, help="seconds a question")
    options = parser.parse_args(argv)

    story_of = tune_stories()
    questions: list[tuple[str, bool]] = []
    for line in options.questions.read_text(encoding="utf-8").splitlines():
        reports = json.loads(line)["reports"]
        label = labelled_reading(reports, story_of)
        if label != "no label":
            questions.append((reports, json.loads(label)["same_event"]))
    if options.sample is not None:
        draw = random.Random(options.seed)
        by_label = [[q for q in questions if q[1] is same] for same in (True, False)]
        half = options.sample // 2
        questions = [q for group in by_label for q in draw.sample(group, min(half, len(group)))]
    reader = ReaderSettings(
        url=options.url, model=options.model, timeout=timedelta(seconds=options.timeout)
    )
    controls, readings, seconds = asyncio.run(read_all(reader, questions))

    print(f"reader: {options.model} at {options.url}")
    said = [
        "one event" if a.said else "two events" if a.said is False else "no reading"
        for a in controls
    ]
    print("known questions (two fires, one fire; in English, then Korean): " + ", ".join(said))
    trusted = trust_of(controls)
    if trusted is None:
        print("no known answer could be read: the service would ask it nothing more")
    else:
        yes = {True: "yes", False: "no"}
        print(f"trusted to split: {yes[trusted.splits]}; to join: {yes[trusted.joins]}")
    counts: Counter[tuple[str, bool, str]] = Counter()
    for (reports, same), answer in zip(questions, readings, strict=True):
        found = "unreadable" if answer is None else "as labelled" if answer is same else "wrong"
        counts[(language(reports), same, found)] += 1
    print(f"questions: {len(questions)} (tuning half, labelled)")
    for lang in ("ko", "en"):
        for same, name in ((True, "one event"), (False, "two events")):
            row = [counts[(lang, same, found)] for found in ("as labelled", "wrong", "unreadable")]
            if sum(row):
                print(
                    f"  {lang} {name:10}  {sum(row):4}: as labelled {row[0]}, "
                    f"the other way {row[1]}, no reading {row[2]}"
                )
    right = sum(n for (_, _, found), n in counts.items() if found == "as labelled")
    if questions:
        print(f"read as labelled: {right} of {len(questions)} ({right / len(questions):.3f})")
        print(
            f"seconds a question: median {statistics.median(seconds):.1f}, most {max(seconds):.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
