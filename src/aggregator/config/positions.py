"""YAML that remembers where each value came from.

One responsibility: compose feeds.yaml into a node tree and walk it into plain values
(``Tree.build``) plus a map from key path to file position (``Tree.locate``), so that a
problem found later can be reported at its ``line:column``. The walk itself refuses what
cannot be plain data: duplicate keys, non-scalar keys, tags, recursive or huge aliases.
``Loader`` reads only ``true``/``false`` as booleans (``language: no`` stays "no") and
parses no dates: no key is a date.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: Where a value sits in the file: mapping keys and list indexes from the top.
KeyPath = tuple[str | int, ...]
#: A problem with the file: where (None when unknown), at which key, what was expected.
Problem = tuple[Mark | None, KeyPath, str]


class Loader(yaml.SafeLoader):
    """SafeLoader whose only booleans are true/false and which parses no dates."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":bool", ":timestamp"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


#: Nodes built again through aliases before a document is refused as a bomb.
MAX_ALIAS_REPEATS = 100_000


class Abort(Exception):
    """The node tree cannot be walked (recursive or huge aliases)."""


@dataclass
class Tree:
    """Plain values built from a YAML node tree, remembering where each came from."""

    loader: Loader
    values: dict[KeyPath, Mark] = dataclasses.field(default_factory=dict)
    keys: dict[KeyPath, Mark] = dataclasses.field(default_factory=dict)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    #: Nodes built so far, and how many builds were of a node built before (reached again
    #: through an alias): what grows without bound in a "billion laughs" document, while
    #: a large configuration written out in full builds each node once.
    built: set[int] = dataclasses.field(default_factory=set)
    repeats: int = 0

    def build(self, node: Node, path: KeyPath, active: frozenset[int] = frozenset()) -> Any:
        self.values[path] = node.start_mark
        if id(node) in self.built:
            self.repeats += 1
        self.built.add(id(node))
        if self.repeats > MAX_ALIAS_REPEATS or id(node) in active:
            self.problems.append((node.start_mark, path, "expected no recursive or huge aliases"))
            raise Abort
        if isinstance(node, ScalarNode):
            try:
                return self.loader.construct_object(node)
            except ValueError:  # e.g. !!int abc
                return node.value
        if node.tag not in ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"):
            self.problems.append((node.start_mark, path, f"expected no tag, got {node.tag}"))
            return None
        active |= {id(node)}
        if isinstance(node, SequenceNode):
            return [self.build(child, (*path, i), active) for i, child in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        seen: dict[str, Mark] = {}
        for key_node, _ in node.value:
            key, mark = key_node.value, key_node.start_mark
            if not isinstance(key_node, ScalarNode):
                self.problems.append((mark, path, "expected a plain key"))
                continue
            if key in seen and key_node.tag != "tag:yaml.org,2002:merge":
                message = f"duplicate key (first at line {seen[key].line + 1})"
                self.problems.append((mark, (*path, key), message))
            seen.setdefault(key, mark)
        self.loader.flatten_mapping(node)  # merge keys: <<: *anchor
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                self.keys[(*path, key_node.value)] = key_node.start_mark
                result[key_node.value] = self.build(value_node, (*path, key_node.value), active)
        return result

    def locate(self, path: KeyPath, at_key: bool = False) -> Mark | None:
        if at_key and path in self.keys:
            return self.keys[path]
        while path and path not in self.values:
            path = path[:-1]
        return self.values.get(path)
