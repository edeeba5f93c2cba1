"""Several ``aggregator worker`` processes on one PostgreSQL database (the server at
127.0.0.1:5432, a fresh database per test): sources are claimed with leases, never
fetched by two workers at once, every article is stored once, retellings stored by
different workers at once end in one story, and a killed worker's sources are taken
over when its lease runs out."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from aggregator import worker as workers_module
from aggregator.digest import story_fingerprint
from aggregator.errors import StoreError
from aggregator.model import Article, Source, story_id
from aggregator.store import SaveResult, Store
from tests.cli import AGGREGATOR, cli_env, run_cli
from tests.feedserver import FeedServer, running_server
from tests.test_same_event import FIRE_A, FIRE_B, WAREHOUSE_A, WAREHOUSE_B, article
from tests.test_store import postgresql_database

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
SOURCES = 300
#: Sources in groups of three tell one story each (the same wire text, retold).
GROUPS = 30
ITEMS = 3


@pytest.fixture
def database() -> Iterator[str]:
    yield from postgresql_database()


def sources_of(count: int) -> list[Source]:
    return [
        Source(id=f"s{n:03d}", url=f"https://s{n:03d}.example/rss", name=f"S{n}", home="")
        for n in range(count)
    ]


# -- claims ---------------------------------------------------------------------------------


def test_claims_are_disjoint_leased_and_ended_by_the_recorded_fetch(database: str) -> None:
    listed = sources_of(10)
    ids = [source.id for source in listed]
    with Store.open(database) as first, Store.open(database) as second:
        first.sync_sources(listed)
        lease = timedelta(minutes=5)
        claims: dict[str, list[str]] = {}
        start = threading.Barrier(2)

        def claim(name: str, store: Store) -> None:
            start.wait()
            claims[name] = store.claim_due(name, NOW, lease, 6, ids)

        threads = [
            threading.Thread(target=claim, args=(name, store))
            for name, store in (("a", first), ("b", second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not set(claims["a"]) & set(claims["b"])
        assert sorted(claims["a"] + claims["b"]) == ids  # 6 + 4: all of them, once
        # Leased: nobody gets them again before the lease runs out...
        assert first.claim_due("c", NOW + timedelta(minutes=4), lease, 10, ids) == []
        # ...but once it has, a dead worker's sources are claimed again.
        taken_over = first.claim_due("c", NOW + timedelta(minutes=6), lease, 3, ids)
        assert len(taken_over) == 3
        # A recorded fetch ends the lease; the source is claimed again when it is due.
        done = taken_over[0]
        first.record_fetch(
            done, at=NOW, status="ok", validators=None, error=None,
            next_due=NOW + timedelta(hours=1),
        )  # fmt: skip
        assert done not in first.claim_due("d", NOW + timedelta(minutes=30), lease, 10, ids)
        assert done in first.claim_due("d", NOW + timedelta(hours=2), lease, 10, ids)


# -- placement under concurrency ------------------------------------------------------------


def test_retellings_stored_by_two_writers_at_once_end_in_one_story(database: str) -> None:
    """Two writers each store one telling of an event at the same moment, 12 events in
    a row: without the placement locks both writers look before either commits, and
    each founds a story."""
    pairs = []
    for round_ in range(6):
        for one, other in ((FIRE_A, FIRE_B), (WAREHOUSE_A, WAREHOUSE_B)):
            shift = timedelta(days=10 * round_)
            pairs.append(
                [
                    # Another event each round (another day, another text): each pair is
                    # one story of its own.
                    (
                        told[0],
                        f"{told[1]}-{round_}",
                        told[2],
                        f"{told[3]} ({round_})",
                        told[4] + shift,
                    )
                    for told in (one, other)
                ]
            )
    listed = [Source(id=s, url=f"https://{s}.example/rss", name=s, home="") for s in
              ("harbor", "meridian", "hanbit", "nuri")]  # fmt: skip
    with Store.open(database) as first, Store.open(database) as second:
        first.sync_sources(listed)
        for pair in pairs:
            start = threading.Barrier(2)

            def save(
                store: Store,
                told: tuple[str, str, str, str, datetime],
                start: threading.Barrier = start,
            ) -> None:
                source, guid, title, body, date = told
                entry = article(source, guid, title, body, date)
                fingerprint = story_fingerprint(title, body)
                start.wait()
                store.save_articles(source, [(guid, entry, fingerprint)], NOW)

            threads = [
                threading.Thread(target=save, args=(store, told))
                for store, told in zip((first, second), pair, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        stories: dict[str, set[str]] = {}
        for stored in first.articles():
            stories.setdefault(stored.story_id, set()).add(stored.guid)
    assert sorted(len(members) for members in stories.values()) == [2] * len(pairs)


def test_a_save_rolled_back_to_break_a_deadlock_goes_again(database: str) -> None:
    """A refresh writes a waiting article's row and then its place in the queue of those
    waiting to be placed; a settle in another worker holds its place in the queue and
    then writes the row. Each waits for the other, and PostgreSQL rolls one back to
    break the deadlock: the save goes again once the other has committed, and loses
    nothing."""
    source, guid, title, body, date = FIRE_A

    def entry(headline: str) -> Article:
        return article(source, guid, headline, body, date)

    fingerprint = story_fingerprint(title, body)
    article_id = story_id(source, guid)
    engine = create_engine(database)
    with Store.open(database) as store, engine.connect() as settler:
        store.sync_sources([Source(id=source, url=f"https://{source}.example/rss",
                                   name=source, home="")])  # fmt: skip
        store.save_articles(source, [(guid, entry(title), fingerprint)], NOW, settle=False)
        # The settler never gives way: PostgreSQL rolls back whoever looks first.
        settler.execute(text("SET deadlock_timeout = '20s'"))
        queued = "SELECT article_id FROM unsettled WHERE article_id = :id FOR UPDATE"
        assert settler.execute(text(queued), {"id": article_id}).all() == [(article_id,)]
        outcome: dict[str, object] = {}

        def refresh() -> None:
            try:
                outcome["saved"] = store.save_articles(
                    source, [(guid, entry(f"{title} (updated)"), fingerprint)], NOW, settle=False
                )
            except StoreError as error:
                outcome["error"] = error

        thread = threading.Thread(target=refresh)
        thread.start()
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database() AND pid <> pg_backend_pid()"
        )
        deadline = time.monotonic() + 20
        while settler.execute(text(waiting)).scalar() == 0:
            assert time.monotonic() < deadline, "the refresh never waited for the queue"
            time.sleep(0.02)
            # PostgreSQL may keep what pg_stat_activity showed for the rest of the
            # transaction: clear it before reading again.
            settler.execute(text("SELECT pg_stat_clear_snapshot()"))
        # The refresh holds the row and waits for the queue: the settler waits for the
        # row until PostgreSQL rolls the refresh back.
        settler.execute(
            text("UPDATE articles SET title = title WHERE id = :id"), {"id": article_id}
        )
        settler.commit()
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome.get("error")
        assert outcome["saved"] == SaveResult(updated=1)
        stored = store.article(article_id)
        assert stored is not None and stored.article.title == f"{title} (updated)"
    engine.dispose()


# -- worker processes -----------------------------------------------------------------------


def rss(source: int) -> str:
    """Three items; source n of each group of ten tells story ``n % GROUPS`` first."""
    story = source % GROUPS
    items = [
        (
            f"Harbor authority approves expansion plan number {story}",
            f"The Port Alder harbor authority on Tuesday approved expansion plan number "
            f"{story}, a {100 + story} million dollar project to deepen berth {story} and "
            f"add {20 + story} cranes by {2030 + story % 5}, officials said after a vote of "
            f"{5 + story % 3} to 2. The plan had been debated for {story + 3} months.",
            f"https://wire.example/story-{story}",
        )
    ]
    for k in range(1, ITEMS):
        items.append(
            (
                f"Local notice {source}-{k}",
                f"Notice {k} of outlet {source}: the reading room at branch {source} opens "
                f"at {k + 8} on weekdays and {k + 9} on Saturdays, with {source * 7 + k} new "
                f"titles on its shelves this month and a talk by author number {source}.",
                f"https://s{source:03d}.example/notice-{k}",
            )
        )
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<guid isPermaLink='false'>s{source}-{n}</guid>"
        f"<pubDate>Tue, 03 Mar 2026 {10 + n:02d}:{source % 60:02d}:00 GMT</pubDate>"
        f"<description>{body}</description></item>"
        for n, (title, body, link) in enumerate(items)
    )
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Outlet</title>"
        f"<link>https://s{source:03d}.example/</link><description>d</description>"
        f"{entries}</channel></rss>"
    )


def write_config(directory: Path, database: str, server: FeedServer, count: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        f"storage: {database}",
        "output: {dir: public, posts_dir: null}",
        "fetch: {allow_private: [127.0.0.1], workers: 0, concurrency: 8}",
        "sources:",
    ]
    for n in range(count):
        lines.append(f"  - {{id: s{n:03d}, url: '{server.url(f'/s{n:03d}.xml')}', interval: 1h}}")
    config = directory / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def start_worker(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(AGGREGATOR), "-c", str(config), "worker", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def assert_no_source_fetched_twice_at_once(server: FeedServer) -> None:
    by_path: dict[str, list[tuple[float, float]]] = {}
    for seen in server.requests:
        by_path.setdefault(seen.path, []).append((seen.at, seen.ended))
    for path, spans in by_path.items():
        spans.sort()
        for (_, ended), (started, _) in itertools.pairwise(spans):
            assert started >= ended, f"{path} fetched by two workers at once"


def stored(database: str) -> list[tuple[str, str, str]]:
    with Store.open(database) as store:
        return [(a.source_id, a.guid, a.story_id) for a in store.articles()]


def assert_every_article_once_and_retellings_folded(database: str, count: int) -> None:
    rows = stored(database)
    keys = [(source, guid) for source, guid, _ in rows]
    assert len(keys) == len(set(keys)) == count * ITEMS
    stories: dict[str, set[str]] = {}
    for source, guid, story in rows:
        if guid.endswith("-0"):  # the retold wire story
            stories.setdefault(story, set()).add(source)
    assert len(stories) == min(GROUPS, count)  # one story per retold text, whoever stored it


def serve_feeds(server: FeedServer, count: int, delay: float) -> None:
    for n in range(count):
        server.serve(f"/s{n:03d}.xml", rss(n), delay=delay)


def test_three_workers_share_300_sources(tmp_path: Path, database: str) -> None:
    with running_server() as server:
        serve_feeds(server, SOURCES, delay=0.02)
        config = write_config(tmp_path, database, server, SOURCES)
        workers = [start_worker(config, "--until-idle") for _ in range(3)]
        outputs = [worker.communicate(timeout=300) for worker in workers]
        for worker, (_, err) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0, err
        assert_no_source_fetched_twice_at_once(server)
        # Each source once: its next fetch is an hour away.
        fetched = [seen.path for seen in server.requests]
        assert sorted(fetched) == sorted(f"/s{n:03d}.xml" for n in range(SOURCES))
        # The work was shared: every worker fetched some.
        counts = [int(out.split(": ")[1].split()[0]) for out, _ in outputs]
        assert sum(counts) == SOURCES and min(counts) > 0, counts
    assert_every_article_once_and_retellings_folded(database, SOURCES)


def test_a_killed_workers_sources_are_taken_over_after_its_lease(
    tmp_path: Path, database: str
) -> None:
    count = 40
    with running_server() as server:
        serve_feeds(server, count, delay=0.5)  # slow origins: the kill lands mid-fetch
        config = write_config(tmp_path, database, server, count)
        doomed = start_worker(config, "--lease", "4")
        deadline = time.monotonic() + 60
        while len(server.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests, "the worker never fetched"
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.communicate(timeout=30)  # reaped, its pipes closed
        # Its claim stays leased for 4 s; after that another worker takes it over.
        time.sleep(4.5)
        survivor = start_worker(config, "--until-idle", "--lease", "4")
        _, err = survivor.communicate(timeout=300)
        assert survivor.returncode == 0, err
        assert {seen.path for seen in server.requests} == {f"/s{n:03d}.xml" for n in range(count)}
        assert_no_source_fetched_twice_at_once(server)
    assert_every_article_once_and_retellings_folded(database, count)


# -- one publisher ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_one_process_holds_the_publishers_lock_until_it_lets_go(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'aggregator.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("database")
    )
    with Store.open(url) as first, Store.open(url) as second:
        one, other = first.leadership("publisher"), second.leadership("publisher")
        assert one.try_take() and one.try_take()  # taken, and held
        assert not other.try_take()
        assert second.leadership("something else").try_take()  # another job is free
        one.release()
        assert other.try_take()  # taken over once let go
        other.release()


def test_workers_publish_one_at_a_time_and_every_story_is_published(
    tmp_path: Path, database: str
) -> None:
    count = 60
    with running_server() as server:
        serve_feeds(server, count, delay=0.02)
        config = write_config(tmp_path, database, server, count)
        workers = [start_worker(config, "--until-idle", "--publish") for _ in range(2)]
        outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    publishes = [int(out.rsplit(", ", 1)[1].split()[0]) for out, _ in outputs]
    assert sum(publishes) >= 1, outputs
    channel = json.loads((tmp_path / "public" / "feeds" / "all.json").read_bytes())
    with Store.open(database) as store:
        assert len(channel["items"]) == min(store.story_count(), 50)
        assert store.story_count() == min(GROUPS, count) + count * (ITEMS - 1)


# -- moving a SQLite store to PostgreSQL -----------------------------------------------------


def test_db_copy_moves_a_sqlite_store_to_postgresql_and_it_carries_on(
    tmp_path: Path, database: str
) -> None:
    count = 12
    with running_server() as server:
        serve_feeds(server, count, delay=0.0)
        config = write_config(tmp_path, "sqlite:///data/aggregator.db", server, count)
        fetched = run_cli(config, "fetch", "--all")
        assert fetched.returncode == 0, fetched.stderr
        copied = run_cli(config, "db", "copy", database)
        assert copied.returncode == 0, copied.stderr
        assert f"{count * ITEMS} articles" in copied.stdout and "postgres@" not in copied.stdout
        again = run_cli(config, "db", "copy", database)  # the target is no longer empty
        assert again.returncode == 1 and "already holds articles" in again.stderr

        def everything(url: str) -> tuple[object, ...]:
            with Store.open(url) as store:
                return (
                    sorted(
                        (a.source_id, a.guid, a.story_id, a.seq, a.fold_rule, a.article)
                        for a in store.articles()
                    ),
                    store.states(),
                    store.story_count(),
                    store.change_mark(),
                )

        assert everything(database) == everything(f"sqlite:///{tmp_path / 'data/aggregator.db'}")
        # The copy carries on where the original stood: a changed feed adds one article
        # after the last change number, folded or not as before.
        server.serve("/s000.xml", rss(0).replace("<item>", _extra_item(), 1))
        moved = write_config(tmp_path / "moved", database, server, count)
        refetched = run_cli(moved, "fetch", "--source", "s000")
        assert refetched.returncode == 0, refetched.stderr
        with Store.open(database) as store:
            assert len(store.articles()) == count * ITEMS + 1


def _extra_item() -> str:
    return (
        "<item><title>A late notice</title><link>https://s000.example/late</link>"
        "<guid isPermaLink='false'>s0-late</guid>"
        "<pubDate>Tue, 03 Mar 2026 15:00:00 GMT</pubDate>"
        "<description>The reading room at branch zero closes early on the first Friday of "
        "every month for staff training, starting next month, the library said today."
        "</description></item><item>"
    )


def test_leases_of_this_hosts_dead_processes_end_at_once(tmp_path: Path) -> None:
    """A process killed mid-fetch and started again (``run`` after a crash, a worker
    restarted) need not wait for its old leases: their holder is known to be dead."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead = f"{socket.gethostname()}:{ended.stdout.strip()}"
    listed = sources_of(3)
    ids = [source.id for source in listed]
    with Store.open(f"sqlite:///{tmp_path / 'aggregator.db'}") as store:
        store.sync_sources(listed)
        lease = timedelta(minutes=10)
        assert store.claim_due(dead, NOW, lease, 1, ids) == ["s000"]
        assert store.claim_due("elsewhere:1", NOW, lease, 1, ids) == ["s001"]
        alive = f"{socket.gethostname()}:{os.getpid()}"
        assert store.claim_due(alive, NOW, lease, 1, ids) == ["s002"]
        assert workers_module.release_dead_leases(store) == {dead}
        # Only the dead process's source is free again; another host's and a live
        # process's leases run their course.
        assert store.claim_due("next", NOW, lease, 3, ids) == ["s000"]


# -- front ends ------------------------------------------------------------------------------


def test_front_ends_on_one_store_serve_the_same_stories(tmp_path: Path, database: str) -> None:
    """Two ``serve`` processes render from the database the workers filled: no shared
    disk, and they agree item for item."""
    count = 20
    with running_server() as server:
        serve_feeds(server, count, delay=0.0)
        config = write_config(tmp_path, database, server, count)
        fetched = start_worker(config, "--until-idle")
        _, err = fetched.communicate(timeout=300)
        assert fetched.returncode == 0, err
    fronts = []
    for name in ("front-a", "front-b"):
        directory = tmp_path / name
        directory.mkdir()
        port = free_port()
        text = config.read_text(encoding="utf-8").replace(
            "output: {dir: public", f"server: {{port: {port}}}\noutput: {{dir: {directory}"
        )
        (directory / "feeds.yaml").write_text(text, encoding="utf-8")
        process = subprocess.Popen(
            [str(AGGREGATOR), "-c", str(directory / "feeds.yaml"), "serve"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        fronts.append((process, port))
    try:
        channels = [json.loads(get_when_up(port, "/feeds/all.json")) for _, port in fronts]
    finally:
        for process, _ in fronts:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
    items = [[(i["id"], i["title"], i["date_published"]) for i in c["items"]] for c in channels]
    assert items[0] == items[1] and len(items[0]) == min(50, GROUPS + count * (ITEMS - 1))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_when_up(port: int, path: str) -> bytes:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
                return answer.read()  # type: ignore[no-any-return]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_fetch_leaves_a_source_another_process_is_fetching_alone(tmp_path: Path) -> None:
    count = 4
    with running_server() as server:
        serve_feeds(server, count, delay=0.0)
        config = write_config(tmp_path, "sqlite:///data/aggregator.db", server, count)
        with Store.open(f"sqlite:///{tmp_path / 'data' / 'aggregator.db'}") as store:
            store.sync_sources(sources_of(count))
            # A worker on another host is fetching s001 right now.
            now = datetime.now(UTC)
            assert store.claim_due("elsewhere:1", now, timedelta(minutes=10), 1, ["s001"])
        fetched = run_cli(config, "fetch")
        assert fetched.returncode == 0, fetched.stderr
        assert sorted(seen.path for seen in server.requests) == ["/s000.xml", "/s002.xml",
                                                                  "/s003.xml"]  # fmt: skip


def test_a_publisher_whose_connection_died_no_longer_holds_the_lock(database: str) -> None:
    """The lock ends with the session: a holder whose connection was cut (the database
    restarted, a network drop) must not go on publishing beside the one that took over."""
    from sqlalchemy import create_engine, text

    with Store.open(database) as first, Store.open(database) as second:
        one, other = first.leadership("publisher"), second.leadership("publisher")
        assert one.try_take()
        admin = create_engine(database, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            cut = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            ).all()
        admin.dispose()
        assert cut == [(True,)]
        # The lock goes with the session once its backend has ended (it is signalled).
        deadline = time.monotonic() + 10
        while not other.try_take() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert other.try_take()  # the lock went with the session
        assert not one.try_take()  # and the old holder knows it
        other.release()
        assert one.try_take()
        one.release()
