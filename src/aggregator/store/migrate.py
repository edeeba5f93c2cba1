"""Bringing a database's schema to the version this code expects, with Alembic run from code:
the configuration is built here (no alembic.ini) and the migrations live in the package, under
``aggregator/migrations``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from aggregator.errors import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

#: Key of the PostgreSQL advisory lock held while migrating, so that workers starting
#: together migrate once.
_PG_MIGRATION_LOCK = 0x61676772  # "aggr"


if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# Alembic is imported only to migrate: opening an up-to-date store (every command's start)
# reads the head from the revision files and the database's revision with one query.
_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*[\"']?([\w]+|None)[\"']?", re.MULTILINE)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the store; ``connection`` is the one to migrate."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The newest schema revision this code knows: the one no other revision follows."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((key, value) for key, value in _REVISION.findall(path.read_text("utf-8")))
        if "revision" in found:
            revisions.add(found["revision"])
            followed.add(found.get("down_revision", "None"))
    heads = revisions - followed
    assert len(heads) == 1, f"migrations must form one line, heads: {sorted(heads)}"
    return heads.pop()


def current_revision(connection: Connection) -> str | None:
    """The database's schema revision; None for an empty database."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_to_head(connection: Connection) -> None:
    """Migrate the database on ``connection`` to the head revision, inside the connection's
    transaction (the caller begins and commits it). A database at a revision this code does
    not know is refused rather than touched."""
    from alembic import command
    from alembic.script import ScriptDirectory

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    script = ScriptDirectory.from_config(alembic_config())
    current = current_revision(connection)
    if current is not None and not _knows(script, current):
        raise StoreError(
            f"the database schema is at revision {current!r}, which this version of "
            "aggregator does not know (written by a newer version?); upgrade aggregator "
            "or point storage at another database"
        )
    command.upgrade(alembic_config(connection), "head")


def _knows(script: ScriptDirectory, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False
