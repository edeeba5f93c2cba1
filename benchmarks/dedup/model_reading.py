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

``--probabilities`` asks the same questions with the answer's token probabilities
(``logprobs``, which OpenAI's API, llama.cpp's server and vLLM return): how likely the
model thought "true" against "false" where it wrote its ``same_event``. A model that
answers every pair one way may still rank them; this says how well (the share of
(one event, two events) pairs it ranks right, by language) and what a line on that
likelihood would split.

Tuning half only: its labels may be read, and the held-out half's questions stay unread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recorded_reader import labelled_reading, tune_stories  # noqa: E402

from aggregator.config import ReaderSettings  # noqa: E402
from aggregator.reader_trust import ControlAnswer, answers, trust_of  # noqa: E402
from aggregator.reading import ask, reader_client, request_body  # noqa: E402

#: How many of the likeliest tokens the endpoint is asked for at each place (OpenAI's
#: API allows at most 20).
TOP_TOKENS = 20
#: Likelihood lines for ``--probabilities``: a fold read under one would be split.
LINES = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def language(reports: str) -> str:
    return "ko" if any("\uac00" <= letter <= "\ud7a3" for letter in reports) else "en"


def likelihood_of_one(reply: dict[str, Any]) -> float | None:
    """How likely the model made "true" against "false" where it wrote the first of
    them (its ``same_event``), from the reply's ``logprobs``; None without them."""
    for place in (reply["choices"][0].get("logprobs") or {}).get("content") or []:
        if place["token"].strip().lower() not in ("true", "false"):
            continue
        likely = {"true": 0.0, "false": 0.0}
        for option in place["top_logprobs"]:
            word = option["token"].strip().lower()
            if word in likely:
                likely[word] += math.exp(option["logprob"])
        either = likely["true"] + likely["false"]
        return likely["true"] / either if either else None
    return None


def ranked_right(ones: list[float], twos: list[float]) -> float:
    """The share of (one event, two events) pairs whose one event is the likelier (the
    area under the ROC curve; a tie counts half)."""
    right = sum((one > two) + 0.5 * (one == two) for one in ones for two in twos)
    return right / (len(ones) * len(twos))


async def read_all(
    reader: ReaderSettings, questions: list[tuple[str, bool]], probabilities: bool
) -> tuple[list[ControlAnswer], list[bool | float | None], list[float]]:
    """The reader's answers to ``CONTROLS`` and to each question (with
    ``probabilities``, how likely it made one event), and each question's seconds."""
    async with reader_client(reader) as client:
        controls = await answers(client, reader)
        said: list[bool | float | None] = []
        seconds: list[float] = []
        for reports, _ in questions:
            body = request_body(reader.model, "", "", reader.max_tokens)
            body["messages"][-1]["content"] = reports  # as recorded: both reports, fenced
            started = time.perf_counter()
            if probabilities:
                body |= {"logprobs": True, "top_logprobs": TOP_TOKENS}
                response = await client.post(reader.url, json=body)
                response.raise_for_status()
                said.append(likelihood_of_one(response.json()))
            else:
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
    parser.add_argument(
        "--probabilities", action="store_true", help="how likely the model made one event"
    )
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
    controls, readings, seconds = asyncio.run(read_all(reader, questions, options.probabilities))

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
    print(f"questions: {len(questions)} (tuning half, labelled)")
    if options.probabilities:
        show_likelihoods(questions, readings)
    else:
        show_readings(questions, readings)
    if questions:
        print(
            f"seconds a question: median {statistics.median(seconds):.1f}, most {max(seconds):.1f}"
        )
    return 0


def show_readings(questions: list[tuple[str, bool]], readings: list[Any]) -> None:
    counts: Counter[tuple[str, bool, str]] = Counter()
    for (reports, same), answer in zip(questions, readings, strict=True):
        found = "unreadable" if answer is None else "as labelled" if answer is same else "wrong"
        counts[(language(reports), same, found)] += 1
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


def show_likelihoods(questions: list[tuple[str, bool]], likelihoods: list[Any]) -> None:
    """How well the likelihoods rank one event above two, and what each line splits."""
    found = [
        (language(reports), same, likely)
        for (reports, same), likely in zip(questions, likelihoods, strict=True)
        if likely is not None
    ]
    print(
        f"with a likelihood: {len(found)} of {len(questions)} "
        "(the rest came without logprobs at a true or false)"
    )
    for lang in ("ko", "en", "all"):
        ones = [p for lg, same, p in found if same and lang in (lg, "all")]
        twos = [p for lg, same, p in found if not same and lang in (lg, "all")]
        if not ones or not twos:
            continue
        print(
            f"  {lang}: one event {len(ones)} (median {statistics.median(ones):.3f}), "
            f"two events {len(twos)} (median {statistics.median(twos):.3f}); "
            f"ranked right {ranked_right(ones, twos):.3f}"
        )
        for line in LINES:
            print(
                f"    split under {line:.2f}: two events {sum(p < line for p in twos)} "
                f"of {len(twos)}, one event {sum(p < line for p in ones)} of {len(ones)}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
