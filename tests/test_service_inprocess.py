"""The service's decisions, in-process with a clock the test moves: a failed publish keeps
its change, is tried again with backoff and shows in /healthz and /metrics; /healthz is
"degraded" while most sources fail; store calls never run on the event loop."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from aggregator import pipeline
from aggregator.config import load_config, parse_config
from aggregator.digest import Digester
from aggregator.fetch import Fetcher
from aggregator.metrics import Metrics
from aggregator.scheduler import FREEZE_EVERY, PUBLISH_RETRY, PUBLISH_RETRY_MAX, Service
from aggregator.store import FetchRecord, Store

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def settings_for(tmp_path: Path, sources: int = 2):  # type: ignore[no-untyped-def]
    lines = "\n".join(
        f"  - {{id: s{n}, url: 'http://127.0.0.1:9/s{n}.xml'}}" for n in range(sources)
    )
    return parse_config(
        f"storage: sqlite:///db.sqlite\noutput: {{dir: public, posts_dir: _posts}}\n"
        f"sources:\n{lines}\n",
        base_dir=tmp_path,
    )


def publish_job_time(service: Service) -> datetime:
    job = service.scheduler.get_job("publish")
    assert job is not None, "no publish is scheduled"
    when: datetime = job.trigger.run_date
    return when


def test_a_failed_publish_is_retried_with_backoff_and_shows_until_one_succeeds(
    tmp_path: Path,
) -> None:
    async def scheduler_paused() -> None:
        service.scheduler.start(paused=True)  # jobs are kept and replaced, never run
        try:
            story(service)
        finally:
            service.scheduler.shutdown(wait=False)

    settings = settings_for(tmp_path)
    store = Store.open(settings.storage)
    store.sync_sources(settings.sources)
    service = Service(settings, store, metrics=Metrics(), clock=Clock(START))
    asyncio.run(scheduler_paused())


def story(service: Service) -> None:
    clock, metrics, store, settings = (
        service.clock,
        service.metrics,
        service.store,
        service.settings,
    )
    assert isinstance(clock, Clock) and metrics is not None
    service._publish_soon()  # something was stored
    assert publish_job_time(service) == START + timedelta(seconds=2)
    store.close()  # every store call now fails with a StoreError

    service._publish()
    health = service.health_report()
    assert health["status"] == "degraded"
    assert "StoreError" in str(health["publish_error"])
    assert publish_job_time(service) == START + PUBLISH_RETRY
    assert service._first_pending_change == START  # the change is still waiting

    clock.now = START + PUBLISH_RETRY
    service._publish()
    assert publish_job_time(service) == clock.now + 2 * PUBLISH_RETRY
    # A new change meanwhile does not cut the backoff short.
    service._publish_soon()
    assert publish_job_time(service) == clock.now + 2 * PUBLISH_RETRY
    assert b"publish_failures_total 2.0" in metrics.render()

    for _ in range(20):
        service._publish()
    assert publish_job_time(service) == clock.now + PUBLISH_RETRY_MAX

    # The store is back: the next try publishes and the service is healthy again.
    service.store = Store.open(settings.storage)
    clock.now += timedelta(minutes=5)
    service._publish()
    health = service.health_report()
    assert health["status"] == "ok" and health["publish_error"] is None
    assert service.health.last_publish == clock.now
    assert service._first_pending_change is None
    assert (settings.output.dir / "feeds" / "all.xml").is_file()
    service.store.close()


def test_healthz_is_degraded_while_most_sources_fail(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, sources=3)
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        service = Service(settings, store, clock=Clock(START))

        def fail(source_id: str) -> None:
            store.record(
                source_id,
                FetchRecord(START, "error", None, "connection refused", START, "backoff"),
            )

        fail("s0")
        report = service.health_report()
        assert (report["status"], report["failing"]) == ("ok", ["s0"])
        fail("s1")
        report = service.health_report()
        assert (report["status"], report["failing"]) == ("degraded", ["s0", "s1"])


def test_claims_read_the_store_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, sources=1)
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        # Not due for an hour: the claim finds nothing to do.
        store.record("s0", FetchRecord(START, "ok", None, None, START + timedelta(hours=1)))
        service = Service(settings, store, clock=Clock(START))
        threads: list[threading.Thread] = []
        real_claim = store.claim_due

        def claim_due(*args):  # type: ignore[no-untyped-def]
            threads.append(threading.current_thread())
            return real_claim(*args)

        monkeypatch.setattr(store, "claim_due", claim_due)

        async def claim() -> threading.Thread:
            service.fetcher = object()  # type: ignore[assignment]  # any: not used when not due
            await service._claim()
            return threading.current_thread()

        loop_thread = asyncio.run(claim())
        assert threads and all(thread is not loop_thread for thread in threads)
        assert not service._passes  # nothing was due


def test_the_service_prunes_at_start_and_then_hourly(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, sources=1)
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        service = Service(settings, store, clock=Clock(START))
        service._schedule_all()
        job = service.scheduler.get_job("prune")
        assert job is not None and job.next_run_time == START
        assert job.trigger.interval == timedelta(hours=1)


class _Cycle:
    def __init__(self) -> None:
        self.itself = self


def test_survivors_are_frozen_and_the_hourly_prune_frees_frozen_cycles(tmp_path: Path) -> None:
    # What survives is frozen every few seconds, so the collector's full passes stay
    # short; cyclic garbage frozen meanwhile is freed once an hour, with the prune.
    settings = settings_for(tmp_path, sources=1)
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        service = Service(settings, store, clock=Clock(START))
        service._schedule_all()
        job = service.scheduler.get_job("freeze")
        assert job is not None and job.trigger.interval == FREEZE_EVERY
        freed = threading.Event()
        try:
            cycle = _Cycle()
            weakref.finalize(cycle, freed.set)
            job.func()  # frozen with everything else alive now
            del cycle
            gc.collect()
            assert not freed.is_set()  # frozen: the collector does not look at it
            service._prune()
            assert freed.is_set()
        finally:
            gc.unfreeze()


RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>'
    "<link>https://s.example/</link><item><title>A story</title>"
    "<link>https://s.example/1</link><guid>s-1</guid>"
    "<pubDate>Tue, 01 Dec 2026 08:00:00 +0000</pubDate><description>Text.</description>"
    "</item></channel></rss>"
)


def test_a_failure_and_a_recovery_republish_the_index_page(tmp_path: Path) -> None:
    answers = {"status": 500}

    def handler(request: httpx.Request) -> httpx.Response:
        if answers["status"] != 200:
            return httpx.Response(answers["status"])
        return httpx.Response(
            200,
            headers={"content-type": "application/rss+xml"},
            stream=httpx.ByteStream(RSS.encode()),  # read as the fetcher streams it
        )

    settings = settings_for(tmp_path, sources=1)
    clock = Clock(START)
    index = settings.output.dir / "index.html"

    async def scenario() -> None:
        with Store.open(settings.storage) as store:
            store.sync_sources(settings.sources)
            service = Service(settings, store, clock=clock)
            service.fetcher = Fetcher(
                pipeline.fetch_limits(settings), transport=httpx.MockTransport(handler)
            )
            service.scheduler.start(paused=True)
            try:
                source = settings.sources[0]
                service._publish()
                assert "not fetched yet" in index.read_text("utf-8")

                await service._pass(source, store.state(source.id))  # fails: 500
                assert service.scheduler.get_job("publish") is not None
                service._publish()
                assert "failing (1)" in index.read_text("utf-8")

                service.scheduler.remove_job("publish")
                answers["status"] = 200
                clock.now += timedelta(hours=1)
                await service._pass(source, store.state(source.id))  # recovers
                assert service.scheduler.get_job("publish") is not None
                service._publish()
                assert "failing" not in index.read_text("utf-8")

                service.scheduler.remove_job("publish")
                answers["status"] = 304
                clock.now += timedelta(hours=1)
                await service._pass(source, store.state(source.id))  # nothing new, healthy
                assert service.scheduler.get_job("publish") is None
            finally:
                service.scheduler.shutdown(wait=False)
                await service.fetcher.aclose()

    asyncio.run(scenario())


def test_with_worker_processes_the_service_publishes_in_one_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = parse_config(
        "storage: sqlite:///db.sqlite\noutput: {dir: public, posts_dir: _posts}\n"
        "fetch: {workers: 1}\nsources:\n  - {id: s0, url: 'http://127.0.0.1:9/s0.xml'}\n",
        base_dir=tmp_path,
    )
    published: list[object] = []

    async def scenario() -> None:
        with Store.open(settings.storage) as store:
            store.sync_sources(settings.sources)
            service = Service(
                settings,
                store,
                clock=Clock(START),
                on_published=lambda files, when: published.append(files),
            )
            service.digester = Digester(1)
            await service.digester._start()
            worker = next(iter(service.digester._pool._processes))  # type: ignore[union-attr]

            def not_here(*args: object) -> None:
                raise OSError("published in the service's own process")

            try:
                with monkeypatch.context() as patched:  # this process only, not the workers
                    patched.setattr(pipeline, "publish_all", not_here)
                    await asyncio.to_thread(service._publish)
                assert service.health.publish_error is None
                assert published and (settings.output.dir / "feeds" / "all.xml").is_file()
                # What the worker wrote is what publishing here writes: nothing changes.
                again = pipeline.publish_all(settings, store, START)
                assert again.changed == () and again.posts_written == 0
                assert worker != os.getpid()
            finally:
                await service.digester.aclose()

    asyncio.run(scenario())


def test_a_refused_edit_is_shown_without_its_values_and_a_failing_one_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "feeds.yaml"
    good = "storage: sqlite:///db.sqlite\nsources:\n  - {id: s0, url: 'https://s0.example/'}\n"
    config.write_text(good, encoding="utf-8")
    settings = load_config(config)
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        service = Service(settings, store, clock=Clock(START))
        # A mistyped store URL holding a password: refused, and shown without it.
        config.write_text(
            good.replace("sqlite:///db.sqlite", "postgres://app:hunter2@db/news"), "utf-8"
        )
        assert service.reload() is False
        shown = service.health.config_error or ""
        assert shown.startswith("feeds.yaml:1:10 storage: expected")
        assert "hunter2" not in shown and str(tmp_path) not in shown
        assert "hunter2" not in str(service.health_report())

        # Valid, but applying it fails (a bug, a store error): the old one keeps running.
        config.write_text(good + "  - {id: s1, url: 'https://s1.example/'}\n", "utf-8")

        def broken(*args: object) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(store, "sync_sources", broken)
        assert service.reload() is False
        assert service.health.config_error == "feeds.yaml could not be applied: RuntimeError"
        assert [s.id for s in service.settings.sources] == ["s0"]
        monkeypatch.undo()
        assert service.reload() is True
        assert service.health.config_error is None
        assert [s.id for s in service.settings.sources] == ["s0", "s1"]
