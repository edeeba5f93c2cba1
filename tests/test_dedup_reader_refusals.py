"""``dedup.reader`` when one question fails rather than the reader: a real endpoint
refuses a request longer than its model's context (or held back by a hosted API's
content filter) with HTTP 400, and a model on a small machine can take longer than
``timeout`` over one long pair. Such a question must not hold up every other: it is
asked in date order, first in every pass, until it leaves the event window. Through
``fetch`` against a chat completions endpoint on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli import run_cli
from tests.feedserver import FeedServer
from tests.readerserver import CONTROL_ANSWERS, ReaderServer, running_reader
from tests.test_dedup_reader import (
    FIRE_B_ID,
    OUTBREAK_B_ID,
    OUTLETS,
    items,
    reader_section,
    reads_the_outbreaks_apart,
)
from tests.test_dedup_review import fetched
from tests.test_same_event import WAREHOUSE_A, WAREHOUSE_B


def is_control(body: dict[str, Any]) -> bool:
    return body["messages"][-1]["content"] in CONTROL_ANSWERS


class FirstQuestion:
    """Singles out the first question asked that is not a known one (``reader_trust``),
    and every later request of the same question."""

    def __init__(self) -> None:
        self.text = ""

    def __call__(self, body: dict[str, Any]) -> bool:
        if is_control(body):
            return False
        if not self.text:
            self.text = body["messages"][-1]["content"]
        return body["messages"][-1]["content"] == self.text

    def article_id(self) -> str:
        return OUTBREAK_B_ID if "Legionnaires" in self.text else FIRE_B_ID


def test_a_question_the_endpoint_refuses_is_kept_unreadable_and_the_rest_are_read(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    first = FirstQuestion()
    refuses_first = ReaderServer(
        reply=reads_the_outbreaks_apart, refuse=lambda body: 400 if first(body) else None
    )
    with running_reader(refuses_first) as reader:
        config = fetched(tmp_path, feed_server, OUTLETS, reader_section(reader.url))
        # The refused question, then a known one (answered: the refusal was the
        # question's own), then the other fold.
        asked = reader.user_texts()
        assert len(asked) == 2 and asked[0] == first.text and asked[1] != first.text
        refused = run_cli(config, "dedup", "explain", first.article_id()).stdout
        assert "the fold stands: the endpoint refused the question: " in refused
        assert "HTTP 400" in refused and "exceeds the available context size" in refused

        # The refused question is not asked again; the fold it is about stands.
        again = run_cli(config, "fetch", "--all")
        assert again.returncode == 0, again.stderr
        assert len(reader.requests) == 2
        read_apart = first.article_id() == FIRE_B_ID  # the outbreak fold was read
        assert len(items(config)) == (3 if read_apart else 2)


def test_an_endpoint_that_refuses_every_question_ends_the_reading_and_keeps_nothing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    refusing = {"on": True}

    def refuse(body: dict[str, Any]) -> int | None:
        # The known questions are answered until a question has been refused: the
        # endpoint took the first checks, then turned to refusing everything.
        return 400 if refusing["on"] and (not is_control(body) or reader.requests) else None

    with running_reader(ReaderServer(reply=reads_the_outbreaks_apart, refuse=refuse)) as reader:
        config = fetched(tmp_path, feed_server, OUTLETS, reader_section(reader.url))
        # One question refused, then the known one asked again and refused too: the
        # reading ends, and no question is kept as read.
        assert len(reader.requests) == 2 and is_control(reader.requests[1])
        assert len(items(config)) == 2
        for article_id in (FIRE_B_ID, OUTBREAK_B_ID):
            assert "refused" not in run_cli(config, "dedup", "explain", article_id).stdout

        refusing["on"] = False
        healed = run_cli(config, "fetch", "--all")
        assert healed.returncode == 0, healed.stderr
        assert "read: the reader read 2 folds, 1 split out" in healed.stderr
        assert len(items(config)) == 3


def test_a_question_not_answered_in_time_is_left_for_a_later_pass(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    first = FirstQuestion()
    slow = {"seconds": 3.0}
    slow_on_first = ReaderServer(
        reply=reads_the_outbreaks_apart,
        delay=lambda body: slow["seconds"] if first(body) else 0.0,
    )
    with running_reader(slow_on_first) as reader:
        section = reader_section(reader.url, ", timeout: 1s")
        config = fetched(tmp_path, feed_server, OUTLETS, section)
        # The slow question was given up on, and the other fold read after it.
        asked = reader.user_texts()
        assert len(asked) == 2 and asked[0] == first.text and asked[1] != first.text
        other = OUTBREAK_B_ID if first.article_id() == FIRE_B_ID else FIRE_B_ID
        assert "read by test-model" in run_cli(config, "dedup", "explain", other).stdout
        unread = run_cli(config, "dedup", "explain", first.article_id()).stdout
        assert "read by test-model" not in unread and "the reader" not in unread

        # Left unread, it is asked again after the next pass, and read when in time.
        slow["seconds"] = 0.0
        again = run_cli(config, "fetch", "--all")
        assert again.returncode == 0, again.stderr
        assert reader.user_texts()[2:] == [first.text]
        assert "read: the reader read 1 folds" in again.stderr
        assert len(items(config)) == 3


def test_a_second_question_not_answered_in_time_ends_the_reading(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    three_folds = {
        source: [*told, warehouse]
        for (source, told), warehouse in zip(
            OUTLETS.items(), (WAREHOUSE_A, WAREHOUSE_B), strict=True
        )
    }
    slow = ReaderServer(
        reply=reads_the_outbreaks_apart, delay=lambda body: 0.0 if is_control(body) else 3.0
    )
    with running_reader(slow) as reader:
        section = reader_section(reader.url, ", timeout: 1s")
        config = fetched(tmp_path, feed_server, three_folds, section)
        # A reader slow over every question costs two timeouts a pass, not one a fold.
        assert len(reader.requests) == 2
        assert len(items(config)) == 3  # the three folds stand
        assert "the reader took too long" in run_cli(config, "fetch", "--all").stderr
        assert len(reader.requests) == 4


def test_a_reader_whose_answers_cannot_be_read_is_asked_nothing_more(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A base model, or a chat template that drops the instructions: it goes on with
    the text instead of answering. Were it asked, each question would be kept as read,
    unreadable, and never asked again once the operator put it right."""
    rambling = ReaderServer(reply=lambda body: "<report A>\nOutlet: …", answers_controls=False)
    with running_reader(rambling) as reader:
        config = fetched(tmp_path, feed_server, OUTLETS, reader_section(reader.url))
        assert len(reader.requests) == 4 and all(is_control(b) for b in reader.requests)
        again = run_cli(config, "fetch", "--all")
        assert "no answer to the known questions could be read: unreadable answer" in (again.stderr)
        assert len(reader.requests) == 8  # asked again after the next pass

        reader.reply = lambda body: (
            json.dumps({"same_event": CONTROL_ANSWERS[body["messages"][-1]["content"]]})
            if is_control(body)
            else reads_the_outbreaks_apart(body)
        )
        healed = run_cli(config, "fetch", "--all")
        assert "read: the reader read 2 folds, 1 split out" in healed.stderr
        assert len(items(config)) == 3
