"""The politeness policy as a whole: the precedence between its rules, a feed giving every
hint, where the hints come from (the feed document, the response headers), how they are
stored, the settings that bound it, and the real command: ``aggregator sources`` says when
and why, and a later ``aggregator fetch`` leaves a source alone until then."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from aggregator import pipeline
from aggregator.address_guard import AddressPolicy
from aggregator.config import parse_config
from aggregator.errors import ConfigError
from aggregator.fetch import Fetcher, FetchLimits, freshness
from aggregator.model import Cadence, FeedHints, FetchStatus, ParsedFeed, Source, Validators
from aggregator.parse import parse_feed
from aggregator.schedule import (
    DEFAULT_MAX_INTERVAL,
    DEFAULT_MIN_INTERVAL,
    JITTER_SHARE,
    FetchFacts,
    NextFetch,
    jitter_share,
    next_fetch,
    past_skipped,
)
from aggregator.store import Store
from tests.cli import run_cli
from tests.feedserver import FeedServer

#: A Wednesday.
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
FIFTEEN = 15 * MINUTE


def decide(status: FetchStatus = FetchStatus.OK, **kw: object) -> NextFetch:
    values: dict[str, object] = {
        "source_id": "src",
        "status": status,
        "now": NOW,
        "interval": FIFTEEN,
    }
    values.update(kw)
    return next_fetch(FetchFacts(**values))  # type: ignore[arg-type]


def jitter(wait: timedelta, source_id: str = "src") -> timedelta:
    return timedelta(seconds=int((wait * JITTER_SHARE * jitter_share(source_id)).total_seconds()))


#: Everything a feed and a server can ask for at once.
EVERY_HINT = Cadence(
    hints=FeedHints(
        ttl=90 * MINUTE, update_period=30 * MINUTE, skip_hours=(0, 1, 2), skip_days=(6,)
    ),
    observed_gap=20 * MINUTE,
    last_published=NOW - 5 * MINUTE,
)
ASKED = {"max_age": 2 * HOUR, "expires_in": 4 * HOUR, "retry_after": None}


# -- precedence ------------------------------------------------------------------------------


def test_disabled_beats_everything() -> None:
    decision = decide(
        FetchStatus.ERROR,
        http_status=410,
        errors=5,
        retry_after=HOUR,
        max_age=HOUR,
        cadence=EVERY_HINT,
    )
    assert decision.due is None and decision.disabled is not None


def test_retry_after_beats_backoff_and_every_hint() -> None:
    decision = decide(
        FetchStatus.ERROR,
        http_status=503,
        errors=6,  # backoff would be 8 hours
        retry_after=10 * MINUTE,
        cadence=Cadence(hints=FeedHints(ttl=6 * HOUR), observed_gap=DAY),
    )
    assert decision.due == NOW + 10 * MINUTE and decision.reason == "Retry-After"


def test_backoff_beats_the_interval_and_the_success_hints() -> None:
    decision = decide(
        FetchStatus.ERROR, http_status=500, errors=2, max_age=6 * HOUR, cadence=EVERY_HINT
    )
    assert decision.due == NOW + 30 * MINUTE + jitter(30 * MINUTE)
    assert decision.reason == "backoff after 2 errors"


def test_the_longest_of_interval_and_hints_wins_after_a_success() -> None:
    cases: list[tuple[dict[str, object], timedelta, str]] = [
        ({"cadence": Cadence(observed_gap=4 * HOUR), "max_age": 30 * MINUTE}, HOUR, "adapted"),
        (
            {"cadence": Cadence(observed_gap=10 * MINUTE), "max_age": 30 * MINUTE},
            30 * MINUTE,
            "Cache",
        ),
        ({"cadence": EVERY_HINT}, 90 * MINUTE, "ttl"),
        ({"cadence": EVERY_HINT, **ASKED}, 2 * HOUR, "Cache-Control max-age 2h"),
        ({"cadence": EVERY_HINT, "expires_in": 3 * HOUR}, 3 * HOUR, "Expires in 3h"),
    ]
    for kw, wait, reason in cases:
        decision = decide(**kw)
        assert decision.due == NOW + wait + jitter(wait), kw
        assert decision.reason.startswith(reason), (kw, decision.reason)


def test_on_a_tie_the_interval_names_the_reason_then_the_server_then_the_feed() -> None:
    assert decide(max_age=FIFTEEN).reason == "interval"
    same = Cadence(hints=FeedHints(ttl=HOUR, update_period=HOUR))
    assert decide(max_age=HOUR, cadence=same).reason == "Cache-Control max-age 1h"
    assert decide(cadence=same).reason == "ttl 1h"


def test_skipped_hours_apply_to_every_wait_even_retry_after() -> None:
    late = NOW.replace(hour=23, minute=30)
    night = Cadence(hints=FeedHints(skip_hours=(23, 0, 1)))
    asked = decide(
        FetchStatus.ERROR, http_status=429, retry_after=MINUTE, errors=1, now=late, cadence=night
    )
    assert asked.due == late.replace(hour=2, minute=0) + DAY  # no jitter on a Retry-After
    assert asked.reason == "Retry-After, moved past skipHours 0-1,23 UTC"
    failed = decide(FetchStatus.ERROR, http_status=500, errors=1, now=late, cadence=night)
    assert failed.due is not None and failed.due.hour == 2
    assert failed.reason == "backoff after 1 error, moved past skipHours 0-1,23 UTC"


def test_a_feed_with_every_hint() -> None:
    # Max-age 2h beats Expires (ignored when max-age is given), the ttl (90m), the update
    # period (30m) and the adapted interval (10m): 12:00 + 2h + jitter, a Wednesday
    # afternoon, is neither a skipped hour nor a skipped day.
    decision = decide(cadence=EVERY_HINT, **ASKED)
    assert decision.due == NOW + 2 * HOUR + jitter(2 * HOUR)
    assert decision.reason == "Cache-Control max-age 2h"
    # The same late on a Saturday evening: 22:00 + 2h lands on Sunday (skipped), so it
    # moves to Monday, past the skipped hours 0-2: Monday 03:00 plus the same jitter share
    # of at most an hour.
    saturday = datetime(2026, 11, 28, 22, tzinfo=UTC)
    weekend = decide(cadence=EVERY_HINT, now=saturday, **ASKED)
    offset = jitter(2 * HOUR)  # 10 % of 2h is 12m, under an hour
    assert weekend.due == datetime(2026, 11, 30, 3, tzinfo=UTC) + offset
    assert weekend.reason == (
        "Cache-Control max-age 2h, moved past skipHours 0-2 UTC and skipDays Sunday"
    )


def test_without_any_hint_the_policy_is_the_old_schedule() -> None:
    assert decide().due == NOW + FIFTEEN + jitter(FIFTEEN)
    assert decide().reason == "interval"


# -- where the hints come from: the feed -----------------------------------------------------

RSS_WITH_HINTS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel>
<title>Polite</title><link>https://polite.example/</link>
<ttl>90</ttl>
<sy:updatePeriod>hourly</sy:updatePeriod>
<sy:updateFrequency>2</sy:updateFrequency>
<skipHours><hour>0</hour><hour> 1 </hour><hour>24</hour><hour>99</hour><hour>x</hour></skipHours>
<skipDays><day>Saturday</day><day>sunday</day><day>Caturday</day></skipDays>
<item><title>One</title><guid>1</guid>
<description><![CDATA[<skipHours><hour>12</hour></skipHours>]]></description></item>
</channel>
</rss>"""


def parsed(body: bytes, content_type: str | None = None) -> ParsedFeed:
    result = parse_feed(body, url="https://polite.example/feed", content_type=content_type)
    assert isinstance(result, ParsedFeed), result
    return result


def test_rss_hints_are_read_from_the_channel() -> None:
    assert parsed(RSS_WITH_HINTS).hints == FeedHints(
        ttl=90 * MINUTE,
        update_period=30 * MINUTE,
        skip_hours=(0, 1),  # 24 is midnight; 99 and x are not hours
        skip_days=(5, 6),
    )


def test_skip_hours_in_cdata_or_comments_are_not_hints() -> None:
    hidden = parsed(
        b"""<rss version="2.0"><channel><title>t</title>
        <!-- <skipHours><hour>3</hour></skipHours> -->
        <item><title>a</title><description><![CDATA[<skipDays><day>Monday</day></skipDays>]]>
        </description></item></channel></rss>"""
    )
    assert hidden.hints == FeedHints()


@pytest.mark.parametrize(
    ("elements", "period"),
    [
        (
            b"<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>",
            6 * HOUR,
        ),
        (b"<sy:updateFrequency>2</sy:updateFrequency>", 12 * HOUR),  # daily by default
        (b"<sy:updatePeriod> Weekly </sy:updatePeriod>", 7 * DAY),
        (b"<sy:updatePeriod>fortnightly</sy:updatePeriod>", None),
        (
            b"<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>0</sy:updateFrequency>",
            None,
        ),
        (b"<ttl>soon</ttl>", None),
    ],
)
def test_the_syndication_module_period(elements: bytes, period: timedelta | None) -> None:
    rdf = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
        b'<channel rdf:about="https://polite.example/"><title>t</title>'
        b"<link>https://polite.example/</link>" + elements + b"</channel>"
        b'<item rdf:about="https://polite.example/1"><title>a</title>'
        b"<link>https://polite.example/1</link></item></rdf:RDF>"
    )
    hints = parsed(rdf).hints
    assert hints.update_period == period and hints.ttl is None


def test_feeds_without_hints_have_none() -> None:
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id>'
        b"<entry><title>a</title><id>1</id></entry></feed>"
    )
    assert parsed(atom).hints == FeedHints()
    json_feed = b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}'
    assert parsed(json_feed, "application/feed+json").hints == FeedHints()
    assert parsed(
        b"<rss version='2.0'><channel><title>t</title><ttl>0</ttl></channel></rss>"
    ).hints == (FeedHints())


def test_hostile_markup_around_hints_is_read_in_linear_time() -> None:
    body = b"<rss version='2.0'><channel><title>t</title>" + b"<![CDATA[<skipHours>" * 200_000
    assert parsed(body + b"</channel></rss>").hints == FeedHints()


# -- where the hints come from: the response -------------------------------------------------

RECEIVED = datetime(2026, 11, 25, 12, tzinfo=UTC)


def headers(**values: str) -> httpx.Headers:
    return httpx.Headers({k.replace("_", "-"): v for k, v in values.items()})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"cache_control": "max-age=7200"}, (2 * HOUR, None)),
        ({"cache_control": "public, max-age=600", "age": "120"}, (8 * MINUTE, None)),
        ({"cache_control": 'max-age="60"'}, (MINUTE, None)),
        ({"cache_control": "max-age=60", "age": "600"}, (None, None)),  # already stale
        ({"cache_control": "no-cache, max-age=600"}, (None, None)),
        (
            {"cache_control": "no-store", "expires": format_datetime(RECEIVED + HOUR, True)},
            (None, None),
        ),
        ({"cache_control": "max-age=soon"}, (None, None)),
        ({"expires": format_datetime(RECEIVED + HOUR, True)}, (None, HOUR)),
        (
            {
                "expires": format_datetime(RECEIVED + HOUR, True),
                "date": format_datetime(RECEIVED - HOUR, True),
            },
            (None, 2 * HOUR),  # counted from the response's Date, not from when it arrived
        ),
        ({"expires": "0"}, (None, None)),
        ({"expires": format_datetime(RECEIVED - HOUR, True)}, (None, None)),
        (
            {"cache_control": "max-age=60", "expires": format_datetime(RECEIVED + HOUR, True)},
            (MINUTE, HOUR),
        ),
        ({}, (None, None)),
    ],
)
def test_freshness_from_cache_control_and_expires(
    given: dict[str, str], expected: tuple[timedelta | None, timedelta | None]
) -> None:
    assert freshness(headers(**given), RECEIVED) == expected


def fetch(url: str, validators: Validators | None = None):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        async with Fetcher(FetchLimits(addresses=AddressPolicy.of(["127.0.0.1"]))) as fetcher:
            return await fetcher.fetch(url, validators)

    return asyncio.run(go())


def test_a_200_and_a_304_both_carry_the_freshness(feed_server: FeedServer) -> None:
    url = feed_server.serve(
        "/feed.xml", RSS_WITH_HINTS, headers={"Cache-Control": "max-age=7200", "Expires": "0"}
    )
    first = fetch(url)
    assert first.status is FetchStatus.OK and first.max_age == 2 * HOUR
    again = fetch(url, first.validators)
    assert again.status is FetchStatus.NOT_MODIFIED
    assert again.max_age == 2 * HOUR and again.expires_in is None


# -- stored on the source --------------------------------------------------------------------


def test_the_cadence_is_stored_kept_and_forgotten_with_the_url(tmp_path: Path) -> None:
    source = Source(id="polite", url="https://polite.example/feed", name="P", home="x")
    cadence = Cadence(
        hints=FeedHints(ttl=HOUR, update_period=30 * MINUTE, skip_hours=(0, 23), skip_days=(0, 6)),
        observed_gap=25 * MINUTE,
        last_published=NOW - HOUR,
    )
    with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        store.sync_sources([source])
        assert store.state("polite").cadence == Cadence()
        store.record_fetch(
            "polite",
            at=NOW,
            status="ok",
            validators=None,
            error=None,
            next_due=NOW,
            cadence=cadence,
        )
        assert store.state("polite").cadence == cadence
        store.record_fetch(
            "polite", at=NOW, status="not_modified", validators=None, error=None, next_due=NOW
        )
        assert store.states()["polite"].cadence == cadence  # None keeps it
        store.sync_sources(
            [Source(id="polite", url="https://elsewhere.example/", name="P", home="x")]
        )
        assert store.state("polite").cadence == Cadence()


# -- the settings ----------------------------------------------------------------------------

MINIMAL = "sources:\n  - {id: a, url: 'https://a.example/feed'}\n"


def test_min_and_max_interval_have_defaults_and_are_checked(tmp_path: Path) -> None:
    defaults = parse_config(MINIMAL, base_dir=tmp_path).fetch
    assert (defaults.min_interval, defaults.max_interval) == (
        DEFAULT_MIN_INTERVAL,
        DEFAULT_MAX_INTERVAL,
    )
    assert (DEFAULT_MIN_INTERVAL, DEFAULT_MAX_INTERVAL) == (5 * MINUTE, 6 * HOUR)
    given = parse_config(
        MINIMAL + "fetch: {min_interval: 1m, max_interval: 1d}\n", base_dir=tmp_path
    )
    assert (given.fetch.min_interval, given.fetch.max_interval) == (MINUTE, DAY)
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + "fetch: {min_interval: 2h, max_interval: 1h}\n", base_dir=tmp_path)
    assert str(caught.value) == (
        "feeds.yaml:3:41 fetch.max_interval: expected at least fetch.min_interval (2h), got '1h'"
    )


# -- wired into a pass -----------------------------------------------------------------------


def clock(moments: list[datetime]) -> Callable[[], datetime]:
    return lambda: moments[0]


def test_a_pass_stores_the_decision_its_reason_and_the_cadence(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    real_now = datetime.now(UTC).replace(microsecond=0)
    hints = "<ttl>90</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"
    hints += "<sy:updateFrequency>2</sy:updateFrequency>"
    url = feed_server.serve("/polite.xml", rss(real_now, hints))
    settings = parse_config(
        f"storage: sqlite:///db.sqlite\nfetch: {{allow_private: [127.0.0.1]}}\n"
        f"sources:\n  - {{id: polite, url: '{url}'}}\n",
        base_dir=tmp_path,
    )
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        moments = [real_now]
        asyncio.run(pipeline.run_pass(settings, store, settings.sources, clock(moments)))
        state = store.state("polite")
        assert state.cadence.hints == FeedHints(ttl=90 * MINUTE, update_period=30 * MINUTE)
        assert state.cadence.observed_gap == 10 * MINUTE
        assert state.cadence.last_published == real_now - 10 * MINUTE
        assert state.next_reason == "ttl 1h30m"
        assert state.next_due is not None and state.next_due >= real_now + 90 * MINUTE
        assert not pipeline.is_due(state, real_now + HOUR)

        # A 304 later: the stored hints still apply, with the server's max-age now.
        feed_server.routes["/polite.xml"].headers["Cache-Control"] = "max-age=10800"
        moments[0] = real_now + 2 * HOUR
        asyncio.run(pipeline.run_pass(settings, store, settings.sources, clock(moments)))
        after_304 = store.state("polite")
        assert after_304.last_status == "not_modified"
        assert after_304.cadence == state.cadence
        assert after_304.next_reason.startswith("Cache-Control max-age 3h")  # type: ignore[union-attr]

        # A failure backs off and keeps what was learned.
        feed_server.serve("/polite.xml", b"", status=500)
        moments[0] = real_now + 6 * HOUR
        asyncio.run(pipeline.run_pass(settings, store, settings.sources, clock(moments)))
        failed = store.state("polite")
        assert failed.next_reason is not None and failed.next_reason.startswith(
            "backoff after 1 error"
        )
        assert failed.cadence == state.cadence


# -- end to end: the real command over real HTTP ---------------------------------------------


def aggregator(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(config, *args)


def rss(now: datetime, channel_hints: str) -> str:
    items = "".join(
        f"<item><title>Story {n}</title><guid>s{n}</guid><link>https://p.example/{n}</link>"
        f"<pubDate>{format_datetime(now - n * 10 * MINUTE, True)}</pubDate>"
        f"<description>Story number {n}.</description></item>"
        for n in range(1, 5)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>'
        f"<title>p</title><link>https://p.example/</link>{channel_hints}{items}</channel></rss>"
    )


def test_sources_says_when_and_why_and_fetch_waits_for_it(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    # Skipped hours around now + 2h: whatever the minute now, the fetch moves past them.
    first_skipped = (now + 2 * HOUR).replace(minute=0, second=0)
    skipped = [(first_skipped + n * HOUR).hour for n in range(3)]
    allowed = first_skipped + 3 * HOUR
    hours = "".join(f"<hour>{h}</hour>" for h in skipped)
    feed_server.serve(
        "/polite.xml",
        rss(now, "<ttl>60</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"),
        headers={"Cache-Control": "max-age=7200"},
    )
    feed_server.serve(
        "/nightly.xml",
        rss(now, f"<skipHours>{hours}</skipHours>"),
        headers={"Cache-Control": "max-age=7200"},
    )
    feed_server.serve("/busy.xml", rss(now, ""))
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "storage: sqlite:///data/aggregator.db\n"
        "fetch: {allow_private: [127.0.0.1]}\n"
        "sources:\n"
        f"  - {{id: polite, url: '{feed_server.url('/polite.xml')}'}}\n"
        f"  - {{id: nightly, url: '{feed_server.url('/nightly.xml')}'}}\n"
        f"  - {{id: busy, url: '{feed_server.url('/busy.xml')}'}}\n",
        encoding="utf-8",
    )
    fetched = aggregator(config, "fetch", "--all")
    assert fetched.returncode == 0, fetched.stderr
    assert "3 sources: 3 fetched" in fetched.stdout

    shown = aggregator(config, "sources")
    assert shown.returncode == 0, shown.stderr
    with Store.open(f"sqlite:///{tmp_path / 'data' / 'aggregator.db'}") as store:
        states = store.states()

    polite = states["polite"]
    assert polite.next_reason == "Cache-Control max-age 2h"
    assert polite.next_due is not None and polite.last_fetch is not None
    wait = polite.next_due - polite.last_fetch
    assert 2 * HOUR <= wait <= 2 * HOUR + 2 * HOUR * JITTER_SHARE
    assert f"  next at {polite.next_due:%Y-%m-%d %H:%M} because Cache-Control max-age 2h" in (
        shown.stdout
    )

    _, moved_past = past_skipped(first_skipped, FeedHints(skip_hours=tuple(skipped)))
    expected_due = allowed + jitter(2 * HOUR, "nightly")
    reason = f"Cache-Control max-age 2h, moved past {moved_past}"
    assert states["nightly"].next_reason == reason
    assert states["nightly"].next_due == expected_due
    assert f"  next at {expected_due:%Y-%m-%d %H:%M} because {reason}" in shown.stdout

    busy = states["busy"]
    assert busy.next_reason == "adapted interval 5m (publishes every ~10m)"
    assert busy.next_due is not None and busy.next_due > datetime.now(UTC)

    # Nothing is due: a plain fetch asks no server anything.
    feed_server.requests.clear()
    again = aggregator(config, "fetch")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("0 sources: 0 fetched")
    assert feed_server.requests == []
