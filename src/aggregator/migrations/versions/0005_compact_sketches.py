"""Compact sketches: the LSH index keyed by integers, the sketch as bytes.

``bands`` held each article under 64 hex text keys with a text date, in a table and two
indexes (about 13 KB an article); ``sketch_bands`` holds integer keys and dates in its
primary key alone (SQLite: WITHOUT ROWID), and is looked up by key and date only.
``articles.signature`` (128 hex values, about 2 KB) becomes ``articles.sketch``: the low
32 bits of each value as bytes (512 B), all that comparing two sketches needs.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 1000
_KEY_BITS = 57


def upgrade() -> None:
    op.create_table(
        "sketch_bands",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("date", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", "date", "article_id", name="pk_sketch_bands"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("sketch", sa.LargeBinary(), nullable=True))
    if not context.is_offline_mode():  # rendering SQL: there are no rows to convert
        conn = op.get_bind()
        _copy_sketches(conn)
        _index_sketches(conn)
    op.drop_table("bands")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("signature")


def _index_sketches(conn: sa.Connection) -> None:
    """Rebuild the index from the converted sketches, keyed as ``dedup.band_index_keys``
    keys a stored sketch (the old keys were made from all 64 bits and cannot be reused)."""
    articles = sa.table(
        "articles", sa.column("id"), sa.column("sketch"), sa.column("date", sa.DateTime())
    )
    new = sa.table("sketch_bands", sa.column("key"), sa.column("date"), sa.column("article_id"))
    rows = conn.execute(
        sa.select(articles.c.id, articles.c.sketch, articles.c.date).where(
            articles.c.sketch.is_not(None), articles.c.date.is_not(None)
        )
    ).fetchall()
    mask = (1 << _KEY_BITS) - 1
    batch: list[dict[str, object]] = []
    for article_id, sketch, date in rows:
        values = struct.unpack(f">{len(sketch) // 4}I", bytes(sketch))
        when = _micros(date)
        for band in range(len(values) // 2):
            first, second = values[2 * band], values[2 * band + 1]
            key = (band << _KEY_BITS) | (((first << 25) ^ second) & mask)
            batch.append({"key": key, "date": when, "article_id": article_id})
        if len(batch) >= _BATCH:
            conn.execute(sa.insert(new), batch)
            batch = []
    if batch:
        conn.execute(sa.insert(new), batch)


def _copy_sketches(conn: sa.Connection) -> None:
    articles = sa.table("articles", sa.column("id"), sa.column("signature"), sa.column("sketch"))
    rows = conn.execute(
        sa.select(articles.c.id, articles.c.signature).where(articles.c.signature.is_not(None))
    ).fetchall()
    for article_id, signature in rows:
        values = [int(v, 16) & 0xFFFFFFFF for v in signature.split(",")] if signature else []
        if not values or values[0] == 0xFFFFFFFF:
            continue
        conn.execute(
            sa.update(articles)
            .where(articles.c.id == article_id)
            .values(sketch=struct.pack(f">{len(values)}I", *values))
        )


def _micros(value: datetime | str) -> int:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def downgrade() -> None:
    raise NotImplementedError("0005 keeps no copy of the hex sketches; restore a backup")
