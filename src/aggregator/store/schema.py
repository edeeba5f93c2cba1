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
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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
    # 0004: politeness (``model.Cadence``)
    #: Median gap between the publication dates of the recent entries, in seconds.
    Column("observed_gap_seconds", Integer),
    #: The newest publication date among the entries.
    Column("last_published", UTCDateTime),
    #: The feed's ``<ttl>`` and ``sy:updatePeriod`` / ``sy:updateFrequency``, in seconds.
    Column("ttl_seconds", Integer),
    Column("update_period_seconds", Integer),
    #: The feed's ``<skipHours>`` (UTC hours, "0,1,23") and ``<skipDays>`` ("Saturday,Sunday").
    Column("skip_hours", Text),
    Column("skip_days", Text),
    # 0007: how many articles the store holds from it, kept with every insert and prune,
    # so reading every source's health does not count the whole articles table.
    Column("article_count", Integer, nullable=False, server_default=text("0")),
    # 0009: leases (``Store.claim_due``): the worker fetching the source, and until when.
    Column("lease_owner", Text),
    Column("lease_until", UTCDateTime),
    #: Claims read the due sources, longest overdue first.
    Index("ix_sources_next_due", "next_due"),
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
    # 0003: stories
    #: The story this article tells; the founder's id, never changed by members joining.
    Column("story_id", Text, nullable=False),
    #: ``dedup.content_hash`` of the story text.
    Column("text_hash", Text),
    #: The figures the text states (``story_index.encode_figures``).
    Column("figures", Text),
    #: How it joined its story: canonical_url, content_hash, similarity, same_event,
    #: merged, merged_by_operator, split; None for the founder. ``fold_match`` is the
    #: article it matched, ``fold_score`` the rule's score (``StoredArticle.fold_score``).
    Column("fold_rule", Text),
    Column("fold_match", Text),
    Column("fold_score", Float),
    # 0005: compact sketches
    #: ``dedup.stored_sketch`` of the story text; None when too short to compare.
    Column("sketch", LargeBinary),
    # 0008: content words
    #: ``words.Words.encode`` of the headline and lead; None when too short to compare.
    Column("words", Text),
    #: Every signal's value when the article joined by similarity or same_event
    #: (``same_story.Signals.describe``), for ``dedup explain``.
    Column("fold_evidence", Text),
    UniqueConstraint("source_id", "guid"),
    Index("ix_articles_date", "date"),
    Index("ix_articles_canonical_url", "canonical_url"),
    Index("ix_articles_story_id", "story_id"),
    #: The earliest holder of a text a copy folded with (``story_index._holder``), and the
    #: oldest articles retention removes: found, not read from every row.
    Index("ix_articles_text_hash", "text_hash"),
    Index("ix_articles_first_seen", "first_seen"),
)

#: One story per key: ("url", canonical URL) or ("hash", content hash). The primary key
#: makes concurrent writers agree on which story a key belongs to.
story_keys = Table(
    "story_keys",
    metadata,
    Column("kind", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("story_id", Text, nullable=False),
    #: A story's keys move with it when an article placed by its words joins another.
    Index("ix_story_keys_story_id", "story_id"),
)

#: The LSH index: each article under each of its band keys (``dedup.band_index_keys``),
#: with its date (microseconds since 1970, UTC) for the window. Everything is in the
#: primary key, which is the only index: looked up by key, newest first within the window.
sketch_bands = Table(
    "sketch_bands",
    metadata,
    Column("key", BigInteger, primary_key=True),
    Column("date", BigInteger, primary_key=True),
    Column("article_id", Text, primary_key=True),
    sqlite_with_rowid=False,
)

#: The inverted index of content words (0008): each article under a key for each of its
#: words (``story_index.word_key``), with its date, as ``sketch_bands``.
word_postings = Table(
    "word_postings",
    metadata,
    Column("key", BigInteger, primary_key=True),
    Column("date", BigInteger, primary_key=True),
    Column("article_id", Text, primary_key=True),
    #: The article's story (0010): a word is as rare as the stories holding it, however
    #: many outlets told one of them.
    Column("story_id", Text),
    sqlite_with_rowid=False,
)

#: One row per story (0006), kept up to date with its members so publishing reads only
#: what it shows: ``sort_date`` is the earliest member's date (or first_seen when
#: undated), where the story sits in a channel; ``changed_seq`` the change number of the
#: latest change to its members, so a publish finds the stories changed since the last.
stories = Table(
    "stories",
    metadata,
    Column("id", Text, primary_key=True),
    Column("sort_date", UTCDateTime, nullable=False),
    Column("changed_seq", BigInteger, nullable=False),
    Index("ix_stories_sort_date", "sort_date"),
    Index("ix_stories_changed_seq", "changed_seq"),
)

#: Articles the operator took out of a story; they never join another by themselves.
splits = Table(
    "splits",
    metadata,
    Column("article_id", Text, primary_key=True),
    Column("from_story", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

#: What the reader (``dedup.reader``, a language model) made of a fold of reports written
#: apart (0015): the article that joined, the one it joined, whether it read them as one
#: event, and its reason. A fold is read once; one read as two events was split out in
#: the same transaction.
readings = Table(
    "readings",
    metadata,
    Column("article_id", Text, primary_key=True),
    Column("match_id", Text, nullable=False),
    Column("same_event", Boolean),
    Column("reason", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

#: Reports written apart that founded a story alone, each with the closest telling of
#: the story it came nearest to joining (0016; ``story_index.NearMiss``), kept only with
#: a reader that joins: the reader reads the two, and joins it if it reads one event.
near_misses = Table(
    "near_misses",
    metadata,
    Column("article_id", Text, primary_key=True),
    Column("match_id", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", Text, nullable=False),
)

#: Stories merged into another (0011): an article told both alike. ``seq`` is the change
#: number of the merge, so a publish removes the absorbed story's post once.
merges = Table(
    "merges",
    metadata,
    Column("story_id", Text, primary_key=True),
    Column("into_story", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_merges_seq", "seq"),
)

#: Articles stored but not yet placed by their words (0013), by date: a fetch pass
#: stores each source's articles as they come (copies join their story at once) and
#: places the rest by their content words at its end, the earliest first
#: (``store.settle``), so the stories do not depend on which source answered first. Their
#: words are indexed in ``word_postings`` only then.
unsettled = Table(
    "unsettled",
    metadata,
    Column("article_id", Text, primary_key=True),
    Column("date", BigInteger, nullable=False),
    Index("ix_unsettled_date", "date", "article_id"),
)

#: Named counters; ``seq`` numbers article changes in commit order.
counters = Table(
    "counters",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

SEQ_COUNTER = "seq"
