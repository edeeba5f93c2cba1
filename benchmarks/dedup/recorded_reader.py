"""A chat completions endpoint on 127.0.0.1 that answers ``dedup.reader``'s questions
from readings recorded beforehand: what the folding does with a reader as careful as the
people (or models) whose readings were recorded.

No model runs on the machine this project is measured on, so a reader's effect is
measured in two steps, through the real command (``eval_cli.py --reader URL``):

1. ``--record FILE``: every question asked is appended to ``FILE`` (one JSON line: its
   key, a hash of the two reports as asked, and the reports), and answered "one event",
   which changes nothing: the figures are the rules' alone. The rules place every
   article before the reader is asked, so the same folds are asked about in every run of
   the same order.
2. The recorded questions are read by readers given only the two reports and the
   instructions the model is given (``aggregator.reading.INSTRUCTIONS``); their answers
   go into a file of ``key<TAB>same|different<TAB>reason`` lines.
3. ``--answers FILE``: each question is answered from that file (a question not in it
   gets an answer that is not a reading, and the fold stands; they are counted), and
   the figures are those of the rules and that reader.

    .venv/bin/python benchmarks/dedup/recorded_reader.py --record /tmp/asked.jsonl &
    .venv/bin/python benchmarks/dedup/eval_cli.py --half heldout --runs 2 \\
        --reader http://127.0.0.1:8731/v1/chat/completions
    .venv/bin/python benchmarks/dedup/recorded_reader.py --answers readings.tsv &
    .venv/bin/python benchmarks/dedup/eval_cli.py --half heldout --runs 2 \\
        --reader http://127.0.0.1:8731/v1/chat/completions

The server prints nothing of what it is asked: held-out text stays in the files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PATH = "/v1/chat/completions"


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8731)
    found = parser.add_mutually_exclusive_group(required=True)
    found.add_argument("--record", type=Path, help="append each question to this file")
    found.add_argument("--answers", type=Path, help="answer from this file of readings")
    options = parser.parse_args(argv)
    answers = load_answers(options.answers) if options.answers else {}
    asked: set[str] = set()
    answered: set[str] = set()
    unanswered: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reports = body["messages"][-1]["content"]
            key = question_key(reports)
            if options.record is not None:
                if key not in asked:
                    asked.add(key)
                    with options.record.open("a", encoding="utf-8") as file:
                        file.write(json.dumps({"key": key, "reports": reports}) + "\n")
                content = json.dumps({"same_event": True, "reason": "recording"})
            elif key in answers:
                answered.add(key)
                reading, reason = answers[key]
                content = json.dumps({"same_event": reading == "same", "reason": reason})
            else:
                unanswered.add(key)
                content = "no recorded reading"
            message = {"role": "assistant", "content": content}
            answer = json.dumps({"choices": [{"index": 0, "message": message}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # ends serve_forever, then the counts are printed

    signal.signal(signal.SIGTERM, stop)
    server = ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
    print(f"answering on http://127.0.0.1:{options.port}{PATH}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print(
            f"questions: {len(asked)} recorded, {len(answered)} answered, "
            f"{len(unanswered)} without a recorded reading",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
