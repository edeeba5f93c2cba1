"""The exception tree. Every error the project raises on purpose is an ``AggregatorError``.

    AggregatorError
     ├── ConfigError        feeds.yaml is unreadable or invalid (file:line:column, key, expected)
     ├── FrontMatterError   a post file is not front matter + body
     └── StoreError         the store cannot be opened or migrated

A failing *source* is not an exception: fetch and parse problems are values
(``FetchOutcome``, ``ParsedFeed.warnings``) recorded on the source.
"""

from __future__ import annotations


class AggregatorError(Exception):
    """Root of the project's exceptions."""


class ConfigError(AggregatorError):
    """feeds.yaml is invalid; the message says where, which key and what was expected."""


class ConfigNotFound(ConfigError):
    """There is no feeds.yaml at the path given (``path``)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: configuration file not found")
        self.path = path


class FrontMatterError(AggregatorError):
    """A post file could not be read as YAML front matter followed by an HTML body."""


class StoreError(AggregatorError):
    """The store could not be opened, migrated or written."""
