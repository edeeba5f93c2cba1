"""reader's side of the peer benchmark; run with the peer venv's python.

    python reader_side.py add DB URLS_FILE        # setup: create the store, add every feed
    python reader_side.py update DB [--workers N] [--scheduled]   # the timed pass

The update asks for every feed, due or not (``scheduled=False``), as ``aggregator fetch
--all`` does: since reader 3.21 ``update_feeds()`` skips the feeds its schedule says are
not due yet, which would leave the warm and changed passes with nothing to fetch.
``--scheduled`` keeps reader's default instead.

The update is the whole process on purpose: interpreter start-up and imports are what a
cron job that runs it pays on every pass, as it pays them for ``aggregator fetch --all``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from reader import make_reader


def add_feeds(db: Path, urls: Sequence[str]) -> None:
    reader = make_reader(str(db))
    try:
        for url in urls:
            reader.add_feed(url, exist_ok=True)
    finally:
        reader.close()


def update_feeds(db: Path, workers: int | None, scheduled: bool) -> None:
    reader = make_reader(str(db))
    options = {} if workers is None else {"workers": workers}  # else reader's default
    try:
        reader.update_feeds(scheduled=scheduled, **options)
    finally:
        reader.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add")
    add.add_argument("db", type=Path)
    add.add_argument("urls", type=Path, help="a file with one feed URL per line")
    update = commands.add_parser("update")
    update.add_argument("db", type=Path)
    update.add_argument("--workers", type=int, help="reader's default when not given")
    update.add_argument("--scheduled", action="store_true", help="only the feeds that are due")
    args = parser.parse_args(argv)
    if args.command == "add":
        add_feeds(args.db, args.urls.read_text().split())
    else:
        update_feeds(args.db, args.workers, args.scheduled)


if __name__ == "__main__":
    main()
