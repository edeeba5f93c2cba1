"""A fetched document digested into what the store takes: parsed, every wanted entry
normalized and fingerprinted, and the document's cadence read.

This is the CPU-bound middle of a source's pass. ``Digester`` runs it either in a pool of
worker processes, one per core (a pass over many sources then uses every core, and the
process that fetches and stores never waits for the interpreter lock behind a parser), or
in a thread of this process (no start-up cost, for a pass over a few sources). Both run
the same function on the same values, so their results are the same.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import TypeVar

from aggregator.dedup import Fingerprint, may_tell_other_events
from aggregator.model import Article, Cadence, Entry, ParsedFeed, Source
from aggregator.normalize import FUTURE_TOLERANCE, entry_guid, is_wanted, normalize
from aggregator.parse import ParseFailure, parse_feed
from aggregator.processes import wait_until_ended
from aggregator.sanitize import html_paragraphs, html_to_text
from aggregator.schedule import cadence_of

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Below this many letters and digits a text is too short to judge by similarity (a
#: headline with a number would match every other one of its kind); such stories are
#: still folded by canonical URL and exact content.
MIN_SIMILAR_LETTERS = 120

#: A pass over fewer sources than this digests in a thread: starting worker processes
#: costs more than they would save.
POOL_MIN_SOURCES = 8


@dataclass(frozen=True, slots=True)
class Digest:
    """One document's entries ready to store: ``(guid, article, fingerprint)`` each."""

    articles: list[tuple[str, Article, Fingerprint]]
    warnings: tuple[str, ...]
    cadence: Cadence


def story_fingerprint(title: str, body_text: str, paragraphs: Sequence[str] = ()) -> Fingerprint:
    return Fingerprint.of(title, body_text, min_letters=MIN_SIMILAR_LETTERS, paragraphs=paragraphs)


def digest_document(
    body: bytes,
    *,
    url: str,
    content_type: str | None,
    source: Source,
    excerpt_length: int,
    now: datetime,
    budget: float | None = None,
) -> Digest | ParseFailure:
    """Parse a fetched document and digest its entries (see ``digest_parsed``); a failure
    of the document once it has used ``budget`` seconds of this thread's CPU time, checked
    after parsing and after each entry (in a worker process ``within`` also interrupts a
    single slow step)."""
    check = CpuBudget(budget).check if budget is not None else _no_check
    try:
        parsed = parse_feed(body, url=url, content_type=content_type)
        if isinstance(parsed, ParseFailure):
            return parsed
        check()
        return digest_parsed(parsed, source, excerpt_length, now, check)
    except DigestTimeout as error:
        return ParseFailure(f"{error}; skipped")


def digest_parsed(
    parsed: ParsedFeed,
    source: Source,
    excerpt_length: int,
    now: datetime,
    check: Callable[[], None] | None = None,
) -> Digest:
    articles, warnings = articles_of(parsed, source, excerpt_length, now, check or _no_check)
    return Digest(articles, warnings, cadence_of(parsed, now))


class CpuBudget:
    """Seconds of the calling thread's CPU time; ``check`` raises ``DigestTimeout`` once
    they are spent. A thread cannot be interrupted from outside, so it checks itself."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._until = time.thread_time() + seconds

    def check(self) -> None:
        if time.thread_time() > self._until:
            raise DigestTimeout(f"took longer than {self.seconds:g}s of CPU time to digest")


def _no_check() -> None:
    pass


def articles_of(
    parsed: ParsedFeed,
    source: Source,
    excerpt_length: int,
    now: datetime,
    check: Callable[[], None] = _no_check,
) -> tuple[list[tuple[str, Article, Fingerprint]], tuple[str, ...]]:
    """(guid, article, fingerprint) for every wanted entry; an entry that fails is skipped
    with a warning. ``check`` runs after each entry (``CpuBudget.check``)."""
    warnings = list(parsed.warnings)
    entries = newest(parsed.entries, source.max_items)
    future = sum(1 for e in entries if e.published and e.published > now + FUTURE_TOLERANCE)
    if future:
        warnings.append(f"{future} entries dated in the future; dated when fetched instead")
    articles: list[tuple[str, Article, Fingerprint]] = []
    for position, entry in enumerate(entries):
        try:
            article = normalize(
                entry, source, base_url=parsed.base_url, now=now, excerpt_length=excerpt_length
            )
        except Exception as error:  # one bad entry never costs the others
            warnings.append(f"entry {position + 1} skipped: {type(error).__name__}: {error}")
            continue
        if is_wanted(article, source):
            # The story is recognised by what the outlet wrote, before our templates.
            html_body = entry.content or entry.summary or ""
            body = html_to_text(html_body)
            paragraphs = html_paragraphs(html_body) if may_tell_other_events(body) else ()
            fingerprint = story_fingerprint(article.title, body, paragraphs)
            articles.append((entry_guid(entry, parsed.base_url), article, fingerprint))
        check()
    return articles, tuple(warnings)


def newest(entries: Sequence[Entry], count: int | None) -> Sequence[Entry]:
    """The ``count`` newest entries (undated ones count as oldest), in feed order."""
    if count is None or len(entries) <= count:
        return entries
    floor = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(
        range(len(entries)),
        key=lambda i: (entries[i].published or entries[i].updated or floor, -i),
        reverse=True,
    )
    keep = sorted(ranked[:count])
    return [entries[i] for i in keep]


def worker_count(setting: int | str, sources: int) -> int:
    """Worker processes for a pass over ``sources`` sources: 0 means digest in a thread.

    ``setting`` is ``fetch.workers``: a number, or "auto" (one per core the process may
    use, none on a single core or for a pass over a few sources)."""
    if isinstance(setting, int):
        return setting
    if sources < POOL_MIN_SOURCES:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores and cores > 1 else 0


def _start_worker(parent: int) -> None:
    """Set up a worker process of ``parent`` (the process that started the pool)."""
    # Ctrl-C reaches the whole process group; the parent decides how a pass stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A parent killed outright (SIGKILL, out of memory) never tells its workers, and they
    # would wait for work for ever, keeping the forkserver alive too: they go with it.
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with(parent: int) -> None:
    wait_until_ended(parent)
    os._exit(0)


class DigestTimeout(BaseException):
    """A document took longer than its budget to digest. An interrupt, like
    ``KeyboardInterrupt``, not an error: the ``except Exception`` that skips one bad entry
    (or any in a parser) must not swallow it and go on with the rest of the document."""


#: CPU seconds between the timer's firings once a budget is spent (``within``).
REFIRE_SECONDS = 0.005


def within(budget: float, function: Callable[..., T], *args: object) -> T:
    """``function(*args)``, interrupted by ``DigestTimeout`` once it has used ``budget``
    seconds of CPU time.

    For a worker process's main thread (a profiling timer signal, which counts this
    process's CPU time): a document crafted to be slow stops costing CPU at the budget,
    instead of holding a worker for minutes, while waiting for a busy machine's CPU
    costs it nothing."""

    def expired(signum: int, frame: object) -> None:
        raise DigestTimeout(f"took longer than {budget:g}s of CPU time to digest")

    previous = signal.signal(signal.SIGPROF, expired)
    # Past the budget the timer fires again every few milliseconds: an exception raised
    # where Python ignores it (a garbage collector callback, a __del__) is raised anew.
    signal.setitimer(signal.ITIMER_PROF, budget, REFIRE_SECONDS)
    try:
        return function(*args)
    finally:
        while True:
            try:  # the timer may fire once more before it is stopped: that one is moot
                signal.setitimer(signal.ITIMER_PROF, 0)
                break
            except DigestTimeout:
                continue
        signal.signal(signal.SIGPROF, previous)


def digest_within(
    budget: float, digesting: Callable[[], Digest | ParseFailure]
) -> Digest | ParseFailure:
    """``digesting()`` within ``budget`` seconds; a ``ParseFailure`` saying so past it.

    A signal handler runs only between bytecodes: a step stuck in C code (a parser's
    loop) would never see it. So the worker also gets a CPU limit of twice the budget and
    a second: past it the kernel ends the worker (``SIGXCPU``), its documents fail, and
    the pool starts a new one."""
    with cpu_ceiling(budget * 2 + 1):
        try:
            return within(budget, digesting)
        except DigestTimeout as error:
            return ParseFailure(f"{error}; skipped")


@contextmanager
def cpu_ceiling(seconds: float) -> Iterator[None]:
    """Have the kernel end this process once it has used ``seconds`` more CPU time
    (``RLIMIT_CPU``); the limit is lifted again on leaving. For worker processes only."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    ceiling = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (ceiling, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


#: How long a stop waits for the documents under way in worker processes.
STOP_GRACE_SECONDS = 3.0
#: Digests a worker may have waiting for the store.
UNSAVED_PER_WORKER = 4


def _end_workers(workers: Sequence[BaseProcess], grace: float) -> None:
    """Wait up to ``grace`` seconds for ``workers`` to finish, then end those still busy."""
    deadline = time.monotonic() + grace
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            log.warning("stopping: a worker still digesting a document was ended")
            worker.kill()
            worker.join(5)


class Digester:
    """Where documents are digested: ``workers`` processes, or a thread when 0.

    Use as an async context manager; the processes start on first use (beside the
    fetches under way) and stop when the context ends. A worker that dies (killed, out
    of memory) fails the documents it held, and the pool is started again for the next.
    """

    def __init__(self, workers: int = 0, budget: float | None = None) -> None:
        self.workers = workers
        #: CPU seconds a document may take to digest (``fetch.parse_timeout``); None for no
        #: limit. A worker process is interrupted at the budget; a thread checks it
        #: after parsing and after each entry.
        self.budget = budget
        self._pool: ProcessPoolExecutor | None = None
        self._starting = asyncio.Lock()
        #: Held from digesting a document until its articles are stored: the store takes
        #: one batch at a time, and digests waiting for it (thousands of objects each, in
        #: a pass over 1,000 sources) are what the collector's full passes walked.
        self.unsaved = asyncio.Semaphore(max(UNSAVED_PER_WORKER * workers, UNSAVED_PER_WORKER))

    async def __aenter__(self) -> Digester:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the worker processes: queued work is cancelled, work under way gets
        ``STOP_GRACE_SECONDS`` and is then abandoned (a document that takes minutes must
        not hold up a stop the operator was promised in seconds)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            # The pool's own list: shutdown forgets it, and waits for work under way.
            workers = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            await asyncio.to_thread(_end_workers, workers, STOP_GRACE_SECONDS)

    async def digest(
        self,
        body: bytes,
        *,
        url: str,
        content_type: str | None,
        source: Source,
        excerpt_length: int,
        now: datetime,
    ) -> Digest | ParseFailure:
        # A partial of a module function: picklable, so the same call runs in either place.
        digesting = partial(
            digest_document,
            body,
            url=url,
            content_type=content_type,
            source=source,
            excerpt_length=excerpt_length,
            now=now,
            budget=self.budget,
        )
        if not self.workers:
            return await asyncio.to_thread(digesting)
        pool = self._pool or await self._start()
        if self.budget is not None:
            digesting = partial(digest_within, self.budget, digesting)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, digesting)
        except BrokenProcessPool:
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            return ParseFailure("the worker process digesting this document died")

    @property
    def running(self) -> bool:
        """Whether worker processes are up (started by a first ``digest``)."""
        return self._pool is not None

    def call(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` in a worker process, waited for: call it from a thread,
        never from the event loop, and only while ``running``. A worker that dies, or a
        pool shut down meanwhile, raises ``OSError``; the next ``digest`` starts a new
        pool after a death."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("no worker processes are running")
        try:
            return pool.submit(function, *args).result()
        except BrokenProcessPool as error:  # (a RuntimeError too, so first)
            if self._pool is pool:
                self._pool = None
            raise OSError("a worker process died") from error
        except RuntimeError as error:
            if self._pool is not pool:  # shut down meanwhile: the service is stopping
                raise OSError(f"the worker processes are stopping: {error}") from error
            raise

    async def _start(self) -> Executor:
        """The pool, its processes started beside the event loop: starting the forkserver
        and forking from it waits for them, which must not stall every other source's
        requests and timers (nor the HTTP server's answers)."""
        async with self._starting:
            if self._pool is None:
                self._pool = await asyncio.to_thread(self._started_pool)
        return self._pool

    def _started_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported the digesting code once, not from
        # this process with its threads, connections and event loop.
        context.set_forkserver_preload([__name__])
        pool = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
        )
        # A submit forks one more worker while none is idle: all of them, now.
        for started in [pool.submit(int) for _ in range(self.workers)]:
            started.result()
        return pool
