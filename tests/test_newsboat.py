"""A real feed reader subscribes: newsboat (Debian's, installed when missing) reloads the
RSS and Atom channels served by ``aggregator serve``, and its own cache holds every item.

newsboat reads RSS and Atom (and RDF) but not JSON Feed, so the JSON channels are not
subscribed here; their format is checked in test_syndication.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_site import ATOM_ITEMS, LiveSite, installed, running_site

#: Longest a ``newsboat -x reload`` of a few local feeds may take.
NEWSBOAT_SECONDS = 120


@pytest.fixture(scope="module")
def newsboat_binary() -> str:
    return installed("newsboat", "newsboat")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with running_site(tmp_path_factory.mktemp("site")) as running:
        yield running


def reload(binary: str, directory: Path, urls: list[str]) -> Path:
    """``newsboat -x reload`` on ``urls``, non-interactive, everything inside ``directory``
    (its HOME too); the path of its cache."""
    (directory / "urls").write_text("".join(f"{url}\n" for url in urls), encoding="utf-8")
    (directory / "config").write_text("reload-threads 2\n", encoding="utf-8")
    cache = directory / "cache.db"
    process = subprocess.Popen(
        [binary, "-x", "reload", "-u", "urls", "-c", str(cache), "-C", "config"],
        cwd=directory,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={
            **os.environ,
            "HOME": str(directory),
            "XDG_CONFIG_HOME": str(directory / ".config"),
            "XDG_DATA_HOME": str(directory / ".local" / "share"),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
        },
    )
    try:
        stdout, stderr = process.communicate(timeout=NEWSBOAT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"newsboat -x reload took over {NEWSBOAT_SECONDS}s")
    output = (stdout + stderr).decode("utf-8", "replace")
    assert process.returncode == 0, f"newsboat exited {process.returncode}:\n{output}"
    assert cache.exists(), f"newsboat wrote no cache:\n{output}"
    return cache


def cached(cache: Path) -> tuple[dict[str, str], dict[str, list[tuple[str, str]]]]:
    """newsboat's cache: each feed's title, and each feed's (title, url) items, newest
    first."""
    with contextlib.closing(sqlite3.connect(cache)) as db:
        feeds = dict(db.execute("SELECT rssurl, title FROM rss_feed"))
        items: dict[str, list[tuple[str, str]]] = {}
        rows = db.execute("SELECT feedurl, title, url FROM rss_item ORDER BY pubDate DESC, id")
        for feed, title, url in rows:
            items.setdefault(feed, []).append((title, url))
    return feeds, items


def test_newsboat_subscribes_to_the_rss_and_atom_channels(
    newsboat_binary: str, site: LiveSite, tmp_path: Path
) -> None:
    rss, atom = site.url("feeds/all.xml"), site.url("feeds/all.atom")
    cache = reload(newsboat_binary, tmp_path, [rss, atom])

    feeds, items = cached(cache)
    # Two copies of one channel that a reader's list tells apart.
    assert feeds == {rss: "전체 뉴스", atom: "전체 뉴스 (Atom)"}
    for url in (rss, atom):
        titles = [title for title, _ in items.get(url, [])]
        assert titles == list(site.titles), url
        assert all(link.startswith("https://") for _, link in items[url])
    # Korean titles arrive intact, not as entities or mojibake.
    assert "글로벌 유니콘으로 성장하는 초격차 AI 스타트업의 이야기" in [t for t, _ in items[rss]]


def test_newsboat_reads_a_filtered_channel_beside_the_channel_of_everything(
    newsboat_binary: str, site: LiveSite, tmp_path: Path
) -> None:
    # newsboat keeps one item per guid across all of its feeds, and this channel's stories
    # are also in `all`: with the story id as the guid, one of the two came out short.
    everything, world = site.url("feeds/all.xml"), site.url("feeds/world.atom")
    feeds, items = cached(reload(newsboat_binary, tmp_path, [world, everything]))
    assert feeds == {world: "World (Atom)", everything: "전체 뉴스"}
    assert [title for title, _ in items[world]] == [title for title, _, _ in ATOM_ITEMS]
    assert [title for title, _ in items[everything]] == list(site.titles)


def test_a_second_reload_adds_nothing(newsboat_binary: str, site: LiveSite, tmp_path: Path) -> None:
    rss = site.url("feeds/all.xml")
    reload(newsboat_binary, tmp_path, [rss])
    _, first = cached(tmp_path / "cache.db")
    reload(newsboat_binary, tmp_path, [rss])
    _, second = cached(tmp_path / "cache.db")
    assert second == first and len(first[rss]) == len(site.titles)
