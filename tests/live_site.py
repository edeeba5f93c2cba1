"""A published site served by the real ``aggregator serve``, for tests that point real
clients (a browser, a feed reader) at it; and installing those clients from Debian.

``running_site`` serves two small outlet feeds (Korean and English titles, RSS and Atom) on
127.0.0.1, runs ``aggregator fetch --all`` on them, then ``aggregator serve`` with
``server.port: 0`` and reads the address it logs. ``installed`` finds a command, installing
its Debian package when it is missing and this machine can (root and apt-get);
``korean_font`` does the same for a font with Hangul.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.cli import AGGREGATOR
from tests.feedserver import running_server

#: Longest wait for ``aggregator serve`` to say where it listens.
SERVE_START_SECONDS = 30

_LISTENING = re.compile(r"serving HTTP on (http://127\.0\.0\.1:\d+/)")

#: (title, link, pubDate) of the RSS outlet's items, newest first.
RSS_ITEMS = (
    (
        "반도체 수출 석 달 연속 증가",
        "https://newsdao.kr/news/chips",
        "Sat, 21 Nov 2026 08:00:00 +0900",
    ),
    (
        "글로벌 유니콘으로 성장하는 초격차 AI 스타트업의 이야기",
        "https://newsdao.kr/news/ai-startup-levelup",
        "Fri, 20 Nov 2026 09:30:00 +0900",
    ),
    (
        "서울 첫눈, 평년보다 일주일 빨라",
        "https://newsdao.kr/news/snow",
        "Thu, 19 Nov 2026 07:10:00 +0900",
    ),
)
#: (title, link, updated) of the Atom outlet's entries, newest first.
ATOM_ITEMS = (
    ("Rates hold as markets rally", "https://wire.example.com/rates", "2026-11-20T22:00:00Z"),
    ("Port strike ends after talks", "https://wire.example.com/port", "2026-11-18T12:00:00Z"),
)
#: Every title as the ``all`` channel lists them: newest first, both outlets interleaved.
TITLES = (RSS_ITEMS[0][0], ATOM_ITEMS[0][0], RSS_ITEMS[1][0], RSS_ITEMS[2][0], ATOM_ITEMS[1][0])


@dataclass(frozen=True)
class LiveSite:
    #: Where ``aggregator serve`` listens, ending with ``/``.
    base: str
    #: The published channel ids.
    channels: tuple[str, ...]
    #: Every story title, newest first (as the ``all`` channel lists them).
    titles: tuple[str, ...]
    config: Path

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")


def _rss() -> str:
    items = "".join(
        f"<item><title>{escape(title)}</title><link>{link}</link>"
        f'<guid isPermaLink="false">{link}</guid><pubDate>{date}</pubDate>'
        f"<description>{escape(title)}. 자세한 내용은 본문에서.</description></item>"
        for title, link, date in RSS_ITEMS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>newsdao</title><link>https://newsdao.kr</link><description>속보</description>"
        f"{items}</channel></rss>"
    )


def _atom() -> str:
    entries = "".join(
        f"<entry><id>{link}</id><title>{escape(title)}</title>"
        f'<link rel="alternate" href="{link}"/><updated>{date}</updated>'
        f"<summary>{escape(title)}: the full report.</summary></entry>"
        for title, link, date in ATOM_ITEMS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>urn:wire</id><title>World Wire</title><updated>2026-11-20T22:00:00Z</updated>"
        f"{entries}</feed>"
    )


def _config(directory: Path, rss_url: str, atom_url: str) -> Path:
    config = directory / "feeds.yaml"
    config.write_text(
        f"""
site: {{title: 뉴스 모음, description: 여러 언론사의 속보를 한곳에, language: ko,
        link: "https://news.example.org/", timezone: Asia/Seoul}}
storage: sqlite:///data/aggregator.db
output: {{dir: public, posts_dir: null}}
server: {{host: 127.0.0.1, port: 0}}
fetch: {{allow_private: [127.0.0.1]}}
sources:
  - {{id: newsdao, url: "{rss_url}", name: newsdao, categories: [News]}}
  - {{id: wire, url: "{atom_url}", name: World Wire, categories: [World]}}
channels:
  - {{id: all, title: 전체 뉴스}}
  - {{id: world, title: World, categories: [World]}}
""",
        encoding="utf-8",
    )
    return config


def _aggregator_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}


@contextmanager
def running_site(directory: Path) -> Iterator[LiveSite]:
    """The site published from two outlets by the real CLI and served by ``aggregator
    serve`` until the block ends."""
    with running_server() as outlets:
        rss_url = outlets.serve("/newsdao.xml", _rss())
        atom_url = outlets.serve("/wire.atom", _atom(), content_type="application/atom+xml")
        config = _config(directory, rss_url, atom_url)
        fetched = subprocess.run(
            [str(AGGREGATOR), "-c", str(config), "fetch", "--all"],
            capture_output=True,
            text=True,
            timeout=120,
            env=_aggregator_env(),
        )
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    with _serving(config) as base:
        yield LiveSite(base, ("all", "world"), TITLES, config)


@contextmanager
def _serving(config: Path) -> Iterator[str]:
    """``aggregator serve`` on ``config``; yields the base URL it logs; SIGINT at the end."""
    process = subprocess.Popen(
        [str(AGGREGATOR), "-c", str(config), "serve", "--refresh", "3600"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_aggregator_env(),
    )
    lines: queue.Queue[str | None] = queue.Queue()
    log: list[str] = []

    def read() -> None:  # drains stderr for the server's whole life, so it never blocks
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        base = None
        while base is None:
            try:
                line = lines.get(timeout=SERVE_START_SECONDS)
            except queue.Empty:
                message = f"aggregator serve said nothing for {SERVE_START_SECONDS}s"
                raise AssertionError(message) from None
            if line is None:
                raise AssertionError("aggregator serve stopped:\n" + "".join(log))
            if found := _LISTENING.search(line):
                base = found.group(1)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        reader.join(timeout=5)
        if process.stderr is not None:
            process.stderr.close()


def installed(command: str, package: str) -> str:
    """The path of ``command``; skips the test, naming Debian's ``package``, when it is not
    installed (``make system-deps``, which ``.ci/run`` runs, installs it)."""
    found = shutil.which(command)
    if not found:
        pytest.skip(f"{command} is not installed (Debian's {package}; see `make system-deps`)")
    return found


def korean_font() -> None:
    """Skips the test when no font with Hangul is installed (Debian's fonts-nanum), since a
    browser would draw Korean text as empty boxes."""
    if not _has_korean_font():
        pytest.skip("no font with Hangul is installed (Debian's fonts-nanum)")


def _has_korean_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    listed = subprocess.run(
        ["fc-list", ":lang=ko", "family"], capture_output=True, text=True, timeout=60
    )
    return bool(listed.stdout.strip())
