"""One process among many that does a job alone (publishing): the holder of a lock that
ends with the process — a PostgreSQL session advisory lock, or, for a SQLite store, an
exclusive ``flock`` on a file beside the database. A holder that dies, or loses its
connection, lets go, and another process takes the job over at its next try."""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError


class Leadership:
    """``try_take`` until it returns True; then this process holds the job until
    ``release`` (or its end)."""

    def __init__(self, engine: Engine, name: str) -> None:
        self._engine = engine
        self._key = zlib.crc32(f"aggregator:{name}".encode())
        self._name = name
        self._conn: Connection | None = None
        self._file: int | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def try_take(self) -> bool:
        """Whether this process holds the job now (taking it if it is free)."""
        if self._conn is not None and not self._still_connected():
            self._conn = None  # the session ended, and the lock with it: take it again
        if self.held:
            return True
        if self._engine.dialect.name == "postgresql":
            conn = self._engine.connect()
            taken = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
            if taken.scalar():
                conn.commit()  # the lock is the session's; the connection stays open
                self._conn = conn
                return True
            conn.close()
            return False
        database = self._engine.url.database
        if not database or database == ":memory:":
            self._file = -1  # one process has this store: it holds every job
            return True
        handle = os.open(f"{database}.{self._name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            return False
        self._file = handle
        return True

    def _still_connected(self) -> bool:
        assert self._conn is not None
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
        except DBAPIError:
            with contextlib.suppress(DBAPIError):
                self._conn.invalidate()
                self._conn.close()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                conn.commit()
            finally:
                conn.close()  # back to the pool, the lock let go
        if self._file is not None:
            handle, self._file = self._file, None
            if handle >= 0:
                os.close(handle)  # closing releases the flock
