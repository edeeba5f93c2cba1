"""Copying a whole store into another (``aggregator db copy``): how an operator moves a
SQLite store to PostgreSQL to run several workers on it. Every table, every row, in
batches, into a store at the same schema revision that holds no articles yet."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, delete, func, insert, select

from aggregator.errors import StoreError
from aggregator.store.schema import articles, metadata

#: Rows read and written at a time.
BATCH = 2000


def copy_rows(
    source: Connection, target: Connection, progress: Callable[[str, int], None]
) -> dict[str, int]:
    """Copy every table of ``source`` into ``target`` (in one transaction of the
    caller's), parents before children; rows already in ``target`` (those its creation
    seeded, such as the change counter) are replaced. Refuses a target holding articles.
    Returns the rows copied per table."""
    if target.execute(select(func.count()).select_from(articles)).scalar_one():
        raise StoreError("the target store already holds articles; copy into an empty one")
    tables = metadata.sorted_tables
    for table in reversed(tables):
        target.execute(delete(table))
    copied: dict[str, int] = {}
    for table in tables:
        count = 0
        rows = source.execution_options(yield_per=BATCH).execute(select(table))
        for part in rows.partitions():
            target.execute(insert(table), [row._asdict() for row in part])
            count += len(part)
            progress(table.name, count)
        copied[table.name] = count
    return copied
