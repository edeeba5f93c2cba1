"""``aggregator demo``: the bundled sample feeds served on 127.0.0.1, one pass, no internet.

The sample feeds (Korean RSS with the reference article, English Atom, a JSON Feed) are
served by a throwaway HTTP server on a free port; the demo configuration points at it, and
one ``fetch --all`` and ``publish`` run as they would against real outlets.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aggregator import pipeline
from aggregator.config import load_config
from aggregator.store import Store

HERE = Path(__file__).parent
FEEDS = HERE / "feeds"


_MEDIA_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
}


class _FeedHandler(SimpleHTTPRequestHandler):
    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return _MEDIA_TYPES.get(Path(path).suffix, "application/octet-stream")

    def log_message(self, format: str, *args: object) -> None:  # keep the demo's output clean
        pass


@contextmanager
def serve_sample_feeds(directory: Path = FEEDS) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_FeedHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_demo(directory: Path, echo: Callable[[str], None] = print) -> int:
    """Run the demo in ``directory``; returns the exit status."""
    directory.mkdir(parents=True, exist_ok=True)
    with serve_sample_feeds() as base:
        config_path = directory / "feeds.yaml"
        template = (HERE / "feeds.yaml").read_text(encoding="utf-8")
        config_path.write_text(template.replace("{base}", base), encoding="utf-8")
        settings = load_config(config_path)
        echo(f"serving the sample feeds at {base}/")
        with Store.open(settings.storage) as store:
            store.sync_sources(settings.sources)
            reports = asyncio.run(
                pipeline.run_pass(settings, store, settings.sources, lambda: datetime.now(UTC))
            )
            result = pipeline.publish_all(settings, store, datetime.now(UTC))
    for report in reports:
        outcome = report.error if report.failed else f"{report.inserted} new articles"
        echo(f"  {report.source_id}: {outcome}")
    out = settings.output.dir
    echo("channels:")
    for channel in settings.channels:
        echo(f"  {channel.title}: {out / 'feeds' / channel.id}.xml (.atom, .json)")
    echo(f"index page: {out / 'index.html'}")
    if settings.output.posts_dir:
        echo(f"posts ({result.posts_written} written): {settings.output.posts_dir}")
    echo(f"configuration used: {config_path}")
    return 1 if any(report.failed for report in reports) else 0
