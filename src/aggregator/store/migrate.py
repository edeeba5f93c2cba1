"""Bringing a database's schema to the version this code expects, with Alembic run from code:
the configuration is built here (no alembic.ini) and the migrations live in the package, under
``aggregator/migrations``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text

from aggregator.errors import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

#: Key of the PostgreSQL advisory lock held while migrating, so that workers starting
#: together migrate once.
_PG_MIGRATION_LOCK = 0x61676772  # "aggr"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the store; ``connection`` is the one to migrate."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The database's schema revision; None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(connection: Connection) -> None:
    """Migrate the database on ``connection`` to the head revision, inside the connection's
    transaction (the caller begins and commits it). A database at a revision this code does
    not know is refused rather than touched."""
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
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False
