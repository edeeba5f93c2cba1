"""Log lines for people and for machines (``run`` and ``serve``).

On a terminal, a line a person reads: ``2026-11-25 09:30:00,123 INFO source a: ok, …``.
Anywhere else (a pipe, a file, a container's log driver, journald), one JSON object per
line: ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``, ``message`` (the text a
person would read, verbatim, newlines and all), and ``exc`` (the traceback) when an
exception is logged. ``AGGREGATOR_LOG_FORMAT=json`` or ``text`` chooses either way.
Standard library ``logging`` only.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Literal, TextIO

#: The environment variable that chooses the format: ``json`` or ``text``.
FORMAT_VARIABLE = "AGGREGATOR_LOG_FORMAT"
LogFormat = Literal["json", "text"]
FORMATS: tuple[LogFormat, ...] = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def __init__(self, *, ensure_ascii: bool = False) -> None:
        super().__init__()
        self.ensure_ascii = ensure_ascii

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=self.ensure_ascii, default=repr)


def _utc(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


class RepeatThrottle(logging.Filter):
    """Lets the same message through once per ``seconds`` (with how many were held back):
    out of file descriptors, the event loop logs a failed accept on every turn, which
    once wrote 485,132 lines in 40 s."""

    def __init__(self, seconds: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.seconds = seconds
        self.clock = clock
        self._last: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = f"{record.name}:{record.msg}"
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last[0] < self.seconds:
            self._last[key] = (last[0], last[1] + 1)
            return False
        if last is not None and last[1]:
            record.msg = f"{record.msg} (and {last[1]} more like it in {self.seconds:g}s)"
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = (now, 0)
        return True


#: Loggers that repeat one message in a tight loop when the machine runs out of something.
THROTTLED_LOGGERS = ("asyncio", "uvicorn.error")


class ZonedFormatter(logging.Formatter):
    """Text lines with their time in one zone, named: ``2026-12-02 21:44:05 KST``."""

    def __init__(self, fmt: str, tz: tzinfo | None = None) -> None:
        super().__init__(fmt)
        self.tz = tz or UTC

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.tz)
        return moment.strftime(datefmt or "%Y-%m-%d %H:%M:%S %Z")


class _Handler(logging.StreamHandler[TextIO]):
    """The handler ``configure`` installs; found again, and replaced, on a second call."""


def chosen_format(stream: TextIO, environ: Mapping[str, str]) -> tuple[LogFormat, str | None]:
    """The format for ``stream``, and a complaint about an unusable setting, if any."""
    wanted = environ.get(FORMAT_VARIABLE, "").strip().lower()
    if wanted == "json":
        return "json", None
    if wanted == "text":
        return "text", None
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        terminal = False
    chosen: LogFormat = "text" if terminal else "json"
    if not wanted:
        return chosen, None
    return chosen, (
        f"{FORMAT_VARIABLE}={environ[FORMAT_VARIABLE]!r} is not one of "
        f"{', '.join(FORMATS)}; logging as {chosen}"
    )


def configure(
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    level: int = logging.INFO,
    tz: tzinfo | None = None,
) -> LogFormat:
    """Send the root logger's records at ``level`` and above to ``stream`` (stderr) in the
    chosen format; returns which. Text lines give times in ``tz`` (the site's zone, as
    every page shows them), JSON lines in UTC. Calling it again replaces what it installed
    before and leaves other handlers alone."""
    stream = sys.stderr if stream is None else stream
    environ = os.environ if environ is None else environ
    chosen, complaint = chosen_format(stream, environ)
    handler = _Handler(stream)
    if chosen == "json":
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        handler.setFormatter(JsonFormatter(ensure_ascii=encoding != "utf8"))
    else:
        handler.setFormatter(ZonedFormatter(TEXT_FORMAT, tz=tz))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # a library's warning is a log line like any other
    for name in THROTTLED_LOGGERS:
        throttled = logging.getLogger(name)
        if not any(isinstance(f, RepeatThrottle) for f in throttled.filters):
            throttled.addFilter(RepeatThrottle())
    if complaint:
        logging.getLogger(__name__).warning("%s", complaint)
    return chosen
