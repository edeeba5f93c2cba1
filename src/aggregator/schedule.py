"""When a source is fetched next, and why: a pure decision over how its last fetch went.

Success: after the source's interval. HTTP 410: never again (the source is disabled until
its URL changes in feeds.yaml). 429/503 with ``Retry-After``: when the server asked. Any
other failure: exponential backoff from the interval, doubled per consecutive error and
capped, reset by the next success.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.model import FetchStatus

#: Longest wait after repeated errors (unless the source's own interval is longer).
MAX_BACKOFF = timedelta(hours=24)
#: A Retry-After longer than this is taken as this.
MAX_RETRY_AFTER = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class NextFetch:
    #: None when the source is not to be fetched again.
    due: datetime | None
    reason: str
    #: Why the source is disabled, when it is.
    disabled: str | None = None


def next_fetch(
    *,
    status: FetchStatus,
    http_status: int | None,
    retry_after: timedelta | None,
    errors: int,
    interval: timedelta,
    now: datetime,
) -> NextFetch:
    """The next fetch after one that ended with ``status``; ``errors`` counts consecutive
    failures including this one (0 after a success)."""
    if status is not FetchStatus.ERROR:
        return NextFetch(now + interval, "interval")
    if http_status == 410:
        return NextFetch(
            None,
            "disabled",
            disabled="gone (HTTP 410): the outlet removed this feed; "
            "give the source a new url in feeds.yaml to fetch it again",
        )
    if retry_after is not None:
        wait = min(max(retry_after, timedelta(seconds=1)), MAX_RETRY_AFTER)
        return NextFetch(now + wait, "Retry-After")
    cap = max(MAX_BACKOFF, interval)
    wait = min(interval * 2 ** min(max(errors - 1, 0), 32), cap)
    noun = "error" if errors == 1 else "errors"
    return NextFetch(now + wait, f"backoff after {errors} {noun}")
