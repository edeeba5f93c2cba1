"""Adding sources to a feeds.yaml text without disturbing what the operator wrote.

The operator's comments, order and formatting stay: new entries are appended as text at
the end of the top-level ``sources:`` list, each value written by the YAML emitter. The
caller validates the result (``parse_config``) before writing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
    # In the list's own style: a blank line between entries when it has them.
    spaced = any(not line.strip() for line in lines[start + 1 : insert_at])
    block = "".join(("\n" if spaced else "") + _entry(entry) for entry in entries)
    if insert_at > 0 and not lines[insert_at - 1].endswith("\n"):
        block = "\n" + block
    return "".join([*lines[:insert_at], block, *lines[insert_at:]])


class _EntryDumper(yaml.SafeDumper):
    """Mappings in block style, the lists inside an entry in flow style
    ("categories: [News]"), as feeds.yaml writes them."""

    _depth = 0

    def represent_sequence(
        self, tag: str, sequence: Iterable[Any], flow_style: bool | None = None
    ) -> yaml.SequenceNode:
        return super().represent_sequence(tag, sequence, flow_style=self._depth > 0)

    def represent_mapping(
        self, tag: str, mapping: Any, flow_style: bool | None = None
    ) -> yaml.MappingNode:
        self._depth += 1
        try:
            return super().represent_mapping(tag, mapping, flow_style=False)
        finally:
            self._depth -= 1


def _entry(entry: Mapping[str, object]) -> str:
    dumped = yaml.dump(
        [dict(entry)], Dumper=_EntryDumper, allow_unicode=True, sort_keys=False, width=1000
    )
    return "".join(f"  {line}\n" for line in dumped.splitlines())
