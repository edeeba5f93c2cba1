"""The next-fetch decision: interval, 410, Retry-After, capped exponential backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.model import FetchStatus
from aggregator.schedule import MAX_BACKOFF, MAX_RETRY_AFTER, next_fetch

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
FIFTEEN = timedelta(minutes=15)


def decide(status: FetchStatus, **kw: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "http_status": None,
        "retry_after": None,
        "errors": 0,
        "interval": FIFTEEN,
    }
    values.update(kw)
    return next_fetch(status=status, now=NOW, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [FetchStatus.OK, FetchStatus.NOT_MODIFIED])
def test_a_success_waits_one_interval(status: FetchStatus) -> None:
    decision = decide(status)
    assert decision.due == NOW + FIFTEEN and decision.reason == "interval"
    assert decision.disabled is None


def test_gone_disables_the_source() -> None:
    decision = decide(FetchStatus.ERROR, http_status=410, errors=1)
    assert decision.due is None
    assert decision.disabled is not None and "HTTP 410" in decision.disabled


def test_retry_after_is_honoured_and_bounded() -> None:
    asked = decide(FetchStatus.ERROR, http_status=429, retry_after=timedelta(seconds=120), errors=1)
    assert asked.due == NOW + timedelta(seconds=120) and asked.reason == "Retry-After"
    huge = decide(FetchStatus.ERROR, http_status=503, retry_after=timedelta(days=365), errors=1)
    assert huge.due == NOW + MAX_RETRY_AFTER


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
    assert decision.due == NOW + wait
    assert decision.reason == f"backoff after {errors} error{'s' if errors > 1 else ''}"


def test_a_long_interval_is_never_shortened_by_the_cap() -> None:
    weekly = timedelta(days=7)
    assert decide(FetchStatus.ERROR, errors=3, interval=weekly).due == NOW + weekly
