"""``aggregator dedup check-reader``: an operator who has put a model behind
``dedup.reader`` sees, before any pass, how it answers the four questions whose answers
are known and what the service will let it change. Against a chat completions endpoint
on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli import run_cli
from tests.readerserver import ReaderServer, running_reader
from tests.test_dedup_reader import reader_section

ONE_EVENT = '{"same_event": true, "reason": "both tell of a fire"}'


def config_with(tmp_path: Path, section: str) -> Path:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "site: {link: 'https://agg.example/'}\n"
        + section
        + "sources:\n  - {id: harbor, name: Harbor, url: 'https://harbor.example/rss'}\n",
        encoding="utf-8",
    )
    return config


def test_a_careful_reader_is_shown_trusted_with_both(tmp_path: Path) -> None:
    with running_reader(ReaderServer()) as reader:
        config = config_with(tmp_path, reader_section(reader.url))
        checked = run_cli(config, "check")
        result = run_cli(config, "dedup", "check-reader")
    assert f"reader: test-model at {reader.url} (`aggregator dedup check-reader` " in checked.stdout
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"reader: test-model at {reader.url}"
    assert lines[1].startswith(
        "  two fires in one town (English): known two events, read two events ("
    )
    assert lines[4].startswith(
        "  one fire told by two outlets (Korean): known one event, read one event ("
    )
    assert lines[5:] == [
        "splits a fold it reads as another event: yes",
        "joins a near miss it reads as one event: yes",
    ]
    assert not (tmp_path / "data").exists()  # no store is opened


def test_a_reader_that_reads_everything_as_one_event_is_not_let_join(tmp_path: Path) -> None:
    said_one = ReaderServer(reply=lambda body: ONE_EVENT, answers_controls=False)
    with running_reader(said_one) as reader:
        result = run_cli(config_with(tmp_path, reader_section(reader.url)), "dedup", "check-reader")
    assert result.returncode == 1
    assert "  two fires in one town (English): known two events, read one event (" in result.stdout
    assert "    its reason: both tell of a fire" in result.stdout  # the reason of a wrong answer
    assert "splits a fold it reads as another event: yes" in result.stdout
    assert "joins a near miss it reads as one event: no" in result.stdout
    assert len(reader.requests) == 4


def test_a_reader_whose_answers_cannot_be_read_is_told_so(tmp_path: Path) -> None:
    def rambles(body: dict[str, Any]) -> str:
        return "<report A>\nOutlet: Daily Ledger"  # a base model going on with the reports

    with running_reader(ReaderServer(reply=rambles, answers_controls=False)) as reader:
        result = run_cli(config_with(tmp_path, reader_section(reader.url)), "dedup", "check-reader")
    assert result.returncode == 1
    assert "read no reading" in result.stdout
    assert "its reason: unreadable answer: <report A> Outlet: Daily Ledger" in result.stdout
    assert "no answer could be read" in result.stdout
    assert "splits a fold" not in result.stdout


def test_an_endpoint_in_error_and_no_reader_at_all_are_clear_errors(tmp_path: Path) -> None:
    with running_reader(ReaderServer(status=503)) as reader:
        result = run_cli(config_with(tmp_path, reader_section(reader.url)), "dedup", "check-reader")
    assert result.returncode == 1
    assert "error: the reader cannot be asked: " in result.stderr and "HTTP 503" in result.stderr

    no_reader = run_cli(config_with(tmp_path, ""), "dedup", "check-reader")
    assert "reader:" not in run_cli(config_with(tmp_path, ""), "check").stdout
    assert no_reader.returncode == 2
    assert "sets no dedup.reader: the rules alone fold" in no_reader.stderr


def test_a_reader_slower_than_its_timeout_is_told_which_setting_to_raise(tmp_path: Path) -> None:
    with running_reader(ReaderServer(delay=lambda body: 2.0, answers_controls=False)) as reader:
        config = config_with(tmp_path, reader_section(reader.url, ", timeout: 1s"))
        result = run_cli(config, "dedup", "check-reader")
    assert result.returncode == 1
    assert "no answer in time" in result.stderr
    assert "dedup.reader.timeout is 1s, and a model on a small machine may need more" in (
        result.stderr
    )
