"""Statements on the driver's own cursor, for the write path that runs a dozen of them per
article: SQLAlchemy compiles and processes every Core statement anew (about 0.1 ms each),
which made most of a cold pass. The SQL here is plain and portable (``?`` placeholders,
rewritten for PostgreSQL's driver); it runs inside the transaction the ``Connection``
began, so it commits or rolls back with everything else.

Datetimes are bound the way ``schema.UTCDateTime`` stores them, so Core reads them back:
naive UTC text on SQLite, aware datetimes on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Statements:
    """The driver cursor of one transaction's connection."""

    def __init__(self, conn: Connection) -> None:
        self._postgres = conn.dialect.name == "postgresql"
        self._cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._texts: dict[str, str] = {}

    @property
    def postgres(self) -> bool:
        return self._postgres

    def _sql(self, text: str) -> str:
        if not self._postgres:
            return text
        converted = self._texts.get(text)
        if converted is None:
            converted = self._texts[text] = text.replace("?", "%s")
        return converted

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        self._cursor.execute(self._sql(sql), params)
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(self._sql(sql), params)
        return [tuple(row) for row in self._cursor.fetchall()]

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(self._sql(sql), params)

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            self._cursor.executemany(self._sql(sql), rows)

    def moment(self, value: datetime | None) -> Any:
        """A datetime as ``UTCDateTime`` binds it."""
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if self._postgres:
            return value
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def micros(value: datetime) -> int:
    """Microseconds since 1970 (UTC): how the sketch index stores dates."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def read_moment(value: object) -> datetime | None:
    """A ``UTCDateTime`` column as the driver returns it, as an aware datetime: SQLite
    gives naive UTC text, PostgreSQL a datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None
