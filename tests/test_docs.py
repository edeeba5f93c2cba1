"""The README documents every key of feeds.yaml and every command: a key or command added
without documentation fails here."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click

from aggregator.cli import main
from aggregator.config.schema import FileModel

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def config_keys() -> list[str]:
    schema = FileModel.model_json_schema()
    definitions = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while True:
            if "$ref" in node:
                node = definitions[node["$ref"].rsplit("/", 1)[1]]
            elif "anyOf" in node or "allOf" in node:
                options = [
                    o for o in node.get("anyOf", node.get("allOf", [])) if o.get("type") != "null"
                ]
                node = options[0] if options else {}
            else:
                return node

    def walk(node: dict[str, Any], prefix: str) -> list[str]:
        node = resolve(node)
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            return walk(node["items"], prefix + "[]")
        keys = []
        for name, child in node.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            inner = walk(child, path)
            keys.extend(inner or [path])
        return keys

    return walk(schema, "")


def test_every_configuration_key_is_in_the_readme() -> None:
    keys = config_keys()
    assert "fetch.timeout" in keys and "sources[].templates.header" in keys
    missing = [key for key in keys if f"`{key}`" not in README]
    assert missing == []


def command_paths(group: click.Group, prefix: str = "") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, f"{prefix}{name} "))
        else:
            paths.append(prefix + name)
    return paths


def test_every_command_is_in_the_readmes_command_table() -> None:
    paths = command_paths(main)
    assert "opml import" in paths and "fetch" in paths
    missing = [path for path in paths if f"| `{path}" not in README]
    assert missing == []


def test_the_license_is_declared_as_setuptools_expects_it() -> None:
    # A TOML table printed setuptools' deprecation warning three times on every install.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert [(ROOT / name).is_file() for name in project["license-files"]] == [True]
