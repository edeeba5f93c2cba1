"""A chat completions endpoint on 127.0.0.1 that answers ``dedup.reader``'s questions
from readings recorded beforehand: what the folding does with a reader as careful as the
people (or models) whose readings were recorded.

No model capable of it runs on the machine this project is measured on (two small
ones do: ``model_reading.py``), so a reader's effect is measured in two steps, through
the real command (``eval_cli.py --reader URL``):

1. ``--record FILE``: every question asked is appended to ``FILE`` (one JSON line: its
   key, a hash of the two reports as asked, and the reports), and answered with what is
   not a reading, which changes nothing (a fold stands, a near miss stays apart): the
   figures are the rules' alone. The rules place every article before the reader is
   asked, so the same folds and near misses are asked about in every run of the same
   order.
2. The recorded questions are read by readers given only the two reports and the
   instructions the model is given (``aggregator.reading.INSTRUCTIONS``); their answers
   go into a file of ``key<TAB>same|different<TAB>reason`` lines.
3. ``--answers FILE``: each question is answered from that file (a question not in it
   gets an answer that is not a reading, and the fold stands; they are counted, and
   kept with ``--unanswered FILE`` to be read in turn: a reading that splits or joins
   can lead to a question no recording asked), and the figures are those of the rules
   and that reader.

    .venv/bin/python benchmarks/dedup/recorded_reader.py --record /tmp/asked.jsonl &
    .venv/bin/python benchmarks/dedup/eval_cli.py --half heldout --runs 2 \\
        --reader http://127.0.0.1:8731/v1/chat/completions
    .venv/bin/python benchmarks/dedup/recorded_reader.py --answers readings.tsv &
    .venv/bin/python benchmarks/dedup/eval_cli.py --half heldout --runs 2 \\
        --reader http://127.0.0.1:8731/v1/chat/completions

``--tune-labels`` answers as the tuning half's labels say (by the two headlines): what
the design does with a reader that never errs, for choosing how it asks (which near
misses, ``dedup.reader.joins_from``) on the tuning half alone.

The questions every reader is checked by before it changes a story
(``aggregator.reader_trust``) are answered as they should be, and not recorded, unless
``--controls-from-answers``: then as the answers say, to see what a reader that fails
them does.

The server prints nothing of what it is asked: held-out text stays in the files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SET = Path(__file__).resolve().parent / "eval" / "stories.jsonl"
sys.path.insert(0, str(ROOT))  # the repository, for the tests' endpoint

from tests.readerserver import ReaderServer, running_reader  # noqa: E402


def question_key(reports: str) -> str:
    """A question's key: the hash of the two reports as the reader is asked them."""
    return hashlib.sha256(reports.encode("utf-8")).hexdigest()[:20]


def load_answers(path: Path) -> dict[str, tuple[str, str]]:
    answers: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        key, reading, reason = [*line.split("\t"), "", ""][:3]
        if reading not in ("same", "different"):
            raise SystemExit(f"{path}:{number}: expected same or different, got {reading!r}")
        answers[key] = (reading, reason)
    return answers


def tune_stories() -> dict[str, set[str]]:
    """Each headline of the tuning half → the stories it heads (its label)."""
    story_of: dict[str, set[str]] = {}
    for line in SET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["half"] == "tune":
            story_of.setdefault(" ".join(row["title"].split()), set()).add(row["story"])
    return story_of


def labelled_reading(reports: str, story_of: dict[str, set[str]]) -> str:
    """The reading the tuning half's labels give two reports (by their headlines); not a
    reading when a headline is not the tuning half's alone."""
    heads = [
        line.removeprefix("Headline: ")
        for line in reports.splitlines()
        if line.startswith("Headline: ")
    ]
    stories = [story_of.get(" ".join(h.split()), set()) for h in heads]
    if len(stories) != 2 or any(len(found) != 1 for found in stories):
        return "no label"
    same = stories[0] == stories[1]
    return json.dumps({"same_event": same, "reason": "as labelled"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8731)
    found = parser.add_mutually_exclusive_group(required=True)
    found.add_argument("--record", type=Path, help="append each question to this file")
    found.add_argument("--answers", type=Path, help="answer from this file of readings")
    parser.add_argument(
        "--unanswered",
        type=Path,
        help="with --answers, append each question without a recorded reading to this "
        "file, as --record does (a reading can lead to a question no recording asked)",
    )
    parser.add_argument(
        "--controls-from-answers",
        action="store_true",
        help="answer the questions every reader is checked by (reader_trust.CONTROLS) "
        "from the answers too, as the reader recorded would, not as they should be",
    )
    found.add_argument(
        "--tune-labels",
        action="store_true",
        help="answer as the tuning half's labels say: what the design does with a reader "
        "that never errs (tune only)",
    )
    options = parser.parse_args(argv)
    if options.unanswered is not None and options.answers is None:
        parser.error("--unanswered goes with --answers")
    story_of = tune_stories() if options.tune_labels else {}
    answers = load_answers(options.answers) if options.answers else {}
    asked: set[str] = set()
    answered: set[str] = set()
    unanswered: set[str] = set()
    lock = threading.Lock()  # the endpoint answers each request on a thread of its own

    def keep(path: Path, key: str, reports: str) -> None:
        with path.open("a", encoding="utf-8") as file:
            file.write(json.dumps({"key": key, "reports": reports}) + "\n")

    def reply(body: dict[str, Any]) -> str:
        reports = body["messages"][-1]["content"]
        key = question_key(reports)
        with lock:
            if options.record is not None:
                if key not in asked:
                    asked.add(key)
                    keep(options.record, key, reports)
                # Not a reading: a fold stands and a near miss stays apart, as without it.
                return "recording"
            if options.tune_labels:
                asked.add(key)
                return labelled_reading(reports, story_of)
            if key not in answers:
                if options.unanswered is not None and key not in unanswered:
                    keep(options.unanswered, key, reports)
                unanswered.add(key)
                return "no recorded reading"
            answered.add(key)
        reading, reason = answers[key]
        return json.dumps({"same_event": reading == "same", "reason": reason})

    stop = threading.Event()
    for ending in (signal.SIGTERM, signal.SIGINT):
        signal.signal(ending, lambda signum, frame: stop.set())
    answering = ReaderServer(reply=reply, answers_controls=not options.controls_from_answers)
    with running_reader(answering, port=options.port) as server:
        print(f"answering on {server.url}", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            server.requests.clear()  # what it was asked is in the file, not kept here
            server.headers.clear()
    print(
        f"questions: {len(asked)} recorded, {len(answered)} answered, "
        f"{len(unanswered)} without a recorded reading",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
