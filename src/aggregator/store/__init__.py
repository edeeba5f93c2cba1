"""The store: sources' fetch state and stored articles, in SQLite or PostgreSQL.

``Store`` (in ``store.py``) is the interface; ``schema.py`` describes the tables, ``codec.py``
the article JSON, ``engine.py`` connecting, ``migrate.py`` bringing the schema up to date.
"""

from __future__ import annotations

from aggregator.store.source_rows import FetchRecord
from aggregator.store.store import SaveResult, Store

__all__ = ["FetchRecord", "SaveResult", "Store"]
