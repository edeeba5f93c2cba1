"""Load and validate feeds.yaml (README, "Configuration") into frozen settings values.

One responsibility: turn the operator's YAML into plain values (``Settings``, holding
``aggregator.model.Source`` and ``Channel``), or refuse it with a ``ConfigError`` listing
every problem, one per line: ``file:line:column key.path: what was expected``.

The steps, one module each:

    text ─▶ positions (YAML → plain values + a position for every key path)
         ─▶ schema.FileModel (pydantic; value types from fields, durations and sizes
            from units, sections from settings)
         ─▶ problems (every error, mapped back to its file:line:column) or
            schema.build_settings (defaults filled in, relative paths resolved)

This module holds the two entry points and re-exports the public names, so everything
is imported from ``aggregator.config``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml
from pydantic import ValidationError

from aggregator.config.fields import (
    TEMPLATE_FIELDS,
    Duration,
    FeedUrl,
    HttpUrl,
    Id,
    Language,
    Regex,
    Size,
    Storage,
    Strings,
    Template,
    TimeZone,
)
from aggregator.config.positions import Abort, KeyPath, Loader, Problem, Tree
from aggregator.config.problems import (
    cross_problems,
    describe,
    pydantic_problem,
    report,
    where,
    yaml_problem,
)
from aggregator.config.schema import FileModel, build_settings
from aggregator.config.settings import (
    DEFAULT_FEATURE_TEXT,
    DEFAULT_STORAGE,
    DedupSettings,
    FetchSettings,
    Output,
    ReaderSettings,
    Server,
    Settings,
    Site,
)
from aggregator.config.units import parse_duration, parse_size
from aggregator.errors import ConfigError, ConfigNotFound

__all__ = [
    "DEFAULT_FEATURE_TEXT",
    "DEFAULT_STORAGE",
    "TEMPLATE_FIELDS",
    "DedupSettings",
    "Duration",
    "FeedUrl",
    "FetchSettings",
    "HttpUrl",
    "Id",
    "KeyPath",
    "Language",
    "Output",
    "ReaderSettings",
    "Regex",
    "Server",
    "Settings",
    "Site",
    "Size",
    "Storage",
    "Strings",
    "Template",
    "TimeZone",
    "load_config",
    "parse_config",
    "parse_duration",
    "parse_size",
]


def parse_config(text: str, filename: str = "feeds.yaml", base_dir: Path | None = None) -> Settings:
    """Settings from the text of a feeds.yaml; relative paths resolve against ``base_dir``
    (the current directory when None). Raises ConfigError listing every problem."""
    base = (Path.cwd() if base_dir is None else base_dir).expanduser().absolute()
    loader = None
    try:
        loader = Loader(text.removeprefix("\ufeff"))
        tree = Tree(loader)
        node = loader.get_single_node()
        data = {} if node is None else tree.build(node, ())
    except yaml.YAMLError as e:
        raise ConfigError(yaml_problem(filename, text, e)) from e
    except Abort:
        data = Abort
    finally:
        if loader is not None:
            loader.dispose()
    problems: list[Problem] = list(tree.problems)
    model = None
    if isinstance(data, dict):
        try:
            model = FileModel.model_validate(data)
        except ValidationError as e:
            problems += [pydantic_problem(error, tree, FileModel) for error in e.errors()]
        problems += cross_problems(data, tree)
    elif data is not Abort:
        message = f"expected a mapping with a 'sources' list, got {describe(data)}"
        problems.append((tree.locate(()), (), message))
    if problems or model is None:
        raise ConfigError(report(filename, problems))
    return build_settings(model, base)


def load_config(path: Path) -> Settings:
    """Settings from a feeds.yaml file (UTF-8, BOM tolerated); relative paths resolve
    against the file's directory. Raises ConfigError when it is unreadable or invalid."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigNotFound(str(path)) from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the configuration file: {e.strerror}") from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        place = where(str(path), None, raw.decode("latin-1"), e.start)
        raise ConfigError(f"{place} (encoding): expected UTF-8 text") from e
    absolute = path.expanduser().absolute()
    return dataclasses.replace(parse_config(text, str(path), absolute.parent), path=absolute)
