"""Adding sources to a feeds.yaml text without disturbing what the operator wrote.

The operator's comments, order and formatting stay: new entries are appended as text at
the end of the top-level ``sources:`` list, each value written by the YAML emitter. The
caller validates the result (``parse_config``) before writing it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import yaml

_TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def append_sources(text: str, entries: Sequence[Mapping[str, object]]) -> str:
    """``text`` with ``entries`` added to its ``sources`` list."""
    if not entries:
        return text
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"^sources\s*:", line)), None)
    if start is None:
        raise ValueError("feeds.yaml has no top-level 'sources:' list to add to")
    if lines[start].split(":", 1)[1].split("#", 1)[0].strip():
        raise ValueError("feeds.yaml's 'sources:' is written inline; make it a block list first")
    end = start + 1
    while end < len(lines) and not _TOP_LEVEL_KEY.match(lines[end]):
        end += 1
    # Insert after the last non-blank line of the block, so trailing comments stay put.
    insert_at = end
    while insert_at > start + 1 and not lines[insert_at - 1].strip():
        insert_at -= 1
    block = "".join(_entry(entry) for entry in entries)
    if insert_at > 0 and not lines[insert_at - 1].endswith("\n"):
        block = "\n" + block
    return "".join([*lines[:insert_at], block, *lines[insert_at:]])


def _entry(entry: Mapping[str, object]) -> str:
    dumped = yaml.safe_dump(
        [dict(entry)], allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000
    )
    return "".join(f"  {line}\n" for line in dumped.splitlines())
