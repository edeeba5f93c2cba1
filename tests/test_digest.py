"""Digesting documents in worker processes gives what digesting them in a thread gives,
a worker that dies costs only the documents it held, and a pass stores the same either way."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from aggregator import pipeline
from aggregator.config import ConfigError, parse_config
from aggregator.digest import (
    UNSAVED_PER_WORKER,
    Digest,
    Digester,
    DigestTimeout,
    digest_document,
    digest_parsed,
    digest_within,
    within,
    worker_count,
)
from aggregator.fetch import Fetcher, FetchLimits
from aggregator.model import Source
from aggregator.parse import ParseFailure, parse_feed
from aggregator.store import Store
from tests.cli import AGGREGATOR, cli_env
from tests.feedserver import FeedServer

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

EVENTS = [
    (
        "Central bank holds its key rate at 3.5 percent",
        "The central bank kept its benchmark rate at 3.5 percent on Thursday, citing slowing "
        "inflation and a weaker labour market. Governor Kim said the board voted 5 to 2.",
    ),
    (
        "한국은행, 기준금리 연 3.5% 동결",
        "한국은행 금융통화위원회는 목요일 기준금리를 연 3.5%로 동결했다. 물가 상승세 둔화와 "
        "고용 시장 약세를 이유로 들었으며 위원 7명 가운데 5명이 동결에 찬성했다.",
    ),
    (
        "Storm closes the coastal highway for a second day",
        "Crews expect to reopen Route 7 by Saturday after 180 millimetres of rain washed out "
        "two bridges near the harbour town, officials said on Friday morning.",
    ),
]


def rss(outlet: int, items: int) -> bytes:
    """An outlet's feed: its own stories, and every third item a retelling of a shared one."""
    parts = []
    for n in range(items):
        when = NOW - timedelta(hours=outlet + n)
        if n % 3 == 0:
            title, body = EVENTS[(outlet + n) % len(EVENTS)]
            body = f"{body} Reported by outlet {outlet}."
        else:
            title = f"Outlet {outlet} local story {n}: the council meets on road {n * 7}"
            body = (
                f"<p>The council of district {outlet} met on {n} March to discuss road "
                f"{n * 7}, a <a href='/r/{n}?utm_source=feed'>plan</a> costing {n * 13} "
                f"million.</p><p>Residents asked for {n + 2} more crossings.</p>"
                f"<img src='/img/{outlet}-{n}.jpg'>"
            )
        parts.append(
            f"<item><title>{title}</title><link>https://o{outlet}.example/{n}</link>"
            f"<guid>o{outlet}-{n}</guid>"
            f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            f"<description><![CDATA[{body}]]></description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Outlet {outlet}</title><link>https://o{outlet}.example/</link>"
        f"{''.join(parts)}</channel></rss>"
    ).encode()


def source(outlet: int) -> Source:
    return Source(
        id=f"o{outlet}",
        url=f"https://o{outlet}.example/feed",
        name=f"Outlet {outlet}",
        home=f"https://o{outlet}.example/",
    )


def digest_in_workers(documents: list[tuple[Source, bytes]], workers: int) -> list[object]:
    async def go() -> list[object]:
        async with Digester(workers) as digester:
            return list(
                await asyncio.gather(
                    *(
                        digester.digest(
                            body,
                            url=src.url,
                            content_type="application/rss+xml",
                            source=src,
                            excerpt_length=200,
                            now=NOW,
                        )
                        for src, body in documents
                    )
                )
            )

    return asyncio.run(go())


def test_worker_processes_digest_exactly_as_this_process_does() -> None:
    documents = [(source(n), rss(n, 9)) for n in range(6)]
    documents.append((source(99), b"<html><body>not a feed</body></html>"))
    expected = [
        digest_document(
            body,
            url=src.url,
            content_type="application/rss+xml",
            source=src,
            excerpt_length=200,
            now=NOW,
        )
        for src, body in documents
    ]
    assert sum(len(d.articles) for d in expected if isinstance(d, Digest)) == 54
    assert isinstance(expected[-1], ParseFailure)
    assert digest_in_workers(documents, 2) == expected
    assert digest_in_workers(documents, 0) == expected


def test_a_worker_that_dies_fails_its_document_and_the_next_one_gets_a_new_pool() -> None:
    src, body = source(1), rss(1, 6)

    async def go() -> tuple[object, object]:
        async with Digester(1) as digester:
            call = dict(
                url=src.url,
                content_type="application/rss+xml",
                source=src,
                excerpt_length=200,
                now=NOW,
            )
            first = await digester.digest(body, **call)  # type: ignore[arg-type]
            assert isinstance(first, Digest)
            pool = digester._pool
            assert pool is not None
            for pid in list(pool._processes):  # type: ignore[attr-defined]
                os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.5)  # the pool notices its worker is gone
            lost = await digester.digest(body, **call)  # type: ignore[arg-type]
            again = await digester.digest(body, **call)  # type: ignore[arg-type]
            return lost, (first, again)

    lost, (first, again) = asyncio.run(go())
    assert lost == ParseFailure("the worker process digesting this document died")
    assert again == first


def test_how_many_workers_a_pass_gets() -> None:
    assert worker_count(0, 500) == 0
    assert worker_count(3, 1) == 3
    assert worker_count("auto", 2) == 0  # a few sources: not worth starting processes
    cores = len(os.sched_getaffinity(0))
    assert worker_count("auto", 500) == (cores if cores > 1 else 0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "fetch.workers"),
        ("lots", "fetch.workers"),
        ("65", "fetch.workers"),
    ],
)
def test_fetch_workers_is_checked(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"fetch: {{workers: {value}}}\nsources: []\n", base_dir=tmp_path)
    assert message in str(caught.value)


def test_a_pass_stores_the_same_with_worker_processes_or_without(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    lines = []
    for n in range(10):
        url = feed_server.serve(f"/o{n}.xml", rss(n, 9))
        lines.append(f"  - {{id: o{n}, url: '{url}'}}")

    def stored(workers: int) -> list[tuple[str, str, str, str | None]]:
        directory = tmp_path / f"workers-{workers}"
        directory.mkdir()
        settings = parse_config(
            # One source at a time, so stories are founded in the same order both times.
            f"storage: sqlite:///db.sqlite\nfetch: {{workers: {workers}, concurrency: 1,\n"
            "  allow_private: [127.0.0.1]}\n"
            "sources:\n" + "\n".join(lines) + "\n",
            base_dir=directory,
        )
        with Store.open(settings.storage) as store:
            store.sync_sources(settings.sources)
            reports = asyncio.run(pipeline.run_pass(settings, store, settings.sources, lambda: NOW))
            assert [r.status for r in reports] == ["ok"] * 10
            return sorted(
                (a.article.id or "", a.story_id, a.article.title, a.article.excerpt)
                for a in store.articles()
            )

    with_workers, without = stored(2), stored(0)
    assert len(with_workers) == 90
    assert len({story for _, story, _, _ in with_workers}) < 90  # retellings were folded
    assert with_workers == without


def test_call_runs_in_a_worker_and_turns_a_dead_or_stopped_pool_into_os_error() -> None:
    async def go() -> None:
        digester = Digester(1)
        with pytest.raises(RuntimeError):
            digester.call(os.getpid)  # nothing started yet
        await digester._start()
        assert digester.running
        assert await asyncio.to_thread(digester.call, os.getpid) != os.getpid()
        pool = digester._pool
        assert pool is not None
        for pid in list(pool._processes):  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        with pytest.raises(OSError, match="died"):
            await asyncio.to_thread(digester.call, os.getpid)
        assert not digester.running  # the next digest starts a new pool
        await digester._start()
        await digester.aclose()
        with pytest.raises(RuntimeError):  # stopped: nothing runs any more
            digester.call(os.getpid)

    asyncio.run(go())


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``, from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_worker_processes_go_when_the_pass_is_killed_outright(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    lines = []
    for n in range(9):
        url = feed_server.serve(f"/o{n}.xml", rss(n, 6))
        lines.append(f"  - {{id: o{n}, url: '{url}'}}")
    # One source trickles its answer, so the pass is under way when it is killed.
    slow = feed_server.serve("/slow.xml", rss(9, 6), trickle=0.05)
    lines.append(f"  - {{id: slow, url: '{slow}'}}")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "storage: sqlite:///db.sqlite\n"
        "fetch: {workers: 2, timeout: 5m, allow_private: [127.0.0.1]}\n"
        "sources:\n" + "\n".join(lines) + "\n"
    )
    process = subprocess.Popen(
        [str(AGGREGATOR), "-c", str(config), "fetch", "--all"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
    )
    try:
        deadline = time.monotonic() + 30
        family: set[int] = set()
        while time.monotonic() < deadline and len(family) < 3:
            # The forkserver is the pass's child; the workers are the forkserver's.
            family = {server for server in children(process.pid)}
            family |= {worker for server in set(family) for worker in children(server)}
            time.sleep(0.1)
        assert len(family) >= 3, "the forkserver and two workers never started"
        assert process.poll() is None, "the pass ended before it could be killed"
        process.kill()
        process.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(pid) for pid in family):
            time.sleep(0.1)
        assert not [pid for pid in family if alive(pid)]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_no_more_digests_wait_for_the_store_than_the_digester_lets_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pass over 1,000 sources digested far faster than one store writes: every digest
    # waiting for the store was walked by the collector's full passes, which held the
    # interpreter lock (and the HTTP server) 100-300 ms each.
    documents = {f"https://o{n}.example/feed": rss(n, 3) for n in range(12)}
    settings = parse_config(
        "storage: sqlite:///db.sqlite\nsources:\n"
        + "".join(f"  - {{id: o{n}, url: 'https://o{n}.example/feed'}}\n" for n in range(12)),
        base_dir=tmp_path,
    )
    sources = settings.sources
    release = threading.Event()
    digested: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        # A stream, read as the fetcher reads a real answer.
        return httpx.Response(200, stream=httpx.ByteStream(documents[str(request.url)]))

    async def main(store: Store) -> list[pipeline.SourceReport]:
        digester = Digester(0)
        limit = UNSAVED_PER_WORKER  # a digester without workers: one worker's share
        digest = digester.digest

        async def counted(body: bytes, **kwargs: Any) -> Any:
            digested.append(kwargs["source"].id)
            return await digest(body, **kwargs)

        monkeypatch.setattr(digester, "digest", counted)
        save = store.save_articles

        def held(*args: Any, **kwargs: Any) -> Any:
            release.wait(30)  # the store is busy with a long batch
            return save(*args, **kwargs)

        monkeypatch.setattr(store, "save_articles", held)
        transport = httpx.MockTransport(answer)
        async with Fetcher(FetchLimits(), transport=transport) as fetcher:
            passes = [
                asyncio.create_task(
                    pipeline.update(
                        s, store=store, fetcher=fetcher, settings=settings, now=NOW,
                        digester=digester,
                    )
                )
                for s in sources
            ]  # fmt: skip
            for _ in range(200):  # every fetch answered, the first digests under way
                await asyncio.sleep(0.01)
            assert len(digested) == limit < len(sources)
            release.set()
            return await asyncio.gather(*passes)

    with Store.open(settings.storage) as store:
        store.sync_sources(sources)
        reports = asyncio.run(main(store))
    assert [r.status for r in reports] == ["ok"] * len(sources)
    assert sorted(digested) == sorted(s.id for s in sources)


def test_a_stop_does_not_wait_for_a_document_that_takes_minutes() -> None:
    # SIGTERM waited 92 s for one slow item (documented: 10 s): work under way gets
    # STOP_GRACE_SECONDS, then its worker is ended.
    async def go() -> tuple[list[int], bool]:
        digester = Digester(1)
        await digester._start()
        pool = digester._pool
        assert pool is not None
        busy = asyncio.ensure_future(asyncio.to_thread(digester.call, time.sleep, 300))
        await asyncio.sleep(0.5)  # the worker is sleeping on it
        workers = list(pool._processes)  # type: ignore[attr-defined]
        await asyncio.wait_for(digester.aclose(), 60)  # far less than the document's 300 s
        with contextlib.suppress(Exception):
            await asyncio.wait_for(busy, 10)
        return workers, busy.done()

    workers, abandoned = asyncio.run(go())
    assert workers and abandoned
    assert not any(alive(pid) for pid in workers)


def spin(seconds: float) -> float:
    """Use ``seconds`` of CPU time (what a document crafted to be slow does)."""
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass
    return seconds


def test_a_document_past_its_budget_is_stopped_in_its_worker() -> None:
    # A document crafted to be slow held a worker (and its CPU) for minutes; now it gets
    # fetch.parse_timeout of CPU time, and the worker is free for the next one.
    async def go() -> tuple[object, int, int, float]:
        async with Digester(1, budget=0.3) as digester:
            await digester._start()
            with pytest.raises(DigestTimeout, match=r"longer than 0\.3s of CPU time"):
                await asyncio.to_thread(digester.call, within, 0.3, spin, 60)
            worker = await asyncio.to_thread(digester.call, os.getpid)
            again = await asyncio.to_thread(digester.call, os.getpid)
            slow = await asyncio.to_thread(digester.call, digest_within, 0.3, partial(spin, 60))
            # Waiting (for a busy machine's CPU, say) is not spending.
            waited = await asyncio.to_thread(digester.call, within, 0.3, time.sleep, 0.6)
            return slow, worker, again, waited

    slow, worker, again, waited = asyncio.run(go())
    assert worker == again  # the same worker, not a new one
    assert isinstance(slow, ParseFailure) and "longer than 0.3s" in slow.reason
    assert waited is None


async def digest_one(digester: Digester, body: bytes) -> Digest | ParseFailure:
    """``body`` digested as outlet 1's RSS feed."""
    return await digester.digest(
        body,
        url="https://o1.example/feed",
        content_type="application/rss+xml",
        source=source(1),
        excerpt_length=200,
        now=NOW,
    )


def stuck_in_c(iterations: int) -> bytes:
    """Minutes of CPU in one C call, which no signal handler interrupts."""
    return hashlib.pbkdf2_hmac("sha256", b"password", b"salt", iterations)


def test_a_step_stuck_in_c_code_ends_its_worker_at_the_cpu_ceiling() -> None:
    # The budget's timer raises only between bytecodes: a parser's C loop went on to its
    # end. The kernel's CPU limit (twice the budget and a second) ends the worker.
    async def go() -> object:
        async with Digester(1, budget=0.2) as digester:
            await digester._start()
            with pytest.raises(OSError, match="died"):
                await asyncio.to_thread(
                    digester.call, digest_within, 0.2, partial(stuck_in_c, 10**9)
                )
            return await digest_one(digester, rss(1, 3))

    after = asyncio.run(go())
    assert isinstance(after, Digest) and len(after.articles) == 3  # a new worker took it


def many_entries(count: int) -> bytes:
    items = "".join(
        f"<item><title>Story {n}</title><link>https://o.example/{n}</link>"
        f"<description>Summary of story {n}, told at some length.</description></item>"
        for n in range(count)
    )
    return f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


@pytest.fixture
def no_gc_callbacks() -> Iterator[None]:
    """Without the garbage collector callbacks other tests' libraries leave installed: a
    budget's timer firing in one raises where Python prints and drops the exception,
    which pytest then reports as this test's error."""
    installed = gc.callbacks[:]
    gc.callbacks.clear()
    try:
        yield
    finally:
        gc.callbacks[:] = installed


@pytest.mark.usefixtures("no_gc_callbacks")
def test_a_budget_spent_among_entries_fails_the_document_rather_than_one_entry() -> None:
    # The handler that skips one bad entry caught the timer's exception, dropped the entry
    # it hit and digested the rest with no budget left to stop it.
    parsed = parse_feed(many_entries(3000), url="https://o.example/feed")
    assert not isinstance(parsed, ParseFailure)
    with pytest.raises(DigestTimeout):
        within(0.05, digest_parsed, parsed, source(1), 200, NOW)


@pytest.mark.usefixtures("no_gc_callbacks")
def test_a_budget_exception_swallowed_once_is_raised_again() -> None:
    # Raised inside a garbage collector callback or a __del__, the timer's exception is
    # printed and dropped; the digest went on with no budget left to stop it.
    swallowed = []

    def spin_through_one_timeout() -> None:
        deadline = time.monotonic() + 5  # without a second firing: done, nothing raised
        while time.monotonic() < deadline:
            try:
                while time.monotonic() < deadline:
                    pass
            except DigestTimeout:
                if swallowed:
                    raise
                swallowed.append(True)

    with pytest.raises(DigestTimeout):
        within(0.05, spin_through_one_timeout)
    assert swallowed


@pytest.mark.parametrize("workers", [0, 1])
def test_a_document_past_its_budget_is_a_failure_in_a_thread_and_in_a_worker(
    workers: int,
) -> None:
    async def go() -> object:
        async with Digester(workers, budget=0.05) as digester:
            return await digest_one(digester, many_entries(3000))

    failed = asyncio.run(go())
    assert isinstance(failed, ParseFailure), failed
    assert "longer than 0.05s of CPU time" in failed.reason
