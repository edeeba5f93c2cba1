"""The store's tables as SQLAlchemy Core objects: the one description of the schema the code
queries against. Migration ``0001_initial`` creates exactly these tables; a test compares the
two, so a change here needs a new migration.

Every type is portable (SQLite and PostgreSQL). Datetimes go through ``UTCDateTime``: written
as UTC, read back as timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

#: Deterministic constraint names on every dialect, so later migrations can refer to them
#: (SQLite's batch mode needs names to drop or alter constraints).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time stored as UTC and read back timezone-aware in UTC.

    PostgreSQL keeps it in a ``timestamp with time zone``; SQLite, which has no such type,
    in SQLAlchemy's sortable ISO text with the offset dropped after converting to UTC.
    A naive datetime given to the store is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive value is taken to be UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


#: One row per source ever configured, with its fetch state. Never deleted by the store.
sources = Table(
    "sources",
    metadata,
    Column("id", Text, primary_key=True),
    Column("url", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_fetch", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("last_status", Text),
    Column("last_error", Text),
    Column("error_count", Integer, nullable=False, server_default=text("0")),
    Column("next_due", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    # 0002: source health
    Column("next_reason", Text),
    Column("http_status", Integer),
    Column("moved_to", Text),
    Column("disabled", Text),
)

#: One row per stored article. ``data`` holds the whole front-matter ``Article`` as JSON;
#: the other columns are what queries and uniqueness need.
articles = Table(
    "articles",
    metadata,
    #: Story id (``model.story_id``); stable for ever.
    Column("id", Text, primary_key=True),
    #: Change number: a fresh value from ``counters['seq']`` on every insert and update.
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("source_id", Text, ForeignKey("sources.id"), nullable=False),
    Column("guid", Text, nullable=False),
    Column("canonical_url", Text),
    #: SHA-256 of ``data``: "has this entry changed since we stored it?"
    Column("content_hash", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("date", UTCDateTime),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("data", Text, nullable=False),
    UniqueConstraint("source_id", "guid"),
    Index("ix_articles_date", "date"),
)

#: One stored story per canonical URL; entries without one are told apart by guid alone.
Index(
    "ix_articles_canonical_url",
    articles.c.canonical_url,
    unique=True,
    sqlite_where=articles.c.canonical_url.is_not(None),
    postgresql_where=articles.c.canonical_url.is_not(None),
)

#: Named counters; ``seq`` numbers article changes in commit order.
counters = Table(
    "counters",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

SEQ_COUNTER = "seq"
