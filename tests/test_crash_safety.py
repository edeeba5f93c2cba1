"""Never lose or duplicate a stored article when killed at any moment.

Two hundred sources are served on 127.0.0.1. ``aggregator run`` is killed with SIGKILL again
and again at random moments (while it starts and migrates, fetches, stores, publishes),
restarted each time, then run to the end and stopped with SIGTERM. The store, the stories,
the posts and the channels must then be those of one uninterrupted ``fetch --all`` over the
same feeds, and no temporary or partial file may be left behind.

While it is being killed, the feeds grow between restarts (each shows a few more of its
items every time), so kills land on passes that store new articles and on publishes that
write new posts, not only on 304s.

One thing differs between two runs by design and is mapped before comparing: a story told
by several outlets takes the id of the member stored first, and which fetch finishes first
is a race even within one uninterrupted pass. Stories are matched by their members (the
same (source, guid) sets), and the story ids in posts and channels translated accordingly.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import feedparser
import pytest

from aggregator import atomic_files
from aggregator import publish as publishing
from aggregator.atomic_files import TEMP_SUFFIX, remove_stale_temporaries, write_atomic
from aggregator.config import parse_config
from aggregator.model import Article, StoredArticle
from aggregator.post_ledger import LEDGER_NAME, PostLedger
from aggregator.post_writing import SCRATCH_DIR
from aggregator.scheduler import PUBLISH_MAX_DELAY
from aggregator.store import Store
from tests.cli import AGGREGATOR, cli_env
from tests.feedserver import FeedServer, running_server

SEED = 20261125
SOURCES = 200
ITEMS = 10
#: Stories told by 2 to 4 outlets each (the same canonical URL), to be folded into one.
SHARED_STORIES = 40
KILLS = 15
#: Kills come this long after the process started, or after it logged that it runs...
KILL_DELAY = (0.05, 1.5)
#: ...or as soon as a file is being written, when that happens within this many seconds.
#: The one publish at start-up writes nothing when nothing changed; while news keeps
#: arriving (a first pass over 200 sources takes 5-15 s, by how busy the machine is) the
#: next waits for a quiet moment, but never longer than PUBLISH_MAX_DELAY.
WRITE_WAIT = PUBLISH_MAX_DELAY.total_seconds() + 10
#: Every item is dated, distinctly, in the past: no tie decides an order or a kept article.
BASE_DATE = datetime(2024, 1, 1, tzinfo=UTC)
PASS_LINE = re.compile(r"source (s\d{3}): (?:ok|not_modified), (\d+) new, (\d+) updated, (\d+) ")

Key = tuple[str, str]


# -- the feeds ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    guid: str
    link: str
    title: str
    body: str
    date: datetime

    def rss(self) -> str:
        return (
            f"<item><title>{escape(self.title)}</title><link>{escape(self.link)}</link>"
            f'<guid isPermaLink="false">{escape(self.guid)}</guid>'
            f"<pubDate>{format_datetime(self.date, usegmt=True)}</pubDate>"
            f"<description>{escape(self.body)}</description></item>"
        )


def source_id(index: int) -> str:
    return f"s{index:03d}"


def make_feeds(rng: random.Random) -> dict[str, list[Item]]:
    """Each source's items, newest first: ITEMS each, some of them copies of a shared story."""
    vocabulary = sorted(
        {
            "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9)))
            for _ in range(3000)
        }
    )
    titles: set[str] = set()

    def words(count: int) -> str:
        return " ".join(rng.choices(vocabulary, k=count))

    def title() -> str:
        while (text := words(5).capitalize()) in titles:
            pass
        titles.add(text)
        return text

    minutes = iter(range(1, 10**6))

    def date() -> datetime:
        return BASE_DATE - timedelta(minutes=next(minutes))

    feeds: dict[str, list[Item]] = {}
    for index in range(SOURCES):
        sid = source_id(index)
        feeds[sid] = [
            Item(f"{sid}-{n}", f"https://{sid}.example/news/{n}", title(), words(60) + ".", date())
            for n in range(ITEMS)
        ]
    for story in range(SHARED_STORIES):
        shared_title, shared_body = title(), words(60) + "."
        for sid in rng.sample(sorted(feeds), rng.randint(2, 4)):
            slot = rng.choice([n for n, i in enumerate(feeds[sid]) if not i.guid.startswith("w")])
            feeds[sid][slot] = Item(
                f"wire-{story}",
                f"https://wire.example/story/{story}?utm_source={sid}",
                shared_title,
                f"{shared_body} Reported by {sid}.",
                date(),
            )
    return {sid: sorted(items, key=lambda i: i.date, reverse=True) for sid, items in feeds.items()}


def rss(sid: str, items: list[Item]) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{sid}</title>'
        f"<link>https://{sid}.example/</link><description>{sid} news</description>"
        + "".join(item.rss() for item in items)
        + "</channel></rss>"
    )


def show(
    server: FeedServer, feeds: dict[str, list[Item]], visible: dict[str, int], under: str
) -> None:
    """Serve the oldest ``visible[sid]`` items of each feed (newer ones appear later)."""
    for sid, items in feeds.items():
        server.serve(f"{under}/{sid}.xml", rss(sid, items[len(items) - visible[sid] :]))


def write_config(directory: Path, server: FeedServer, under: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "site: {title: Crash, link: 'https://news.example.org/'}",
        "storage: sqlite:///data/aggregator.db",
        "output: {dir: public, posts_dir: _posts}",
        "server: {port: 0}",
        "fetch: {interval: 1s, timeout: 60s, concurrency: 16, per_host: 16,",
        "        allow_private: [127.0.0.1]}",
        "channels:",
        "  - {id: all, limit: 10000}",
        "  - {id: even, categories: [Even]}",
        "sources:",
    ]
    for index in range(SOURCES):
        sid = source_id(index)
        lines.append(
            f"  - {{id: {sid}, url: '{server.url(f'{under}/{sid}.xml')}', "
            f"home: 'https://{sid}.example/', categories: [{'Odd' if index % 2 else 'Even'}]}}"
        )
    config = directory / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


# -- the service -------------------------------------------------------------------------------


class Service:
    """``aggregator run`` with its log in a file, read as it grows."""

    def __init__(self, config: Path, log: Path) -> None:
        env = cli_env()
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(AGGREGATOR), "-c", str(config), "run"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        self.started = time.monotonic()
        #: Each complete log line, with when this test first saw it.
        self.lines: list[tuple[float, str]] = []
        self._read = 0

    def poll_log(self) -> list[tuple[float, str]]:
        data = self.log.read_bytes()
        end = data.rfind(b"\n") + 1
        if end > self._read:
            now = time.monotonic()
            chunk = data[self._read : end].decode("utf-8", "replace")
            self.lines.extend((now, line) for line in chunk.splitlines())
            self._read = end
        return self.lines

    def logged(self, text: str) -> bool:
        return any(text in line for _, line in self.poll_log())

    def wait_for(self, condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = self.log.read_text(encoding="utf-8", errors="replace")
        raise AssertionError(f"{what}: not seen (exit {self.process.poll()}); log:\n{log[-6000:]}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@dataclass
class KillReport:
    #: "start": a random delay after the process started; "running": after it logged that
    #: it runs; "write": as soon as a temporary file of a publish appeared.
    mode: str
    #: Seconds from the process's start to the kill.
    at: float
    #: What the service had logged by then.
    phase: str


def temporaries(directory: Path) -> bool:
    """Whether a publish is writing a file in ``directory`` (output, feeds or posts), or
    the posts' ledger (SQLite keeps a journal beside it while it commits). Only small
    directories are listed, so the look is quick enough to land inside a write."""
    if os.path.exists(directory / "_posts" / f"{LEDGER_NAME}-journal"):
        return True
    folders = (
        directory / "_posts" / SCRATCH_DIR,
        directory / "public",
        directory / "public" / "feeds",
    )
    for folder in folders:
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
            if any(entry.name.endswith(".tmp") for entry in entries):
                return True
    return False


def kill_at_random(config: Path, logs: Path, rng: random.Random, number: int) -> KillReport:
    """Start ``aggregator run`` and SIGKILL it: at a random moment after it started, at a
    random moment after it began its work, or in the middle of writing a file."""
    service = Service(config, logs / f"killed-{number:02d}.log")
    mode = ("start", "running", "write")[number % 3]
    try:
        if mode == "running":
            service.wait_for(lambda: service.logged("running:"), "the service running")
        if mode == "write":
            deadline = time.monotonic() + WRITE_WAIT
            while not temporaries(config.parent) and time.monotonic() < deadline:
                pass  # no sleep: a post is written in about a millisecond
            if time.monotonic() >= deadline:
                mode = "write (none seen: at random)"
        else:
            time.sleep(rng.uniform(*KILL_DELAY))
    finally:
        service.kill()
    at = time.monotonic() - service.started
    lines = [line for _, line in service.poll_log()]
    passes = sum(bool(PASS_LINE.search(line)) for line in lines)
    publishes = sum("published " in line for line in lines)
    if not any("running:" in line for line in lines):
        phase = f"starting ({publishes} publishes logged)"
    else:
        phase = f"running ({passes} passes, {publishes} publishes logged)"
    return KillReport(mode, at, phase)


def run_to_the_end(config: Path, log: Path) -> None:
    """Run until every source was fetched and every change published, then SIGTERM."""
    service = Service(config, log)
    try:
        service.wait_for(lambda: service.logged("running:"), "the service running")

        def settled() -> bool:
            lines = service.poll_log()
            fetched: set[str] = set()
            last_change: float | None = None
            published_after = False
            for seen, line in lines:
                if match := PASS_LINE.search(line):
                    fetched.add(match[1])
                    if any(int(n) for n in match.groups()[1:]):
                        last_change, published_after = seen, False
                elif "published " in line:
                    published_after = True
            # A publish follows the last change; waiting past the publish delay (2 s) makes
            # sure it is not one that started before that change was stored.
            quiet = last_change is None or time.monotonic() - last_change > 3.5
            return len(fetched) == SOURCES and published_after and quiet

        service.wait_for(settled, "every source fetched and every change published", 60)
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=30) == 0, log.read_text(encoding="utf-8")
    finally:
        if service.process.poll() is None:
            service.kill()
    assert service.logged("stopped")


# -- what is compared --------------------------------------------------------------------------


@dataclass
class Outcome:
    articles: dict[Key, Article]
    #: Rows in the articles table, and distinct (source_id, guid) among them.
    rows: int
    keys: int
    stories: dict[frozenset[Key], str]
    posts: dict[str, bytes]
    manifest: set[str]
    feeds: dict[str, list[str]]


def outcome(directory: Path) -> Outcome:
    database = directory / "data" / "aggregator.db"
    with Store.open(f"sqlite:///{database}") as store:
        stored = store.articles()
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows, keys = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT source_id || char(0) || guid) FROM articles"
        ).fetchone()
    members: dict[str, set[Key]] = {}
    for article in stored:
        members.setdefault(article.story_id, set()).add((article.source_id, article.guid))
    posts_dir = directory / "_posts"
    posts = {p.name: p.read_bytes() for p in posts_dir.glob("*.md")}
    with PostLedger.open(posts_dir) as ledger:
        manifest = ledger.entries()
    feeds_dir = directory / "public" / "feeds"
    feeds: dict[str, list[str]] = {}
    for channel in ("all", "even"):
        json_feed = json.loads((feeds_dir / f"{channel}.json").read_text(encoding="utf-8"))
        feeds[f"{channel}.json"] = [item["id"] for item in json_feed["items"]]
        for extension in ("xml", "atom"):
            parsed = feedparser.parse((feeds_dir / f"{channel}.{extension}").read_bytes())
            assert not parsed.bozo, parsed.get("bozo_exception")
            feeds[f"{channel}.{extension}"] = [entry.id for entry in parsed.entries]
    return Outcome(
        articles={(a.source_id, a.guid): a.article for a in stored},
        rows=rows,
        keys=keys,
        stories={frozenset(keys): story for story, keys in members.items()},
        posts=posts,
        manifest=set(manifest),
        feeds=feeds,
    )


def leftovers(*directories: Path) -> Iterator[str]:
    """Temporary or empty files: what an interrupted write would leave."""
    for directory in directories:
        for path in directory.rglob("*"):
            if path.is_file() and (path.name.endswith(".tmp") or path.stat().st_size == 0):
                yield str(path.relative_to(directory.parent))


def translated(data: bytes, ids: dict[str, str]) -> bytes:
    """``data`` with each story id of one run replaced by the same story's id in the other."""

    def swap(match: re.Match[bytes]) -> bytes:
        return ids.get(match[0].decode(), match[0].decode()).encode()

    return re.sub(rb"\b[0-9a-f]{16}\b", swap, data)


# -- the test ----------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with running_server() as running:
        # Two hundred sources at once: a longer queue of pending connections than the
        # standard library's 5 (Linux takes a new backlog on a listening socket), and no
        # traceback for each connection a killed client leaves half-open.
        running._httpd.socket.listen(256)
        running._httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        yield running


def test_killed_at_random_moments_it_loses_and_duplicates_nothing(
    tmp_path: Path, server: FeedServer
) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    feeds = make_feeds(rng)
    complete = {sid: ITEMS for sid in feeds}
    env = cli_env()

    # The reference: one uninterrupted pass over the complete feeds.
    show(server, feeds, complete, "/complete")
    reference_dir = tmp_path / "reference"
    reference_config = write_config(reference_dir, server, "/complete")
    fetched = subprocess.run(
        [str(AGGREGATOR), "-c", str(reference_config), "fetch", "--all"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert fetched.returncode == 0, fetched.stderr
    reference_seconds = time.monotonic() - started

    # Killed again and again while the feeds grow, then run to the end.
    crashed_dir = tmp_path / "crashed"
    config = write_config(crashed_dir, server, "/growing")
    logs = tmp_path / "logs"
    logs.mkdir()
    visible = {sid: rng.randint(1, 4) for sid in feeds}
    kills: list[KillReport] = []
    for number in range(KILLS):
        show(server, feeds, visible, "/growing")
        kills.append(kill_at_random(config, logs, rng, number))
        for sid in feeds:
            if rng.random() < 0.3:
                visible[sid] = min(ITEMS, visible[sid] + rng.randint(1, 2))
    assert any(visible[sid] < ITEMS for sid in feeds)  # the clean run has news to store
    show(server, feeds, complete, "/growing")
    run_to_the_end(config, logs / "clean.log")
    seconds = time.monotonic() - started - reference_seconds

    reference, crashed = outcome(reference_dir), outcome(crashed_dir)
    cleaned = sum(
        "temporary files left by an interrupted write" in path.read_text(encoding="utf-8")
        for path in logs.iterdir()
    )
    report = [
        f"reference fetch --all: {reference_seconds:.1f}s; {len(kills)} kills and a clean run: "
        f"{seconds:.1f}s; temporary files left by a kill removed at {cleaned} restarts",
        *(f"  kill {n:2} ({k.mode}) at {k.at:.2f}s: {k.phase}" for n, k in enumerate(kills)),
    ]
    print("\n".join(report))
    assert sum(k.phase.startswith("running") for k in kills) >= KILLS // 3, report
    assert any(k.mode == "write" for k in kills), report

    # The store: every article once, none lost, none doubled, each as the reference has it.
    expected = {(sid, item.guid) for sid, items in feeds.items() for item in items}
    assert reference.rows == reference.keys == len(reference.articles) == len(expected)
    assert crashed.rows == crashed.keys == len(crashed.articles), "an article is stored twice"
    assert set(crashed.articles) == expected, (
        f"lost: {sorted(expected - set(crashed.articles))[:10]}, "
        f"unexpected: {sorted(set(crashed.articles) - expected)[:10]}"
    )
    assert crashed.articles == reference.articles

    # The stories: the same members together.
    told_by: dict[str, set[Key]] = {}
    for sid, items in feeds.items():
        for item in items:
            told_by.setdefault(item.link.split("?")[0], set()).add((sid, item.guid))
    assert set(reference.stories) == {frozenset(keys) for keys in told_by.values()}
    assert set(crashed.stories) == set(reference.stories)
    ids = {crashed.stories[m]: reference.stories[m] for m in crashed.stories}
    founded_otherwise = sum(mine != theirs for mine, theirs in ids.items())
    print(f"  stories whose founder differs from the reference's: {founded_otherwise}")

    # The posts: one per story, byte for byte the reference's; the manifest lists them all.
    assert len(crashed.posts) == len(reference.stories)
    assert crashed.posts.keys() == reference.posts.keys()
    different = [
        name
        for name, data in crashed.posts.items()
        if translated(data, ids) != reference.posts[name]
    ]
    assert different == [], different[:5]
    assert crashed.manifest == set(crashed.posts)

    # The channels: the same items, in the same order, in every format.
    assert {
        name: [translated(i.encode(), ids).decode() for i in items]
        for name, items in crashed.feeds.items()
    } == reference.feeds
    assert len(reference.feeds["all.json"]) == len(reference.stories)

    # Nothing half-written or temporary left behind.
    assert list(leftovers(crashed_dir / "public", crashed_dir / "_posts")) == []
    assert list(leftovers(reference_dir / "public", reference_dir / "_posts")) == []


# -- temporary files, on their own ---------------------------------------------------------------

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def dead_pid() -> int:
    """The pid of a process that has exited."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def temporary(directory: Path, name: str, pid: int, token: str, age: float = 0) -> Path:
    path = directory / f".{name}.k3x_9q.{pid}-{token}{TEMP_SUFFIX}"
    path.write_bytes(b"half a fi")
    if age:
        os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_write_atomic_names_its_temporary_file_after_its_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renamed: list[str] = []

    def interrupted(source: str, target: Path) -> None:
        renamed.append(os.path.basename(source))
        raise OSError("disk gone")

    monkeypatch.setattr(atomic_files.os, "replace", interrupted)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(tmp_path / "all.xml", b"<rss/>")
    [name] = renamed
    assert re.fullmatch(rf"\.all\.xml\..+\.{os.getpid()}-[0-9a-f]{{8}}\.aggregator\.tmp", name)
    assert list(tmp_path.iterdir()) == []  # an exception (unlike a kill) cleans up itself


def test_temporary_files_whose_writer_is_gone_are_removed_and_nothing_else(
    tmp_path: Path,
) -> None:
    mine = atomic_files._PROCESS_TOKEN
    gone = [
        temporary(tmp_path, "a.md", dead_pid(), "0123abcd"),
        # An earlier process that had this pid (a container's pid 1 restarted).
        temporary(tmp_path, "b.md", os.getpid(), "ffffffff" if mine != "ffffffff" else "0"),
        # This process's own, no longer being written.
        temporary(tmp_path, "c.md", os.getpid(), mine),
        # Another live process's, but older than any write takes.
        temporary(tmp_path, "d.md", os.getppid(), "0123abcd", age=3600),
    ]
    kept = [
        temporary(tmp_path, "e.md", os.getppid(), "0123abcd"),  # maybe being written now
        tmp_path / ".f.md.abc123.tmp",  # not write_atomic's name: someone else's
        tmp_path / "notes.tmp",
        tmp_path / "2026-11-25-post.md",
    ]
    for path in kept[1:]:
        path.write_bytes(b"x")
    directory = tmp_path / f".g.md.k3x_9q.{dead_pid()}-0123abcd{TEMP_SUFFIX}"
    directory.mkdir()  # only files are removed
    kept.append(directory)

    removed = remove_stale_temporaries(tmp_path, tmp_path / "missing")
    assert sorted(removed) == sorted(gone)
    assert sorted(tmp_path.iterdir()) == sorted(kept)


def test_a_file_being_written_by_this_process_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[Path]] = []
    fsync = os.fsync

    def cleanup_meanwhile(fd: int) -> None:  # another thread publishing at that moment
        fsync(fd)
        seen.append(remove_stale_temporaries(tmp_path))

    monkeypatch.setattr(atomic_files.os, "fsync", cleanup_meanwhile)
    assert write_atomic(tmp_path / "index.html", b"<html></html>")
    assert seen == [[]]
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_publish_first_removes_what_a_killed_publish_left(tmp_path: Path) -> None:
    settings = parse_config(
        'sources:\n  - {id: wire, url: "https://wire.example.com/feed"}\n', base_dir=tmp_path
    )
    feeds, posts = tmp_path / "public" / "feeds", tmp_path / "_posts"
    feeds.mkdir(parents=True)
    (posts / SCRATCH_DIR).mkdir(parents=True)
    pid = dead_pid()
    left = [
        temporary(tmp_path / "public", "index.html", pid, "0123abcd"),
        temporary(feeds, "all.xml", pid, "0123abcd"),
        temporary(posts / SCRATCH_DIR, "2026-11-20-a-post.md", pid, "0123abcd"),
        temporary(posts, "2026-11-19-older.md", pid, "0123abcd"),  # written beside, before
    ]
    publishing.publish(settings, [stored_article("A post")], NOW)
    assert not any(path.exists() for path in left)
    assert list(leftovers(tmp_path / "public", posts)) == []
    assert (posts / "2026-11-20-a-post.md").exists()


def stored_article(title: str) -> StoredArticle:
    article = Article(
        title=title,
        categories=("World",),
        excerpt=f"{title}.",
        feature_text=f"## Wire\n{title}",
        image=None,
        body=f"<p>{title}</p>",
        date=datetime(2026, 11, 20, 3, tzinfo=UTC),
        source="Wire",
        canonical_url="https://wire.example.com/1",
        id="00000000000000aa",
    )
    return StoredArticle("wire", "g1", article, NOW, 1)


def test_a_post_written_just_before_a_kill_is_removed_when_its_article_is_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = parse_config(
        'sources:\n  - {id: wire, url: "https://wire.example.com/feed"}\n', base_dir=tmp_path
    )
    publishing.publish(settings, [stored_article("First title")], NOW)

    update = PostLedger.update

    def killed_before_the_ledger(ledger: PostLedger, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("mark") is not None or kwargs.get("written_for") is not None:
            raise KeyboardInterrupt("SIGKILL")  # the process ends here: nothing after runs
        update(ledger, *args, **kwargs)  # claiming the new name

    with monkeypatch.context() as patched:  # the outlet edited its headline; killed
        patched.setattr(PostLedger, "update", killed_before_the_ledger)
        with pytest.raises(KeyboardInterrupt):
            publishing.publish(settings, [stored_article("Second title")], NOW)
    publishing.publish(settings, [stored_article("Third title")], NOW)  # edited again

    posts = sorted(p.name for p in (tmp_path / "_posts").glob("*.md"))
    assert posts == ["2026-11-20-third-title.md"]  # one story, one post


def test_a_post_left_empty_by_a_power_cut_is_written_again(tmp_path: Path) -> None:
    # Posts are not fsynced: after a power cut one may be empty under its name, while the
    # ledger (a SQLite file, synced) says it was written. The next publish notices by its size.
    settings = parse_config(
        'sources:\n  - {id: wire, url: "https://wire.example.com/feed"}\n', base_dir=tmp_path
    )
    publishing.publish(settings, [stored_article("First title")], NOW)
    post = tmp_path / "_posts" / "2026-11-20-first-title.md"
    written = post.read_bytes()
    post.write_bytes(b"")
    result = publishing.publish(settings, [stored_article("First title")], NOW)
    assert result.posts_written == 1
    assert post.read_bytes() == written
