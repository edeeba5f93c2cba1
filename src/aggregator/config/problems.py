"""What is wrong with a feeds.yaml, said the way an operator can act on it.

One responsibility: turn YAML syntax errors, pydantic validation errors and cross-checks
(duplicate ids, channels naming undefined sources) into problems, and problems into
``ConfigError`` text, one per line: ``file:line:column key.path: what was expected, got
what``. Positions come from ``positions.Tree``; an unknown key suggests the closest
allowed one.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, get_args, get_type_hints

import yaml
from pydantic import BaseModel
from yaml.error import Mark

from aggregator.config.positions import KeyPath, Problem, Tree

_EXPECTED = {  # by pydantic error type, else by its first word
    "missing": "required key is missing",
    "string": "expected a string",
    "int": "expected a whole number",
    "float": "expected a number",
    "bool": "expected true or false",
    "list": "expected a list",
    "tuple": "expected a list",
    "model": "expected a mapping",
    "dataclass": "expected a mapping",
    "too_short": "expected a non-empty list",
    "greater_than": "expected a number above {gt}",
    "greater_than_equal": "expected a number of at least {ge}",
    "less_than_equal": "expected a number of at most {le}",
}
_UNKNOWN_KEY = ("extra_forbidden", "unexpected_keyword_argument")


def describe(value: object) -> str:
    """A value as a problem quotes it after "got": short, and YAML's words for null/bools."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, list | tuple | dict):
        kind = "mapping" if isinstance(value, dict) else "list"
        return f"a {kind}" if value else f"an empty {kind}"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key_path(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or "(top level)"


def _keys_at(schema: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys ``schema`` allows in the mapping at ``path``."""

    def find(tp: Any) -> Any:
        if isinstance(tp, type) and (issubclass(tp, BaseModel) or dataclasses.is_dataclass(tp)):
            return tp
        return next(filter(None, map(find, get_args(tp))), None)

    model: Any = schema
    for part in (p for p in path if isinstance(p, str)):
        if model is None:
            break
        if issubclass(model, BaseModel):
            fields = model.model_fields
            annotation = fields[part].annotation if part in fields else None
        else:  # a section's dataclass holding another (dedup.reader)
            annotation = get_type_hints(model, include_extras=True).get(part)
        model = None if annotation is None else find(annotation)
    if model is None:
        return []
    if issubclass(model, BaseModel):
        return list(model.model_fields)
    return [field.name for field in dataclasses.fields(model)]


def pydantic_problem(error: Any, tree: Tree, schema: type[BaseModel]) -> Problem:
    """The problem one pydantic error of validating ``schema`` stands for."""
    path, kind = tuple(error["loc"]), error["type"]
    if kind in _UNKNOWN_KEY:
        key, allowed = str(path[-1]), _keys_at(schema, path[:-1])
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(allowed)}"
        return tree.locate(path, at_key=True), path, f"unknown key '{key}'; {hint}"
    if kind == "value_error":
        message = str(error["ctx"]["error"])
    elif expected := _EXPECTED.get(kind, _EXPECTED.get(kind.split("_")[0])):
        message = expected.format(**error.get("ctx", {}))
    else:
        message = error["msg"].replace("Input should be", "expected")
    if kind != "missing":
        message += f", got {describe(error['input'])}"
    return tree.locate(path), path, message


def cross_problems(data: dict[str, Any], tree: Tree) -> list[Problem]:
    """Duplicate ids, and channels naming sources that are not defined."""
    problems: list[Problem] = []
    ids: dict[str, dict[str, int]] = {"sources": {}, "channels": {}}

    def items(value: Any, key: str) -> list[tuple[int, Any]]:
        return [(i, item.get(key)) for i, item in enumerate(value) if isinstance(item, dict)]

    for section, seen in ids.items():
        listed = data.get(section)
        for i, ident in items(listed if isinstance(listed, list) else [], "id"):
            if isinstance(ident, str) and ident in seen:
                message = f"duplicate id '{ident}' (also {section}[{seen[ident]}])"
                problems.append((tree.locate((section, i, "id")), (section, i, "id"), message))
            elif isinstance(ident, str):
                seen[ident] = i
    channels = data.get("channels")
    for i, wanted in items(channels if isinstance(channels, list) else [], "sources"):
        for j, name in enumerate(wanted if isinstance(wanted, list) else []):
            if isinstance(name, str) and name not in ids["sources"]:
                path: KeyPath = ("channels", i, "sources", j)
                message = f"unknown source '{name}'; expected one of: {', '.join(ids['sources'])}"
                problems.append((tree.locate(path), path, message))
    return problems


def where(filename: str, mark: Mark | None, text: str = "", position: int = 0) -> str:
    """``file:line:column`` of ``mark``, or of character ``position`` of ``text``."""
    if mark is None:
        line, column = text.count("\n", 0, position), position - text.rfind("\n", 0, position) - 1
    else:
        line, column = mark.line, mark.column
    return f"{filename}:{line + 1}:{column + 1}"


def yaml_problem(filename: str, text: str, error: yaml.YAMLError) -> str:
    """The one line saying why ``text`` is not YAML at all."""
    if isinstance(error, yaml.MarkedYAMLError):
        place = where(filename, error.problem_mark or error.context_mark)
        what = error.problem or error.context or "invalid YAML"
        what += f" ({error.context})" if error.problem and error.context else ""
    else:  # a ReaderError: a character YAML does not allow
        place = where(filename, None, text, getattr(error, "position", 0))
        what = f"unacceptable character #x{getattr(error, 'character', 0):04x}"
    return f"{place} (syntax): invalid YAML, {what}"


def report(filename: str, problems: list[Problem]) -> str:
    """``problems`` in file order, one line each, repeats dropped (sorts ``problems``)."""
    problems.sort(key=lambda p: (p[0].line, p[0].column) if p[0] else (-1, -1))
    lines = dict.fromkeys(f"{where(filename, m)} {_key_path(k)}: {t}" for m, k, t in problems)
    return "\n".join(lines)
