"""The next-fetch policy, rule by rule, with plain values: the interval, 410, Retry-After,
capped exponential backoff, the adapted interval, the feed's and the server's hints,
skipHours / skipDays, the jitter; and the summaries it is fed (``cadence_of``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.model import Cadence, Entry, FeedHints, FetchStatus, ParsedFeed
from aggregator.schedule import (
    JITTER_SHARE,
    MAX_BACKOFF,
    MAX_RETRY_AFTER,
    RECENT_ENTRIES,
    FetchFacts,
    NextFetch,
    cadence_of,
    duration,
    jitter_share,
    next_fetch,
    past_skipped,
)

#: A Wednesday.
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
FIFTEEN = timedelta(minutes=15)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
SOURCE = "src"


def decide(status: FetchStatus = FetchStatus.OK, **kw: object) -> NextFetch:
    values: dict[str, object] = {
        "source_id": SOURCE,
        "status": status,
        "now": NOW,
        "interval": FIFTEEN,
    }
    values.update(kw)
    return next_fetch(FetchFacts(**values))  # type: ignore[arg-type]


def jitter(wait: timedelta, source_id: str = SOURCE) -> timedelta:
    """The jitter the policy adds to ``wait`` for ``source_id``, in whole seconds."""
    share = jitter_share(source_id)
    return timedelta(seconds=int((wait * JITTER_SHARE * share).total_seconds()))


def after(wait: timedelta, source_id: str = SOURCE, now: datetime = NOW) -> datetime:
    """When the policy should set the next fetch for a wait of ``wait``."""
    return now + wait + jitter(wait, source_id)


def hints(**kw: object) -> Cadence:
    return Cadence(hints=FeedHints(**kw))  # type: ignore[arg-type]


def observed(gap: timedelta, last: datetime | None = None) -> Cadence:
    return Cadence(observed_gap=gap, last_published=last)


# -- 4. a success: the interval --------------------------------------------------------------


@pytest.mark.parametrize("status", [FetchStatus.OK, FetchStatus.NOT_MODIFIED])
def test_a_success_waits_one_interval(status: FetchStatus) -> None:
    decision = decide(status)
    assert decision.due == after(FIFTEEN) and decision.reason == "interval"
    assert decision.disabled is None


# -- 1. disabled -----------------------------------------------------------------------------


def test_gone_disables_the_source() -> None:
    decision = decide(FetchStatus.ERROR, http_status=410, errors=1)
    assert decision.due is None and decision.reason == "disabled"
    assert decision.disabled is not None and "HTTP 410" in decision.disabled


def test_only_a_failed_410_disables() -> None:
    # Only a failed fetch answered 410 is a removal.
    assert decide(FetchStatus.NOT_MODIFIED, http_status=410).disabled is None


# -- 2. Retry-After --------------------------------------------------------------------------


def test_retry_after_is_honoured_exactly_and_bounded() -> None:
    asked = decide(FetchStatus.ERROR, http_status=429, retry_after=timedelta(seconds=120), errors=1)
    assert asked.due == NOW + timedelta(seconds=120) and asked.reason == "Retry-After"
    huge = decide(FetchStatus.ERROR, http_status=503, retry_after=timedelta(days=365), errors=1)
    assert huge.due == NOW + MAX_RETRY_AFTER
    zero = decide(FetchStatus.ERROR, http_status=503, retry_after=timedelta(0), errors=1)
    assert zero.due == NOW + timedelta(seconds=1)


# -- 3. backoff ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errors", "wait"),
    [
        (1, FIFTEEN),
        (2, 2 * FIFTEEN),
        (3, 4 * FIFTEEN),
        (6, 32 * FIFTEEN),
        (7, 64 * FIFTEEN),
        (8, MAX_BACKOFF),
        (500, MAX_BACKOFF),
    ],
)
def test_errors_back_off_exponentially_up_to_a_cap(errors: int, wait: timedelta) -> None:
    decision = decide(FetchStatus.ERROR, http_status=500, errors=errors)
    assert decision.due == after(wait)
    assert decision.reason == f"backoff after {errors} error{'s' if errors > 1 else ''}"


def test_a_long_interval_is_never_shortened_by_the_cap() -> None:
    weekly = timedelta(days=7)
    assert decide(FetchStatus.ERROR, errors=3, interval=weekly).due == after(weekly)


def test_a_success_resets_the_backoff() -> None:
    # ``errors`` is 0 after a success: the wait is the interval again, whatever came before.
    assert decide(FetchStatus.OK, errors=0).due == after(FIFTEEN)


# -- 4. the adapted interval -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "gap", "wait"),
    [
        (FIFTEEN, 10 * MINUTE, 5 * MINUTE),  # half the gap
        (FIFTEEN, 24 * MINUTE, 12 * MINUTE),
        (FIFTEEN, 1 * MINUTE, 5 * MINUTE),  # never shorter than min_interval
        (FIFTEEN, 10 * HOUR, HOUR),  # never longer than 4 intervals
        (2 * HOUR, DAY, 6 * HOUR),  # never longer than max_interval
        (DAY, 10 * DAY, DAY),  # ...unless the source's own interval is longer
        (MINUTE, 30 * timedelta(seconds=1), MINUTE),  # nor shorter than a short interval
        (timedelta(seconds=1), 10 * DAY, timedelta(seconds=4)),
    ],
)
def test_the_interval_adapts_to_the_publishing_rate(
    interval: timedelta, gap: timedelta, wait: timedelta
) -> None:
    decision = decide(interval=interval, cadence=observed(gap))
    assert decision.due == after(wait)
    assert (
        decision.reason == f"adapted interval {duration(wait)} (publishes every ~{duration(gap)})"
    )


def test_the_bounds_are_the_settings() -> None:
    fast = decide(cadence=observed(MINUTE), min_interval=2 * MINUTE)
    assert fast.due == after(2 * MINUTE)
    slow = decide(interval=2 * HOUR, cadence=observed(DAY), max_interval=3 * HOUR)
    assert slow.due == after(3 * HOUR)


def test_a_source_quiet_for_longer_than_its_gaps_slows_down() -> None:
    # Silent for 1h40m, twice that is more than its 10-minute gaps: taken as a gap of 50m.
    decision = decide(cadence=observed(10 * MINUTE, last=NOW - 100 * MINUTE))
    assert decision.due == after(25 * MINUTE)
    assert decision.reason == "adapted interval 25m (nothing new for 1h40m)"
    # A little late is not yet quiet.
    for silence in (2 * MINUTE, 10 * MINUTE, 20 * MINUTE):
        recent = decide(cadence=observed(10 * MINUTE, last=NOW - silence))
        assert recent.reason == "adapted interval 5m (publishes every ~10m)"
    silent = decide(cadence=observed(10 * MINUTE, last=NOW - 30 * DAY))
    assert silent.due == after(HOUR)  # at most four intervals


def test_without_an_observed_gap_the_newest_date_alone_changes_nothing() -> None:
    decision = decide(cadence=Cadence(last_published=NOW - 30 * DAY))
    assert decision.due == after(FIFTEEN) and decision.reason == "interval"


# -- 4. what the feed and the server ask for -------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "wait", "reason"),
    [
        ({"cadence": hints(ttl=HOUR)}, HOUR, "ttl 1h"),
        ({"cadence": hints(update_period=30 * MINUTE)}, 30 * MINUTE, "sy:updatePeriod 30m"),
        ({"max_age": 2 * HOUR}, 2 * HOUR, "Cache-Control max-age 2h"),
        ({"expires_in": 90 * MINUTE}, 90 * MINUTE, "Expires in 1h30m"),
    ],
)
def test_each_hint_alone_delays_the_next_fetch(
    kw: dict[str, object], wait: timedelta, reason: str
) -> None:
    for status in (FetchStatus.OK, FetchStatus.NOT_MODIFIED):
        decision = decide(status, **kw)
        assert decision.due == after(wait) and decision.reason == reason


@pytest.mark.parametrize(
    "kw",
    [
        {"cadence": hints(ttl=5 * MINUTE)},
        {"cadence": hints(update_period=MINUTE)},
        {"max_age": 10 * MINUTE},
        {"expires_in": timedelta(seconds=30)},
        {"max_age": timedelta(0), "expires_in": -HOUR},
    ],
)
def test_a_hint_shorter_than_the_interval_never_hurries_it(kw: dict[str, object]) -> None:
    decision = decide(**kw)
    assert decision.due == after(FIFTEEN) and decision.reason == "interval"


def test_max_age_wins_over_expires_even_when_shorter() -> None:
    decision = decide(max_age=HOUR, expires_in=3 * HOUR)
    assert decision.due == after(HOUR) and decision.reason == "Cache-Control max-age 1h"


def test_hints_are_capped_so_a_misconfigured_feed_is_still_read() -> None:
    ttl = decide(cadence=hints(ttl=3 * DAY))
    assert ttl.due == after(6 * HOUR) and ttl.reason == "ttl 3d (capped at 6h)"
    tight = decide(max_age=DAY, max_interval=2 * HOUR)
    assert tight.due == after(2 * HOUR)
    assert tight.reason == "Cache-Control max-age 1d (capped at 2h)"
    # A longer interval is the cap; on the tie the interval names the reason.
    daily = decide(interval=DAY, cadence=hints(ttl=3 * DAY))
    assert daily.due == after(DAY) and daily.reason == "interval"


# -- 5. skipHours / skipDays -----------------------------------------------------------------


def test_skip_hours_move_the_fetch_to_the_next_allowed_hour() -> None:
    at_1030 = NOW.replace(hour=10, minute=30)
    decision = decide(now=at_1030, interval=HOUR, cadence=hints(skip_hours=(11, 12)))
    share = min(HOUR * JITTER_SHARE, HOUR) * jitter_share(SOURCE)
    assert decision.due == NOW.replace(hour=13) + timedelta(seconds=int(share.total_seconds()))
    assert decision.reason == "interval, moved past skipHours 11-12 UTC"


def test_skip_hours_wrap_across_midnight() -> None:
    evening = NOW.replace(hour=21, minute=30)
    night = (22, 23, 0, 1, 2)
    decision = decide(now=evening, interval=HOUR, cadence=hints(skip_hours=night))
    assert decision.due is not None
    assert decision.due.date() == (NOW + DAY).date() and decision.due.hour == 3
    assert decision.reason == "interval, moved past skipHours 0-2,22-23 UTC"


def test_a_due_time_in_an_allowed_hour_is_not_moved() -> None:
    decision = decide(cadence=hints(skip_hours=(0, 1, 2), skip_days=(5, 6)))
    assert decision.due == after(FIFTEEN) and decision.reason == "interval"


def test_a_jitter_that_reaches_a_skipped_hour_is_moved_too() -> None:
    # 12:57 + 1h = 13:57, + 4m44s of jitter for "a" (share 0.79 of 6m): past 14:00.
    close = NOW.replace(minute=57)
    decision = decide(source_id="a", now=close, interval=HOUR, cadence=hints(skip_hours=(14,)))
    assert decision.due is not None and decision.due.hour == 15
    assert "moved past skipHours 14 UTC" in decision.reason


def test_skip_days_move_the_fetch_to_the_next_allowed_day() -> None:
    wednesday_night = NOW.replace(hour=23, minute=50)
    decision = decide(now=wednesday_night, cadence=hints(skip_days=(3,)))  # Thursday
    assert decision.due is not None
    assert decision.due.weekday() == 4 and decision.due.hour == 0  # Friday 00:xx
    assert decision.reason == "interval, moved past skipDays Thursday"


def test_skip_days_and_hours_together() -> None:
    friday_night = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    weekend = hints(skip_days=(5, 6), skip_hours=(0, 1, 2, 3, 4, 5))
    decision = decide(now=friday_night, interval=HOUR, cadence=weekend)
    assert decision.due is not None
    assert (decision.due.weekday(), decision.due.hour) == (0, 6)  # Monday 06:xx
    assert decision.reason == (
        "interval, moved past skipHours 0-5 UTC and skipDays Saturday, Sunday"
    )


def test_skipping_every_hour_or_every_day_is_ignored() -> None:
    always = hints(skip_hours=tuple(range(24)))
    assert decide(cadence=always).due == after(FIFTEEN)
    never = hints(skip_days=tuple(range(7)))
    assert decide(cadence=never).due == after(FIFTEEN)


def test_past_skipped_on_its_own() -> None:
    moment = NOW.replace(hour=5, minute=59, second=59)
    assert past_skipped(moment, FeedHints()) == (moment, "")
    moved, why = past_skipped(moment, FeedHints(skip_hours=(5,)))
    assert moved == NOW.replace(hour=6) and why == "skipHours 5 UTC"
    # Out-of-range values from a feed are ignored.
    assert past_skipped(moment, FeedHints(skip_hours=(24, -1), skip_days=(9,))) == (moment, "")


# -- 6. jitter -------------------------------------------------------------------------------


def test_the_jitter_is_fixed_per_source_and_at_most_a_tenth() -> None:
    assert jitter_share("alpha") == jitter_share("alpha")
    shares = [jitter_share(f"source-{n}") for n in range(400)]
    assert all(0 <= share < 1 for share in shares)
    assert min(shares) < 0.1 and max(shares) > 0.9  # sources spread over the whole range
    for n in range(50):
        due = decide(source_id=f"source-{n}", interval=HOUR).due
        assert due is not None and NOW + HOUR <= due < NOW + HOUR + HOUR * JITTER_SHARE


def test_sources_on_one_schedule_are_spread_out() -> None:
    dues = {decide(source_id=f"source-{n}", interval=DAY).due for n in range(20)}
    assert len(dues) == 20


# -- cadence_of: what is stored about a parsed document --------------------------------------


def feed(*dates: datetime | None, **kw: object) -> ParsedFeed:
    entries = tuple(
        Entry(guid=str(i), link=None, title="t", published=d) for i, d in enumerate(dates)
    )
    return ParsedFeed(title="t", link=None, base_url="http://x/", entries=entries, **kw)  # type: ignore[arg-type]


def test_the_observed_gap_is_the_median_of_recent_gaps() -> None:
    dates = [NOW - 10 * MINUTE, NOW - 20 * MINUTE, NOW - 50 * MINUTE, NOW - 60 * MINUTE]
    cadence = cadence_of(feed(*dates), NOW)
    assert cadence.observed_gap == 10 * MINUTE  # gaps 10, 30, 10
    assert cadence.last_published == NOW - 10 * MINUTE


def test_the_observed_gap_needs_three_distinct_dates() -> None:
    assert cadence_of(feed(NOW, NOW - HOUR), NOW).observed_gap is None
    same_moment = cadence_of(feed(NOW, NOW, NOW, NOW - HOUR), NOW)
    assert same_moment.observed_gap is None  # a batch published at once counts once
    assert cadence_of(feed(None, None, None), NOW) == Cadence()
    assert cadence_of(feed(), NOW) == Cadence()


def test_future_dates_are_left_out_and_updated_dates_count() -> None:
    entries = (
        Entry(guid="1", link=None, title="t", updated=NOW - HOUR),
        Entry(guid="2", link=None, title="t", published=NOW - 2 * HOUR),
        Entry(guid="3", link=None, title="t", published=NOW - 3 * HOUR),
        Entry(guid="4", link=None, title="t", published=NOW + DAY),
    )
    parsed = ParsedFeed(title="t", link=None, base_url="http://x/", entries=entries)
    cadence = cadence_of(parsed, NOW)
    assert cadence.observed_gap == HOUR and cadence.last_published == NOW - HOUR


def test_only_the_newest_entries_are_observed() -> None:
    recent = [NOW - n * MINUTE for n in range(RECENT_ENTRIES)]
    old = [NOW - DAY * (10 + n) for n in range(RECENT_ENTRIES * 2)]
    assert cadence_of(feed(*old, *recent), NOW).observed_gap == MINUTE


def test_the_hints_are_kept() -> None:
    said = FeedHints(ttl=HOUR, skip_days=(6,))
    assert cadence_of(feed(hints=said), NOW).hints == said


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (60, "1m"),
        (750, "12m30s"),
        (3600, "1h"),
        (3601, "1h"),
        (5400, "1h30m"),
        (90061, "1d1h"),
        (7 * 86400, "7d"),
    ],
)
def test_durations_read_like_config_values(seconds: int, text: str) -> None:
    assert duration(timedelta(seconds=seconds)) == text


def test_backoff_stays_capped_however_many_failures() -> None:
    # A 6 h source failing 33 times overflowed (interval × 2**32) and froze its state.
    for errors in (1, 2, 33, 10_000):
        plan = decide(FetchStatus.ERROR, errors=errors, interval=6 * HOUR)
        assert NOW < plan.due <= NOW + MAX_BACKOFF * (1 + JITTER_SHARE)
    week = 7 * DAY  # an interval longer than the cap is the wait
    plan = decide(FetchStatus.ERROR, errors=40, interval=week)
    assert NOW + week <= plan.due <= NOW + week * (1 + JITTER_SHARE)
