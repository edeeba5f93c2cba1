"""When a source is fetched next, and why: the politeness policy, a pure decision over how
its last fetch went and what is stored about the source.

``next_fetch(FetchFacts(...))`` is the whole policy; ``cadence_of(parsed, now)`` is the
small summary of a parsed document (the feed's hints, its observed publishing rate) that is
stored on the source so that later decisions (after a 304, after an error) can use it.
Nothing here reads a clock: ``now`` is passed in.

The rules, highest first (see ``next_fetch``):

1. HTTP 410: never again (disabled until the source's URL changes in feeds.yaml).
2. 429/503 with ``Retry-After``: when the server asked (at most 7 days).
3. Any other failure: exponential backoff from the interval, capped, reset by a success.
4. A success: the longest of the adapted interval (from the observed publishing rate) and
   what the server and the feed asked for (``Cache-Control: max-age`` / ``Expires``,
   ``<ttl>``, ``sy:updatePeriod``), the latter capped so a misconfigured feed is still read.
5. The time found is moved past the feed's ``<skipHours>`` / ``<skipDays>`` (UTC).
6. A jitter, fixed per source, adds up to 10 % of the wait (not to a ``Retry-After``), so
   a restart does not fetch everything at once and sources on one host spread out.
"""

from __future__ import annotations

import hashlib
import itertools
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aggregator.model import Cadence, FeedHints, FetchStatus, ParsedFeed

#: Longest wait after repeated errors (unless the source's own interval is longer).
MAX_BACKOFF = timedelta(hours=24)
#: A Retry-After longer than this is taken as this.
MAX_RETRY_AFTER = timedelta(days=7)
#: Defaults of ``fetch.min_interval`` and ``fetch.max_interval``.
DEFAULT_MIN_INTERVAL = timedelta(minutes=5)
DEFAULT_MAX_INTERVAL = timedelta(hours=6)
#: The jitter adds up to this share of the wait.
JITTER_SHARE = 0.1
#: The publishing rate is observed over this many of the newest distinct publication dates...
RECENT_ENTRIES = 20
#: ...and needs at least this many gaps between them to say anything.
MIN_GAPS = 2
#: The adapted interval is this share of the observed gap between entries.
ADAPT_SHARE = 0.5
#: A source silent for longer than twice its usual gap is taken to publish every this share
#: of its silence.
QUIET_SHARE = 0.5
#: An adapted interval is never longer than this many configured intervals.
ADAPT_MAX_FACTOR = 4

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class NextFetch:
    #: None when the source is not to be fetched again.
    due: datetime | None
    reason: str
    #: Why the source is disabled, when it is.
    disabled: str | None = None


@dataclass(frozen=True, slots=True)
class FetchFacts:
    """Everything the policy looks at: how the fetch that just ended went, the source's
    stored cadence, its configured interval and the operator's bounds."""

    #: Keys the jitter: the same source always gets the same share.
    source_id: str
    status: FetchStatus
    now: datetime
    #: The source's configured interval (``sources[].interval`` / ``fetch.interval``).
    interval: timedelta
    http_status: int | None = None
    #: Consecutive failures including this fetch (0 after a success).
    errors: int = 0
    retry_after: timedelta | None = None
    #: Freshness the response declared (``FetchOutcome.max_age`` / ``expires_in``).
    max_age: timedelta | None = None
    expires_in: timedelta | None = None
    #: The feed's hints and publishing rate, from its last parsed document.
    cadence: Cadence = field(default_factory=Cadence)
    #: ``fetch.min_interval`` / ``fetch.max_interval``.
    min_interval: timedelta = DEFAULT_MIN_INTERVAL
    max_interval: timedelta = DEFAULT_MAX_INTERVAL


def next_fetch(facts: FetchFacts) -> NextFetch:
    """The next fetch after one that ended as ``facts`` says, and the reason in words.

    Precedence, highest first; the first of 1-4 that applies gives the wait, then 5 and 6
    apply to it:

    1. **disabled**: an HTTP 410 disables the source (``due`` None).
    2. **Retry-After** on a failure: the wait asked for, 1 s to 7 days.
    3. **backoff** on any other failure: the configured interval doubled per consecutive
       failure, at most 24 h (or the interval if longer).
    4. On a success (200 or 304), the **longest** of:
       - the interval: the configured one with no observed publishing rate, else the
         *adapted* one, half the observed gap between entries (or of half the time since
         the newest entry, when that is longer: a source that fell silent slows down),
         clamped to ``min(min_interval, interval)`` …
         ``max(interval, min(max_interval, 4 × interval))``;
       - ``Cache-Control: max-age`` (else ``Expires``), ``<ttl>``, ``sy:updatePeriod`` /
         ``sy:updateFrequency``: each "not sooner than", capped at
         ``max(max_interval, interval)``.
       On a tie, the earlier in this list names the reason.
    5. **skipHours / skipDays** (UTC): a time falling in a skipped hour or day moves to
       the start of the next hour that is neither (unless the feed skips every hour or
       every day, which is ignored as a mistake).
    6. **jitter**: a fixed share of the wait per source (a hash of its id), up to 10 %,
       is added to every wait but a Retry-After; after a move past skipped hours, the same
       share of at most an hour is added to the start of the allowed hour.
    """
    now = facts.now
    if facts.status is FetchStatus.ERROR and facts.http_status == 410:
        return NextFetch(
            None,
            "disabled",
            disabled="gone (HTTP 410): the outlet removed this feed; "
            "give the source a new url in feeds.yaml to fetch it again",
        )
    if facts.status is FetchStatus.ERROR and facts.retry_after is not None:
        wait = min(max(facts.retry_after, timedelta(seconds=1)), MAX_RETRY_AFTER)
        reason, jitter_base = "Retry-After", timedelta(0)
    elif facts.status is FetchStatus.ERROR:
        wait = backoff(facts.interval, facts.errors)
        noun = "error" if facts.errors == 1 else "errors"
        reason, jitter_base = f"backoff after {facts.errors} {noun}", wait
    else:
        wait, reason = success_wait(facts)
        jitter_base = wait
    share = jitter_share(facts.source_id)
    due = now + wait + _seconds(jitter_base * JITTER_SHARE * share)
    hints = facts.cadence.hints
    moved_to, skipped = past_skipped(due, hints)
    if skipped:
        due = moved_to + _seconds(min(jitter_base * JITTER_SHARE, _HOUR) * share)
        reason += f", moved past {skipped}"
    return NextFetch(due, reason)


def backoff(interval: timedelta, errors: int) -> timedelta:
    """The wait after ``errors`` consecutive failures: the interval doubled per failure
    after the first, at most ``MAX_BACKOFF`` (or the interval if longer)."""
    cap = max(MAX_BACKOFF, interval)
    doublings = min(max(errors - 1, 0), 32)
    # Compared before multiplying: a long interval doubled 32 times overflows timedelta.
    return cap if interval > cap / 2**doublings else min(interval * 2**doublings, cap)


def success_wait(facts: FetchFacts) -> tuple[timedelta, str]:
    """Rule 4: the wait after a success and what decided it."""
    candidates = [adapted_interval(facts)]
    cap = max(facts.max_interval, facts.interval)
    hints = facts.cadence.hints
    asked: list[tuple[timedelta | None, str]] = [
        (facts.max_age, "Cache-Control max-age"),
        (None if facts.max_age is not None else facts.expires_in, "Expires in"),
        (hints.ttl, "ttl"),
        (hints.update_period, "sy:updatePeriod"),
    ]
    for hint, name in asked:
        if hint is None or hint <= timedelta(0):
            continue
        if hint > cap:
            candidates.append((cap, f"{name} {duration(hint)} (capped at {duration(cap)})"))
        else:
            candidates.append((hint, f"{name} {duration(hint)}"))
    longest = max(wait for wait, _ in candidates)
    return next((wait, why) for wait, why in candidates if wait == longest)


def adapted_interval(facts: FetchFacts) -> tuple[timedelta, str]:
    """The interval from the observed publishing rate, or the configured one without it."""
    cadence, interval = facts.cadence, facts.interval
    if cadence.observed_gap is None:
        return interval, "interval"
    gap, why = cadence.observed_gap, f"publishes every ~{duration(cadence.observed_gap)}"
    if cadence.last_published is not None:
        # A source that fell silent: half its silence, once that is longer than its gaps
        # (so a source a little late is not slowed down at once).
        quiet = facts.now - cadence.last_published
        if quiet * QUIET_SHARE > gap:
            gap, why = quiet * QUIET_SHARE, f"nothing new for {duration(quiet)}"
    low = min(facts.min_interval, interval)
    high = max(interval, min(facts.max_interval, interval * ADAPT_MAX_FACTOR))
    wait = min(max(_seconds(gap * ADAPT_SHARE), low), high)
    return wait, f"adapted interval {duration(wait)} ({why})"


def past_skipped(moment: datetime, hints: FeedHints) -> tuple[datetime, str]:
    """``moment``, or the start of the first later UTC hour that is neither a skipped hour
    nor on a skipped day, and which hints moved it ("" when none did)."""
    hours = {h for h in hints.skip_hours if 0 <= h <= 23}
    days = {d for d in hints.skip_days if 0 <= d <= 6}
    if len(hours) == 24:
        hours = set()  # "never read me" is a mistake, not a request
    if len(days) == 7:
        days = set()
    utc = moment.astimezone(UTC)
    moved_by: set[str] = set()
    for _ in range(24 * 7 + 1):
        skipped_day = utc.weekday() in days
        if not skipped_day and utc.hour not in hours:
            break
        moved_by.add("skipDays" if skipped_day else "skipHours")
        utc = utc.replace(minute=0, second=0, microsecond=0) + _HOUR
    if not moved_by:
        return moment, ""
    said = []
    if "skipHours" in moved_by:
        said.append(f"skipHours {_hour_ranges(sorted(hours))} UTC")
    if "skipDays" in moved_by:
        said.append("skipDays " + ", ".join(WEEKDAYS[d] for d in sorted(days)))
    return utc, " and ".join(said)


def jitter_share(source_id: str) -> float:
    """A number in [0, 1) fixed for a source id (the same on every run and machine)."""
    digest = hashlib.sha256(source_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def cadence_of(parsed: ParsedFeed, now: datetime) -> Cadence:
    """What to remember about a parsed document for scheduling: its hints, the median gap
    between the newest ``RECENT_ENTRIES`` distinct publication dates (entries published at
    the same moment count once; dates after ``now`` are left out), and the newest date."""
    dated = {e.published or e.updated for e in parsed.entries}
    dates = sorted(d for d in dated if d is not None and d <= now)[-RECENT_ENTRIES:]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(dates)]
    observed = timedelta(seconds=round(statistics.median(gaps))) if len(gaps) >= MIN_GAPS else None
    return Cadence(
        hints=parsed.hints,
        observed_gap=observed,
        last_published=dates[-1] if dates else None,
    )


def duration(span: timedelta) -> str:
    """A wait as people write it, in its largest unit and the next one (truncated): 45s,
    12m30s, 1h30m, 2d4h, 6h."""
    left = max(int(span.total_seconds()), 0)
    amounts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amounts.append((left // size, unit))
        left %= size
    first = next((i for i, (amount, _) in enumerate(amounts) if amount), len(amounts) - 1)
    shown = [f"{amount}{unit}" for amount, unit in amounts[first : first + 2] if amount]
    return "".join(shown) or "0s"


def _seconds(span: timedelta) -> timedelta:
    """``span`` to whole seconds (due times stay readable)."""
    return timedelta(seconds=int(span.total_seconds()))


def _hour_ranges(hours: list[int]) -> str:
    """[0, 1, 2, 5, 23] → "0-2,5,23"."""
    ranges: list[list[int]] = []
    for hour in hours:
        if ranges and hour == ranges[-1][1] + 1:
            ranges[-1][1] = hour
        else:
            ranges.append([hour, hour])
    return ",".join(f"{a}-{b}" if b > a else f"{a}" for a, b in ranges)
