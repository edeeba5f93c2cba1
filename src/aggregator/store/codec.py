"""Articles to and from the JSON text kept in ``articles.data``, and the content hash that
tells a changed entry from an unchanged one.

Dates are ISO-8601 strings that keep their offset, tuples are lists, ``also_reported_by`` is a
list of ``{"source", "link"}``. Keys unknown to this version are ignored when reading, so a
newer writer does not break an older reader.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from aggregator.model import Article, Mention

_ARTICLE_FIELDS = frozenset(f.name for f in fields(Article))


def encode_article(article: Article) -> str:
    """The article as compact JSON, keys in field order, non-ASCII kept as is."""
    return json.dumps(
        asdict(article), ensure_ascii=False, separators=(",", ":"), default=_json_default
    )


def decode_article(text: str) -> Article:
    """The article ``encode_article`` wrote."""
    raw: dict[str, Any] = json.loads(text)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _ARTICLE_FIELDS:
            continue
        if key == "date" and value is not None:
            value = datetime.fromisoformat(value)
        elif key == "also_reported_by":
            value = tuple(Mention(source=m["source"], link=m["link"]) for m in value)
        elif isinstance(value, list):
            value = tuple(value)
        values[key] = value
    return Article(**values)


def content_hash(encoded: str) -> str:
    """SHA-256 (hex) of an encoded article."""
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in an article")
