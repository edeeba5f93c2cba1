"""Log lines: JSON objects, one a line, where a program reads them (a pipe, a file, a
container's log driver); lines a person reads on a terminal; ``AGGREGATOR_LOG_FORMAT``
choosing either way. In-process, then through ``aggregator run``."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator import logs
from tests.cli import AGGREGATOR
from tests.feedserver import FeedServer

#: A text line: its time in the site's zone, named (UTC by default), then level and message.
TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{3,4} (INFO|WARNING|ERROR) ")
RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>alpha</title>
<link>https://alpha.example/</link><description>d</description>
<item><title>알파 소식</title><link>https://alpha.example/1</link><guid>alpha-1</guid>
<pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate><description>Text.</description></item>
</channel></rss>"""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad entry")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(
        "aggregator.pipeline", logging.WARNING, __file__, 1, message, args, exc_info
    )


# -- in-process ----------------------------------------------------------------------------------


def test_a_json_line_has_time_level_logger_and_message() -> None:
    line = logs.JsonFormatter().format(record("source %s: %d new", "alpha", 3))
    entry = json.loads(line)
    assert list(entry) == ["time", "level", "logger", "message"]
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "aggregator.pipeline"
    assert entry["message"] == "source alpha: 3 new"
    when = datetime.fromisoformat(entry["time"])
    assert entry["time"].endswith("Z") and when.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - when) < timedelta(seconds=5)


def test_an_exception_goes_in_exc_and_a_message_of_many_lines_stays_one_line() -> None:
    line = logs.JsonFormatter().format(record("edit refused:\nfeeds.yaml:3:5 bad", exc=True))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "edit refused:\nfeeds.yaml:3:5 bad"
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert entry["exc"].endswith("ValueError: bad entry")


def test_text_beyond_ascii_is_kept_or_escaped_as_the_stream_needs() -> None:
    assert "알파" in logs.JsonFormatter().format(record("알파 소식"))
    escaped = logs.JsonFormatter(ensure_ascii=True).format(record("알파 소식"))
    assert escaped.isascii() and json.loads(escaped)["message"] == "알파 소식"


@pytest.mark.parametrize(
    ("stream", "variable", "expected"),
    [
        (io.StringIO(), None, "json"),
        (Terminal(), None, "text"),
        (Terminal(), "json", "json"),
        (io.StringIO(), "text", "text"),
        (io.StringIO(), " JSON ", "json"),
    ],
)
def test_json_unless_a_terminal_and_the_variable_decides(
    stream: io.StringIO, variable: str | None, expected: str
) -> None:
    environ = {} if variable is None else {logs.FORMAT_VARIABLE: variable}
    assert logs.chosen_format(stream, environ) == (expected, None)


def test_an_unknown_format_is_said_and_the_default_kept() -> None:
    chosen, complaint = logs.chosen_format(Terminal(), {logs.FORMAT_VARIABLE: "yaml"})
    assert chosen == "text"
    assert complaint == "AGGREGATOR_LOG_FORMAT='yaml' is not one of json, text; logging as text"


def test_a_closed_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    stream.close()
    assert logs.chosen_format(stream, {}) == ("json", None)


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, put back as it was afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield root
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)


def test_configure_writes_json_lines_and_a_second_call_replaces_the_first(
    root_logger: logging.Logger,
) -> None:
    first, second = io.StringIO(), io.StringIO()
    assert logs.configure(first, environ={}) == "json"
    assert logs.configure(second, environ={}) == "json"
    logging.getLogger("aggregator.scheduler").info("running: %d sources", 2)
    logging.getLogger("aggregator.scheduler").debug("not at INFO")
    assert first.getvalue() == ""
    [line] = second.getvalue().splitlines()
    assert json.loads(line)["message"] == "running: 2 sources"
    ours = [h for h in root_logger.handlers if isinstance(h, logs._Handler)]
    assert len(ours) == 1


def test_configure_on_a_terminal_writes_lines_for_people(root_logger: logging.Logger) -> None:
    terminal = Terminal()
    assert logs.configure(terminal, environ={}) == "text"
    try:
        raise ValueError("bad entry")
    except ValueError:
        logging.getLogger("aggregator.pipeline").exception("source %s: unexpected failure", "a")
    first, *rest = terminal.getvalue().splitlines()
    assert TEXT_LINE.match(first) and first.endswith("ERROR source a: unexpected failure")
    assert rest[0] == "Traceback (most recent call last):" and rest[-1] == "ValueError: bad entry"


def test_configure_says_when_the_variable_is_not_understood(root_logger: logging.Logger) -> None:
    stream = io.StringIO()
    logs.configure(stream, environ={logs.FORMAT_VARIABLE: "xml"})
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "WARNING" and "AGGREGATOR_LOG_FORMAT='xml'" in entry["message"]


# -- through the command line --------------------------------------------------------------------


def test_text_lines_give_the_time_in_the_sites_zone(root_logger: logging.Logger) -> None:
    # The terminal showed the machine's local time, `sources` and the pages the site's.
    terminal = Terminal()
    logs.configure(terminal, environ={}, tz=ZoneInfo("Asia/Seoul"))
    logging.getLogger("aggregator").warning("source a failed")
    line = terminal.getvalue()
    assert TEXT_LINE.match(line) and " KST WARNING source a failed" in line
    when = datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Seoul"))
    assert abs((datetime.now(UTC) - when).total_seconds()) < 300


def service_config(tmp_path: Path, feed_server: FeedServer) -> Path:
    feed_server.serve("/alpha.xml", RSS)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "server: {port: 0}\n"
        "fetch: {allow_private: [127.0.0.1]}\n"
        "sources:\n"
        f"  - {{id: alpha, url: '{feed_server.url('/alpha.xml')}', interval: 1h}}\n"
        # Refused at once: a warning line.
        "  - {id: down, url: 'http://127.0.0.1:9/feed.xml', interval: 1h}\n",
        encoding="utf-8",
    )
    return config


def run_until(
    config: Path,
    stderr: int,
    read: Callable[[], bytes],
    done: Callable[[str], bool],
    environ: dict[str, str],
) -> str:
    """Run the service with ``stderr`` (a file descriptor, closed here) until ``done(what it
    wrote so far)``, stop it with SIGTERM; what it wrote."""
    env = {k: v for k, v in os.environ.items() if k not in ("AGGREGATOR_CONFIG",)}
    env.pop(logs.FORMAT_VARIABLE, None)
    env.update(environ)
    try:
        process = subprocess.Popen(
            [str(AGGREGATOR), "-c", str(config), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )
    finally:
        os.close(stderr)  # the service's copy only: the reader sees the end when it exits
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: _drain(read, chunks), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not done(b"".join(chunks).decode("utf-8", "replace")):
            assert time.monotonic() < deadline, b"".join(chunks).decode("utf-8", "replace")
            assert process.poll() is None, b"".join(chunks).decode("utf-8", "replace")
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=5)
    return b"".join(chunks).decode("utf-8")


def _drain(read: Callable[[], bytes], chunks: list[bytes]) -> None:
    while True:
        try:
            chunk = read()
        except OSError:  # a terminal whose other side has gone
            return
        if not chunk:
            return
        chunks.append(chunk)


def test_run_writes_json_lines_on_a_pipe(tmp_path: Path, feed_server: FeedServer) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        output = run_until(
            service_config(tmp_path, feed_server),
            write_end,
            lambda: pipe.read(65536),
            lambda text: "source alpha: ok" in text and "source down failed" in text,
            {},
        )
    entries = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    assert entries and all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    messages = [e["message"] for e in entries]
    assert any(m.startswith("serving HTTP on http://127.0.0.1:") for m in messages)
    assert any(m.startswith("running: 2 sources") for m in messages)
    assert messages[-1] == "stopped"
    failed = next(e for e in entries if e["message"].startswith("source down failed"))
    assert failed["level"] == "WARNING" and failed["logger"] == "aggregator.scheduler"
    times = [datetime.fromisoformat(e["time"]) for e in entries]
    assert times == sorted(times) and all(t.utcoffset() == timedelta(0) for t in times)


def test_run_writes_text_on_a_pipe_when_asked(tmp_path: Path, feed_server: FeedServer) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        output = run_until(
            service_config(tmp_path, feed_server),
            write_end,
            lambda: pipe.read(65536),
            lambda text: "source alpha: ok" in text,
            {logs.FORMAT_VARIABLE: "text"},
        )
    lines = output.splitlines()
    assert any(TEXT_LINE.match(line) and "INFO serving HTTP on http://" in line for line in lines)
    assert not any(line.startswith("{") for line in lines)


def test_run_writes_lines_for_people_on_a_terminal(tmp_path: Path, feed_server: FeedServer) -> None:
    controller, terminal = pty.openpty()
    try:
        output = run_until(
            service_config(tmp_path, feed_server),
            terminal,
            lambda: os.read(controller, 65536),
            lambda text: "source alpha: ok" in text,
            {},
        )
    finally:
        os.close(controller)
    lines = output.replace("\r\n", "\n").splitlines()
    assert any(TEXT_LINE.match(line) and "INFO running: 2 sources" in line for line in lines)
    assert not any(line.startswith("{") for line in lines)


def test_a_message_repeated_in_a_tight_loop_is_logged_once_per_interval() -> None:
    # Out of file descriptors, asyncio logs a failed accept on every turn of the loop.
    now = [100.0]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RepeatThrottle(seconds=10, clock=lambda: now[0]))
    logger = logging.getLogger("test.throttle")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for _ in range(50_000):
            logger.error("socket.accept() out of system resource")
        logger.error("another message")
        now[0] += 10
        logger.error("socket.accept() out of system resource")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "socket.accept() out of system resource",
        "another message",
        "socket.accept() out of system resource (and 49999 more like it in 10s)",
    ]
