"""Sources' rows: the fetch state as stored, read back into ``SourceState`` values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Select, select, update

from aggregator.model import Cadence, FeedHints, FetchStatus, SourceState, Validators
from aggregator.store.article_rows import dialect_insert
from aggregator.store.schema import sources


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """How a fetch of a source ended, as ``Store.record_fetch`` stores it."""

    at: datetime
    #: A ``FetchStatus`` value: "ok", "not_modified" or "error".
    status: str
    validators: Validators | None
    error: str | None
    next_due: datetime | None
    next_reason: str | None = None
    http_status: int | None = None
    moved_to: str | None = None
    disabled: str | None = None
    cadence: Cadence | None = None


def record_fetch_row(conn: Connection, source_id: str, record: FetchRecord) -> None:
    """Write ``record`` on the source's row (see ``Store.record_fetch``)."""
    outcome = FetchStatus(record.status)
    values: dict[str, Any] = {
        "last_fetch": record.at,
        "last_status": outcome.value,
        "next_due": record.next_due,
        "next_reason": record.next_reason,
        "http_status": record.http_status,
        "moved_to": record.moved_to,
        "disabled": record.disabled,
        # The fetch is over: whoever leased the source lets it go.
        "lease_owner": None,
        "lease_until": None,
    }
    if outcome is FetchStatus.ERROR:
        values["error_count"] = sources.c.error_count + 1
        values["last_error"] = record.error
    else:
        values.update(last_success=record.at, error_count=0, last_error=None)
    if record.validators is not None:
        values.update(etag=record.validators.etag, last_modified=record.validators.last_modified)
    if record.cadence is not None:
        values.update(cadence_values(record.cadence))
    ensure_source(conn, source_id, record.at)
    conn.execute(update(sources).where(sources.c.id == source_id).values(values))


def ensure_source(conn: Connection, source_id: str, now: datetime) -> None:
    """A row for a source not (yet) synced, so state and articles can refer to it;
    ``sync_sources`` fills in its url and name."""
    conn.execute(
        dialect_insert(conn, sources)
        .values(id=source_id, url="", name=source_id, created_at=now)
        .on_conflict_do_nothing(index_elements=[sources.c.id])
    )


def states_query() -> Select[Any]:
    return select(sources)


def source_state(row: Row[Any]) -> SourceState:
    return SourceState(
        source_id=row.id,
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        last_fetch=row.last_fetch,
        last_success=row.last_success,
        last_status=row.last_status,
        last_error=row.last_error,
        error_count=row.error_count,
        next_due=row.next_due,
        next_reason=row.next_reason,
        http_status=row.http_status,
        moved_to=row.moved_to,
        disabled=row.disabled,
        article_count=int(row.article_count),
        cadence=cadence_of_row(row),
    )


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def cadence_values(cadence: Cadence) -> dict[str, Any]:
    """A ``Cadence`` as ``sources`` columns (see ``schema.sources``)."""
    hints = cadence.hints

    def seconds(span: timedelta | None) -> int | None:
        return None if span is None else int(span.total_seconds())

    return {
        "observed_gap_seconds": seconds(cadence.observed_gap),
        "last_published": cadence.last_published,
        "ttl_seconds": seconds(hints.ttl),
        "update_period_seconds": seconds(hints.update_period),
        "skip_hours": ",".join(str(h) for h in hints.skip_hours) or None,
        "skip_days": ",".join(_WEEKDAYS[d] for d in hints.skip_days) or None,
    }


def cadence_of_row(row: Row[Any]) -> Cadence:
    def span(seconds: int | None) -> timedelta | None:
        return None if seconds is None else timedelta(seconds=seconds)

    def listed(text: str | None) -> list[str]:
        return [part.strip() for part in (text or "").split(",") if part.strip()]

    return Cadence(
        hints=FeedHints(
            ttl=span(row.ttl_seconds),
            update_period=span(row.update_period_seconds),
            skip_hours=tuple(int(h) for h in listed(row.skip_hours) if h.isdigit()),
            skip_days=tuple(_WEEKDAYS.index(d) for d in listed(row.skip_days) if d in _WEEKDAYS),
        ),
        observed_gap=span(row.observed_gap_seconds),
        last_published=row.last_published,
    )
