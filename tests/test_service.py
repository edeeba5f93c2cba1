"""``aggregator run`` as operators leave it running: live edits of feeds.yaml, SIGHUP,
invalid edits refused, the stored schedule honoured, a clean stop."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli import AGGREGATOR, cli_env
from tests.feedserver import FeedServer

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>
<link>https://{name}.example/</link><description>d</description>
<item><title>{name} story</title><link>https://{name}.example/1</link><guid>{name}-1</guid>
<pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate><description>Text.</description></item>
</channel></rss>"""


class RunningService:
    def __init__(self, config: Path, command: str = "run") -> None:
        env = cli_env()
        self.process = subprocess.Popen(
            [str(AGGREGATOR), "-c", str(config), command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; output:\n{''.join(self.lines)}")

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


def served_at(running: RunningService) -> str:
    """The address the service logged ("serving HTTP on http://127.0.0.1:PORT/")."""
    for line in running.lines:
        found = re.search(r"serving HTTP on (http://[\w.:\[\]-]+)", line)
        if found:
            return found.group(1)
    raise AssertionError("the service did not say where it serves")


@pytest.fixture
def service(
    tmp_path: Path, feed_server: FeedServer
) -> Iterator[tuple[RunningService, Path, FeedServer]]:
    for name in ("alpha", "beta", "gamma"):
        feed_server.serve(f"/{name}.xml", RSS.format(name=name))
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "server: {port: 0}\n"
        "fetch: {allow_private: [127.0.0.1]}\n"
        f"sources:\n  - {{id: alpha, url: '{feed_server.url('/alpha.xml')}', interval: 1h}}\n",
        encoding="utf-8",
    )
    running = RunningService(config)
    try:
        running.wait_for(lambda: bool(feed_server.requests_to("/alpha.xml")), "the first pass")
        yield running, config, feed_server
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()
        if running.process.stdout is not None:
            running._reader.join(timeout=5)
            running.process.stdout.close()


def test_an_edit_takes_effect_within_seconds(
    service: tuple[RunningService, Path, FeedServer],
) -> None:
    running, config, server = service
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text + f"  - {{id: beta, url: '{server.url('/beta.xml')}', interval: 1h}}\n",
        encoding="utf-8",
    )
    running.wait_for(lambda: bool(server.requests_to("/beta.xml")), "the added source's first pass")
    running.wait_for(lambda: running.logged("added beta"), "the reload log line")
    assert running.stop() == 0
    assert running.logged("stopped")


def test_an_invalid_edit_is_reported_and_changes_nothing(
    service: tuple[RunningService, Path, FeedServer],
) -> None:
    running, config, server = service
    good = config.read_text(encoding="utf-8")
    config.write_text(good + "  - {id: Not Valid!, url: 'ftp://nowhere'}\n", encoding="utf-8")
    running.wait_for(lambda: running.logged("feeds.yaml edit refused"), "the refusal")
    assert running.logged("sources[1].id")
    index = config.parent / "public" / "index.html"
    running.wait_for(
        lambda: "edit refused" in index.read_text("utf-8"), "the refusal on the index page"
    )
    # Publicly: where and what, without the refused values or the file's absolute path.
    page = index.read_text("utf-8")
    assert "feeds.yaml:" in page and "sources[1].id" in page
    assert "ftp://nowhere" not in page and str(config) not in page
    # Still running on the last good configuration; a later valid edit is taken.
    config.write_text(
        good + f"  - {{id: gamma, url: '{server.url('/gamma.xml')}', interval: 1h}}\n",
        encoding="utf-8",
    )
    running.wait_for(lambda: bool(server.requests_to("/gamma.xml")), "the valid edit")
    assert running.process.poll() is None
    assert running.stop() == 0


def test_sighup_reloads_and_a_removed_source_is_no_longer_polled(
    service: tuple[RunningService, Path, FeedServer],
) -> None:
    running, config, server = service
    config.write_text(
        "server: {port: 0}\n"
        "fetch: {allow_private: [127.0.0.1]}\n"
        f"sources:\n  - {{id: beta, url: '{server.url('/beta.xml')}', interval: 1s}}\n",
        encoding="utf-8",
    )
    running.process.send_signal(signal.SIGHUP)
    running.wait_for(lambda: len(server.requests_to("/beta.xml")) >= 2, "beta polled every second")
    running.wait_for(lambda: running.logged("removed alpha"), "alpha removed")
    alpha_polls = len(server.requests_to("/alpha.xml"))
    running.wait_for(lambda: len(server.requests_to("/beta.xml")) >= 4, "more beta polls")
    assert len(server.requests_to("/alpha.xml")) == alpha_polls
    assert running.stop() == 0


def test_a_restart_honours_the_stored_schedule(
    service: tuple[RunningService, Path, FeedServer],
) -> None:
    running, config, server = service
    assert running.stop() == 0
    server.requests.clear()
    again = RunningService(config)
    try:
        again.wait_for(lambda: again.logged("running:"), "the restart")
        time.sleep(1.5)  # a tick would have fetched by now if the schedule were ignored
        assert server.requests_to("/alpha.xml") == []  # due in an hour, not now
    finally:
        assert again.stop() == 0


def test_the_service_serves_what_it_publishes_over_http(
    service: tuple[RunningService, Path, FeedServer],
) -> None:
    running, _, _ = service
    running.wait_for(lambda: running.logged("serving HTTP on http://"), "the HTTP server")
    base = served_at(running)
    running.wait_for(
        lambda: "alpha story" in httpx.get(f"{base}/feeds/all.json").text, "the first publish"
    )
    feed = httpx.get(f"{base}/feeds/all.xml")
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "application/rss+xml; charset=utf-8"
    again = httpx.get(f"{base}/feeds/all.xml", headers={"If-None-Match": feed.headers["etag"]})
    assert again.status_code == 304
    health = httpx.get(f"{base}/healthz").json()
    assert health["status"] == "ok" and health["sources"] == 1 and health["failing"] == []
    assert "fetches_total" in httpx.get(f"{base}/metrics").text
    assert running.stop() == 0


def test_serve_alone_serves_what_a_fetch_stored(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.serve("/alpha.xml", RSS.format(name="alpha"))
    feed_server.serve("/down.xml", b"", status=500)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "server: {port: 0}\n"
        "fetch: {allow_private: [127.0.0.1]}\n"
        f"sources:\n  - {{id: alpha, url: '{feed_server.url('/alpha.xml')}'}}\n"
        f"  - {{id: down, url: '{feed_server.url('/down.xml')}'}}\n"
        f"  - {{id: gone, url: '{feed_server.url('/gone.xml')}'}}\n",
        encoding="utf-8",
    )
    env = cli_env()
    fetched = subprocess.run(
        [str(AGGREGATOR), "-c", str(config), "fetch"], capture_output=True, text=True, env=env
    )
    assert fetched.returncode == 1, fetched.stderr  # two of three sources failed
    server = RunningService(config, "serve")
    try:
        server.wait_for(lambda: server.logged("serving HTTP on http://"), "the HTTP server")
        base = served_at(server)
        page = httpx.get(f"{base}/")
        assert page.status_code == 200 and "alpha story" in page.text
        assert httpx.get(f"{base}/feeds/../feeds.yaml").status_code == 404
        # The same stories and failing sources as `run` reports, from the store.
        health = httpx.get(f"{base}/healthz").json()
        assert health["mode"] == "serve" and health["sources"] == 3
        assert health["failing"] == ["down", "gone"] and health["status"] == "degraded"
        assert "\nstories_published 1.0\n" in httpx.get(f"{base}/metrics").text
    finally:
        assert server.stop() == 0


def test_a_stop_right_after_a_pass_still_publishes_it(
    service: tuple[RunningService, Path, FeedServer],
) -> None:
    running, config, server = service
    config.write_text(
        config.read_text(encoding="utf-8")
        + f"  - {{id: gamma, url: '{server.url('/gamma.xml')}', interval: 1h}}\n",
        encoding="utf-8",
    )
    running.wait_for(lambda: bool(server.requests_to("/gamma.xml")), "gamma's first pass")
    assert running.stop() == 0  # well within the publish delay after the pass
    posts = config.parent / "_posts"
    assert any("gamma-story" in post.name for post in posts.glob("*.md"))
