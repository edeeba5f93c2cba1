"""``aggregator dedup check-reader``: an operator who has put a model behind
``dedup.reader`` sees, before any pass, how it answers the four questions whose answers
are known and what the service will let it change. Against a chat completions endpoint
on 127.0.0.1."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.cli import run_cli
from tests.readerserver import CONTROL_ANSWERS, ReaderServer, running_reader
from tests.test_dedup_reader import reader_section

ONE_EVENT = '{"same_event": true, "reason": "both tell of a fire"}'
TWO_EVENTS = '{"same_event": false, "reason": "other outlets"}'


def as_known(body: dict[str, Any]) -> str:
    """A careful reader's answer to one of the known questions."""
    return ONE_EVENT if CONTROL_ANSWERS[body["messages"][-1]["content"]] else TWO_EVENTS


def config_with(tmp_path: Path, section: str) -> Path:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "site: {link: 'https://agg.example/'}\n"
        + section
        + "sources:\n  - {id: harbor, name: Harbor, url: 'https://harbor.example/rss'}\n",
        encoding="utf-8",
    )
    return config


def checked_with(
    tmp_path: Path, server: ReaderServer, more: str = ""
) -> subprocess.CompletedProcess[str]:
    """``dedup check-reader`` run against ``server`` (``more`` of the reader's keys)."""
    with running_reader(server) as reader:
        return run_cli(
            config_with(tmp_path, reader_section(reader.url, more)), "dedup", "check-reader"
        )


def test_a_careful_reader_is_shown_trusted_with_both(tmp_path: Path) -> None:
    with running_reader(ReaderServer()) as reader:
        config = config_with(tmp_path, reader_section(reader.url))
        checked = run_cli(config, "check")
        result = run_cli(config, "dedup", "check-reader")
    assert f"reader: test-model at {reader.url} (`aggregator dedup check-reader` " in checked.stdout
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"reader: test-model at {reader.url}"
    asked = [
        "two fires in one town (English): known two events, read two events (",
        "one fire told by two outlets (English): known one event, read one event (",
        "two fires in one city (Korean): known two events, read two events (",
        "one fire told by two outlets (Korean): known one event, read one event (",
    ]
    assert len(lines) == 7
    for line, start in zip(lines[1:5], asked, strict=True):
        assert line.startswith(f"  {start}"), line
    assert lines[5:] == [
        "splits a fold it reads as another event: yes",
        "joins a near miss it reads as one event: yes",
    ]
    assert not (tmp_path / "data").exists()  # no store is opened


def test_a_reader_that_reads_everything_as_one_event_is_not_let_join(tmp_path: Path) -> None:
    result = checked_with(tmp_path, ReaderServer(reply=lambda b: ONE_EVENT, answers_controls=False))
    assert result.returncode == 1
    assert "  two fires in one town (English): known two events, read one event (" in (
        result.stdout
    )
    assert "    its reason: both tell of a fire" in result.stdout  # a wrong answer's reason
    assert "splits a fold it reads as another event: yes" in result.stdout
    assert "joins a near miss it reads as one event: no" in result.stdout


def test_a_reader_that_reads_everything_as_two_events_is_not_let_split(tmp_path: Path) -> None:
    said_two = ReaderServer(reply=lambda b: TWO_EVENTS, answers_controls=False)
    result = checked_with(tmp_path, said_two)
    assert result.returncode == 1
    assert "splits a fold it reads as another event: no" in result.stdout
    assert "joins a near miss it reads as one event: yes" in result.stdout
    assert len(said_two.requests) == 4  # each known question asked once


def test_a_reader_whose_answers_cannot_be_read_is_told_so(tmp_path: Path) -> None:
    def rambles(body: dict[str, Any]) -> str:
        return "<report A>\nOutlet: Daily Ledger"  # a base model going on with the reports

    result = checked_with(tmp_path, ReaderServer(reply=rambles, answers_controls=False))
    assert result.returncode == 1
    assert "  two fires in one town (English): known two events, answer not readable (" in (
        result.stdout
    )
    assert "    unreadable answer: <report A> Outlet: Daily Ledger" in result.stdout
    assert "error: no answer could be read, so the service would ask it nothing more" in (
        result.stderr
    )
    assert "splits a fold" not in result.stdout


def test_an_answer_that_cannot_be_read_decides_nothing(tmp_path: Path) -> None:
    def korean_unread(body: dict[str, Any]) -> str:
        text = body["messages"][-1]["content"]
        return "..." if "화재" in text else as_known(body)

    result = checked_with(tmp_path, ReaderServer(reply=korean_unread, answers_controls=False))
    assert result.returncode == 1  # not every answer was as known
    assert "  two fires in one city (Korean): known two events, answer not readable (" in (
        result.stdout
    )
    assert "splits a fold it reads as another event: yes" in result.stdout
    assert "joins a near miss it reads as one event: yes" in result.stdout
    assert "an answer that could not be read decides nothing: the service asks again" in (
        result.stdout
    )


def test_an_endpoint_in_error_is_a_clear_error(tmp_path: Path) -> None:
    result = checked_with(tmp_path, ReaderServer(status=503))
    assert result.returncode == 1
    assert "error: the reader cannot be asked (two fires in one town (English)): " in (
        result.stderr
    )
    assert "HTTP 503" in result.stderr


def test_a_file_with_no_reader_says_the_rules_alone_fold(tmp_path: Path) -> None:
    config = config_with(tmp_path, "")
    result = run_cli(config, "dedup", "check-reader")
    assert result.returncode == 2
    assert "sets no dedup.reader: the rules alone fold" in result.stderr
    assert "reader:" not in run_cli(config, "check").stdout


def test_a_reader_slower_than_its_timeout_is_told_which_setting_to_raise(tmp_path: Path) -> None:
    def slow_on_the_third(body: dict[str, Any]) -> float:
        return 2.0 if "대덕구" in body["messages"][-1]["content"] else 0.0

    slow = ReaderServer(reply=as_known, delay=slow_on_the_third, answers_controls=False)
    result = checked_with(tmp_path, slow, ", timeout: 1s")
    assert result.returncode == 1
    # The answers before the one it was stuck on are shown, then which one that was.
    assert "  one fire told by two outlets (English): known one event, read one event (" in (
        result.stdout
    )
    assert "error: no answer to two fires in one city (Korean) in time: " in result.stderr
    assert "dedup.reader.timeout is 1s, and a model on a small machine may need more" in (
        result.stderr
    )
