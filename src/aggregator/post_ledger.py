"""Which posts in ``posts_dir`` this program wrote: a small SQLite file beside them.

For each post file it keeps the digest and size of what was written and the story it tells,
and for the whole directory the store change number the posts cover (``mark``) and what
they were written for (the writer's format and the site's time zone). A publish looks up
only the stories it writes, so its cost follows what changed, not how many posts exist.

The ledger lives beside the posts rather than in the store because the posts are files on
this machine's disk: a new ``posts_dir`` starts a new ledger (and one complete write), and
the ledger cannot claim posts that are not there. Its name starts with a dot, which Jekyll
skips. A manifest from earlier versions (tab-separated or JSON) is read once and removed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

LEDGER_NAME = ".aggregator-posts.sqlite"
#: Earlier manifests: one line per post after a JSON header, and before that one JSON map.
TSV_MANIFEST = ".aggregator-posts.tsv"
JSON_MANIFEST = ".aggregator-posts.json"
#: Names looked up per query (SQLite's limit on parameters is far above it).
_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    name TEXT PRIMARY KEY,
    folded TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    story TEXT
);
CREATE INDEX IF NOT EXISTS posts_folded ON posts (folded);
CREATE INDEX IF NOT EXISTS posts_story ON posts (story);
CREATE TABLE IF NOT EXISTS header (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Entry(NamedTuple):
    """One post as written: a digest of its article ("" while only claimed), its size in
    bytes (-1 while only claimed) and its story (None in a manifest older than stories)."""

    digest: str
    size: int
    story: str | None


class PostLedger:
    """The ledger of one ``posts_dir``; a context manager that closes it."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        header = dict(self._db.execute("SELECT key, value FROM header").fetchall())
        mark = header.get("mark")
        #: The store change number the posts cover; None before a complete write.
        self.mark: int | None = int(mark) if mark is not None and mark.isdigit() else None
        self.written_for: str = header.get("written_for", "")

    @classmethod
    def open(cls, posts_dir: Path) -> PostLedger:
        posts_dir.mkdir(parents=True, exist_ok=True)
        path = posts_dir / LEDGER_NAME
        fresh = not path.exists()
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            connection.executescript(_SCHEMA)
            if fresh:
                _import_manifest(connection, posts_dir)
        except BaseException:
            connection.close()
            raise
        return cls(connection)

    def __enter__(self) -> PostLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def entries(self, names: Iterable[str] | None = None) -> dict[str, Entry]:
        """Name → entry for ``names`` (those recorded), or for every post when None."""
        query = "SELECT name, digest, size, story FROM posts"
        if names is None:
            return {row[0]: Entry(*row[1:]) for row in self._db.execute(query)}
        return {
            row[0]: Entry(*row[1:])
            for row in self._chunked(query + " WHERE name IN ({})", list(names))
        }

    def names_of(self, stories: Iterable[str]) -> dict[str, list[str]]:
        """Story → the names recorded for it (one, unless a rename was interrupted)."""
        found: dict[str, list[str]] = {}
        for name, story in self._chunked(
            "SELECT name, story FROM posts WHERE story IN ({})", list(stories)
        ):
            found.setdefault(story, []).append(name)
        return found

    def holders(self, names: Iterable[str]) -> dict[str, str]:
        """Casefolded name → the story holding a post by that name ("" when unknown), for
        those of ``names`` held: file names must differ by more than case, since some
        file systems do not tell them apart."""
        folded = list({name.casefold() for name in names})
        return {
            row[0]: row[1] or ""
            for row in self._chunked("SELECT folded, story FROM posts WHERE folded IN ({})", folded)
        }

    def update(
        self,
        put: Mapping[str, Entry],
        drop: Iterable[str] = (),
        *,
        mark: int | None = None,
        written_for: str | None = None,
        replace_all: bool = False,
    ) -> None:
        """Record ``put``, forget ``drop`` (or everything first, with ``replace_all``) and
        set the header, in one transaction; nothing at all (the file stays byte for byte as
        it was) when that changes nothing."""
        drop = list(drop)
        if (
            not put
            and not drop
            and not replace_all
            and mark in (None, self.mark)
            and written_for in (None, self.written_for)
        ):
            return
        with self._transaction():
            if replace_all:
                self._db.execute("DELETE FROM posts")
            self._db.executemany("DELETE FROM posts WHERE name = ?", ((n,) for n in drop))
            self._db.executemany(
                "INSERT OR REPLACE INTO posts (name, folded, digest, size, story)"
                " VALUES (?, ?, ?, ?, ?)",
                ((name, name.casefold(), *entry) for name, entry in put.items()),
            )
            header = {"mark": None if mark is None else str(mark), "written_for": written_for}
            for key, value in header.items():
                if value is not None:
                    self._db.execute(
                        "INSERT OR REPLACE INTO header (key, value) VALUES (?, ?)", (key, value)
                    )
        if mark is not None:
            self.mark = mark
        if written_for is not None:
            self.written_for = written_for

    def _chunked(self, query: str, values: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            yield from self._db.execute(query.format(",".join("?" * len(chunk))), chunk)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _import_manifest(connection: sqlite3.Connection, posts_dir: Path) -> None:
    """Take over an earlier manifest's posts (and its mark, from the tab-separated one)."""
    posts, header = _read_tsv_manifest(posts_dir / TSV_MANIFEST)
    if posts is None:
        posts, header = _read_json_manifest(posts_dir / JSON_MANIFEST), {}
    if not posts:
        return
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT OR REPLACE INTO posts (name, folded, digest, size, story) VALUES (?, ?, ?, ?, ?)",
        ((name, name.casefold(), *entry) for name, entry in posts.items()),
    )
    mark = header.get("mark")
    if isinstance(mark, int):
        connection.execute("INSERT OR REPLACE INTO header VALUES ('mark', ?)", (str(mark),))
        written_for = str(header.get("written_for", ""))
        connection.execute(
            "INSERT OR REPLACE INTO header VALUES ('written_for', ?)", (written_for,)
        )
    connection.execute("COMMIT")
    for old in (TSV_MANIFEST, JSON_MANIFEST):
        (posts_dir / old).unlink(missing_ok=True)


def _read_tsv_manifest(path: Path) -> tuple[dict[str, Entry] | None, dict[str, object]]:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
        header = json.loads(lines[0])
    except (OSError, ValueError):
        return None, {}
    posts: dict[str, Entry] = {}
    for line in lines[1:]:
        fields = line.split("\t")
        if len(fields) == 4 and fields[2].lstrip("-").isdigit():
            posts[fields[0]] = Entry(fields[1], int(fields[2]), fields[3] or None)
    return posts, header if isinstance(header, dict) else {}


def _read_json_manifest(path: Path) -> dict[str, Entry]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    posts: dict[str, Entry] = {}
    for name, value in (raw if isinstance(raw, dict) else {}).items():
        fields = str(value).split(" ")
        size = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else -1
        posts[name] = Entry(fields[0], size, None)
    return posts
