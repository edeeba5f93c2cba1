"""Load and validate feeds.yaml (SPEC §2) into frozen settings values.

One responsibility: turn the operator's YAML into plain values (``Settings``, holding
``aggregator.model.Source`` and ``Channel``), or refuse it with a ``ConfigError`` listing
every problem, one per line: ``file:line:column key.path: what was expected``.

The YAML is composed into a node tree so that every value keeps its position, walked into
plain values plus a map from key path to position (duplicate keys refused), validated by
pydantic (unknown keys refused), and each pydantic error's ``loc`` is mapped back to the
nearest position. Relative paths (``output.*``, ``sqlite:///relative.db``) are resolved
against the config file's directory, never the current directory. Only ``true``/``false``
are booleans (``language: no`` stays "no") and dates stay strings: no key is a date.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    with_config,
)
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from aggregator.errors import ConfigError
from aggregator.model import Channel, Source, Templates

try:
    _VERSION = version("aggregator")
except PackageNotFoundError:  # a source tree that is not installed
    _VERSION = "0.1.0"

DEFAULT_FEATURE_TEXT = "## {source_name}\n{excerpt}"
DEFAULT_STORAGE = "sqlite:///data/aggregator.db"
#: The fields a source's templates may use.
TEMPLATE_FIELDS = ("source_name", "home", "excerpt", "image", "title", "link")

# --- durations and sizes -----------------------------------------------------------------

_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"({_NUMBER})\s*(ms|s|m|h|d|w)\s*")
_SECONDS: dict[str, Decimal | int] = {"ms": Decimal("0.001"), "s": 1, "m": 60, "h": 3600}
_SECONDS |= {"d": 86400, "w": 604800}
_UNITS = {"": 1, "b": 1} | {
    p + s: 1024**i for i, p in enumerate("kmgt", 1) for s in ("", "b", "ib")
}


def _duration(value: object) -> timedelta | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    text += "s" if re.fullmatch(_NUMBER, text) else ""
    if not re.fullmatch(rf"(?:{_PART.pattern})+", text):
        return None
    seconds = sum((Decimal(n) * _SECONDS[u] for n, u in _PART.findall(text)), Decimal())
    try:
        return timedelta(seconds=float(seconds))
    except OverflowError:
        return None


def _size(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    match = re.fullmatch(rf"({_NUMBER})\s*([a-z]*)", str(value).strip().lower())
    unit = _UNITS.get(match[2]) if match else None
    return int(Decimal(match[1]) * unit) if match and unit else None


def parse_duration(text: str | int | float) -> timedelta:
    """A duration from ``"15m"``, ``"20s"``, ``"72h"``, ``"1h30m"``, ``"2d"``, ``"500ms"``
    (units ms s m h d w, decimals allowed) or a bare number of seconds; ValueError otherwise."""
    if (result := _duration(text)) is None:
        raise ValueError(f"expected a duration like 15m, got {_describe(text)}")
    return result


def parse_size(text: str | int) -> int:
    """Bytes from ``"10MB"``, ``"512 KiB"``, ``"1.5G"`` or a bare number of bytes.

    Units are case-insensitive and all 1024-based, as most operators expect: K, KB and KiB
    are 1024 bytes; M, MB, MiB 1024²; G, GB, GiB 1024³; T, TB, TiB 1024⁴; B one byte.
    ValueError otherwise.
    """
    if (result := _size(text)) is None:
        raise ValueError(f"expected a size like 10MB, got {_describe(text)}")
    return result


# --- validated types -----------------------------------------------------------------------


def _check(test: Callable[[str], object], expected: str, detail: bool = False) -> AfterValidator:
    """Keeps a string that ``test`` accepts (truthy, no exception), else says ``expected``."""

    def validate(value: str) -> str:
        try:
            accepted, why = test(value), ""
        except (ValueError, KeyError, OSError, IndexError, re.error) as e:
            accepted, why = False, f" ({e})" if detail else ""
        if not accepted:
            raise ValueError(expected + why)
        return value

    return AfterValidator(validate)


def _parsed(parse: Callable[[object], Any], expected: str) -> BeforeValidator:
    def validate(value: object) -> object:
        if not (result := parse(value)):
            raise ValueError(expected if result is None else f"{expected}, above zero")
        return result

    return BeforeValidator(validate)


def _url_kind(url: str) -> str | None:
    """The kind of a URL we accept: absolute http(s), file:///path, else None."""
    parts = urlsplit(url)
    if any(c.isspace() for c in url):
        return None
    if parts.scheme in ("http", "https") and parts.hostname:
        return "http"
    return "file" if parts.scheme == "file" and parts.path.startswith("/") else None


def _template(text: str) -> bool:
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in TEMPLATE_FIELDS:
            raise ValueError(f"unknown field {{{name}}}; fields: {', '.join(TEMPLATE_FIELDS)}")
    text.format(**dict.fromkeys(TEMPLATE_FIELDS, ""))  # bad conversions and format specs
    return True


_NULL_MAP = BeforeValidator(lambda v: {} if v is None else v)
_NULL_LIST = BeforeValidator(lambda v: () if v is None else v)
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*")
_STORAGE = re.compile(r"(sqlite|postgresql(\+\w+)?)://")

Duration = Annotated[timedelta, _parsed(_duration, "expected a duration like 15m")]
Size = Annotated[int, _parsed(_size, "expected a size like 10MB")]
HttpUrl = Annotated[str, _check(lambda v: _url_kind(v) == "http", "expected an http(s):// URL")]
FeedUrl = Annotated[str, _check(_url_kind, "expected an http(s):// or file:/// URL")]
Id = Annotated[str, _check(re.compile(r"[a-z0-9_-]+").fullmatch, "expected an id of a-z 0-9 _ -")]
Language = Annotated[str, _check(_LANGUAGE.fullmatch, "expected a language tag like en or ko")]
TimeZone = Annotated[str, _check(ZoneInfo, "expected an IANA time zone like Asia/Seoul")]
Storage = Annotated[str, _check(_STORAGE.match, "expected a sqlite:// or postgresql:// URL")]
Regex = Annotated[str, _check(re.compile, "expected a regular expression", detail=True)]
Template = Annotated[str, _check(_template, "expected a str.format template", detail=True)]
Strings = Annotated[tuple[str, ...], _NULL_LIST]
_FORBID = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

# --- the settings ------------------------------------------------------------------------


@with_config(_FORBID)
@dataclass(frozen=True, slots=True)
class Site:
    """Site-wide defaults that every channel inherits."""

    title: str = "aggregator"
    link: HttpUrl = "http://127.0.0.1:8080/"
    description: str = ""
    language: Language = "en"
    #: IANA name; dates post file names.
    timezone: TimeZone = "UTC"
    #: Maximum characters of an excerpt.
    excerpt_length: Annotated[int, Field(ge=20)] = 300

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@with_config(_FORBID)
@dataclass(frozen=True, slots=True)
class Output:
    """Where static files go; absolute once loaded."""

    dir: Path = Path("public")
    #: Front-matter posts; None disables them.
    posts_dir: Path | None = Path("_posts")


@with_config(_FORBID)
@dataclass(frozen=True, slots=True)
class Server:
    host: str = "127.0.0.1"
    #: 0 lets the system pick a free port.
    port: Annotated[int, Field(ge=0, le=65535)] = 8080


@with_config(_FORBID)
@dataclass(frozen=True, slots=True)
class FetchSettings:
    #: Default polling interval of a source.
    interval: Duration = timedelta(minutes=15)
    timeout: Duration = timedelta(seconds=20)
    #: Largest response body read, in bytes.
    max_bytes: Size = 10 * 1024 * 1024
    concurrency: Annotated[int, Field(ge=1)] = 32
    per_host: Annotated[int, Field(ge=1)] = 4
    #: ``<version>`` in the file is replaced by the package version.
    user_agent: str = "aggregator/0.1 (+https://github.com/aggregator)"


@with_config(_FORBID)
@dataclass(frozen=True, slots=True)
class DedupSettings:
    near_duplicates: bool = True
    #: Similarity in (0, 1] at or above which two stories are one.
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.7
    #: Near-duplicates are looked for among stories this recent.
    window: Duration = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class Settings:
    """A validated feeds.yaml."""

    site: Site = Site()
    #: SQLAlchemy URL; a relative sqlite path is made absolute against the file's directory.
    storage: str = DEFAULT_STORAGE
    output: Output = Output()
    server: Server = Server()
    fetch: FetchSettings = FetchSettings()
    dedup: DedupSettings = DedupSettings()
    sources: tuple[Source, ...] = ()
    #: Never empty once loaded: by default one channel ``all``.
    channels: tuple[Channel, ...] = ()
    #: The file it was loaded from (absolute); None when parsed from text.
    path: Path | None = None


class _Model(BaseModel):
    model_config = _FORBID


class _TemplatesModel(_Model):
    feature_text: Template = DEFAULT_FEATURE_TEXT
    header: Template = ""
    footer: Template = ""


class _SourceModel(_Model):
    id: Id
    url: FeedUrl
    name: str | None = None
    home: HttpUrl | None = None
    categories: Strings = ()
    interval: Duration | None = None
    default_image: HttpUrl | None = None
    templates: Annotated[_TemplatesModel, _NULL_MAP] = _TemplatesModel()
    include: Annotated[tuple[Regex, ...], _NULL_LIST] = ()
    exclude: Annotated[tuple[Regex, ...], _NULL_LIST] = ()
    max_items: Annotated[int, Field(ge=1)] | None = None


class _ChannelModel(_Model):
    id: Id
    title: str | None = None
    description: str = ""
    categories: Strings = ()
    keywords: Strings = ()
    sources: Strings = ()
    limit: Annotated[int, Field(ge=1, le=10000)] = 50


class _FileModel(_Model):
    site: Annotated[Site, _NULL_MAP] = Site()
    storage: Storage = DEFAULT_STORAGE
    output: Annotated[Output, _NULL_MAP] = Output()
    server: Annotated[Server, _NULL_MAP] = Server()
    fetch: Annotated[FetchSettings, _NULL_MAP] = FetchSettings()
    dedup: Annotated[DedupSettings, _NULL_MAP] = DedupSettings()
    sources: list[_SourceModel] = Field(min_length=1)  # a tuple would miscount bad items
    channels: Annotated[tuple[_ChannelModel, ...], _NULL_LIST] = ()


# --- YAML with positions -------------------------------------------------------------------

KeyPath = tuple[str | int, ...]
_Problem = tuple[Mark | None, KeyPath, str]


class _Loader(yaml.SafeLoader):
    """SafeLoader whose only booleans are true/false and which parses no dates."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":bool", ":timestamp"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _Abort(Exception):
    """The node tree cannot be walked (recursive or huge aliases)."""


@dataclass
class _Tree:
    """Plain values built from a YAML node tree, remembering where each came from."""

    loader: _Loader
    values: dict[KeyPath, Mark] = dataclasses.field(default_factory=dict)
    keys: dict[KeyPath, Mark] = dataclasses.field(default_factory=dict)
    problems: list[_Problem] = dataclasses.field(default_factory=list)
    nodes: int = 0

    def build(self, node: Node, path: KeyPath, active: frozenset[int] = frozenset()) -> Any:
        self.values[path], self.nodes = node.start_mark, self.nodes + 1
        if self.nodes > 100_000 or id(node) in active:
            self.problems.append((node.start_mark, path, "expected no recursive or huge aliases"))
            raise _Abort
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


# --- problems ------------------------------------------------------------------------------

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


def _describe(value: object) -> str:
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


def _keys_at(path: KeyPath) -> list[str]:
    """The keys the schema allows in the mapping at ``path``."""

    def find(tp: Any) -> Any:
        if isinstance(tp, type) and (issubclass(tp, BaseModel) or dataclasses.is_dataclass(tp)):
            return tp
        return next(filter(None, map(find, get_args(tp))), None)

    model: Any = _FileModel
    for part in (p for p in path if isinstance(p, str)):
        fields = getattr(model, "model_fields", {})  # only pydantic models nest here
        model = find(fields[part].annotation) if part in fields else None
    if model is None:
        return []
    if issubclass(model, BaseModel):
        return list(model.model_fields)
    return [field.name for field in dataclasses.fields(model)]


def _pydantic_problem(error: Any, tree: _Tree) -> _Problem:
    path, kind = tuple(error["loc"]), error["type"]
    if kind in _UNKNOWN_KEY:
        key, allowed = str(path[-1]), _keys_at(path[:-1])
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
        message += f", got {_describe(error['input'])}"
    return tree.locate(path), path, message


def _cross_problems(data: dict[str, Any], tree: _Tree) -> list[_Problem]:
    """Duplicate ids, and channels naming sources that are not defined."""
    problems: list[_Problem] = []
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


def _where(filename: str, mark: Mark | None, text: str = "", position: int = 0) -> str:
    if mark is None:
        line, column = text.count("\n", 0, position), position - text.rfind("\n", 0, position) - 1
    else:
        line, column = mark.line, mark.column
    return f"{filename}:{line + 1}:{column + 1}"


def _yaml_problem(filename: str, text: str, error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        where = _where(filename, error.problem_mark or error.context_mark)
        what = error.problem or error.context or "invalid YAML"
        what += f" ({error.context})" if error.problem and error.context else ""
    else:  # a ReaderError: a character YAML does not allow
        where = _where(filename, None, text, getattr(error, "position", 0))
        what = f"unacceptable character #x{getattr(error, 'character', 0):04x}"
    return f"{where} (syntax): invalid YAML, {what}"


# --- entry points ----------------------------------------------------------------------------


def parse_config(text: str, filename: str = "feeds.yaml", base_dir: Path | None = None) -> Settings:
    """Settings from the text of a feeds.yaml; relative paths resolve against ``base_dir``
    (the current directory when None). Raises ConfigError listing every problem."""
    base = (Path.cwd() if base_dir is None else base_dir).expanduser().absolute()
    loader = None
    try:
        loader = _Loader(text.removeprefix("\ufeff"))
        tree = _Tree(loader)
        node = loader.get_single_node()
        data = {} if node is None else tree.build(node, ())
    except yaml.YAMLError as e:
        raise ConfigError(_yaml_problem(filename, text, e)) from e
    except _Abort:
        data = _Abort
    finally:
        if loader is not None:
            loader.dispose()
    problems, model = list(tree.problems), None
    if isinstance(data, dict):
        try:
            model = _FileModel.model_validate(data)
        except ValidationError as e:
            problems += [_pydantic_problem(error, tree) for error in e.errors()]
        problems += _cross_problems(data, tree)
    elif data is not _Abort:
        message = f"expected a mapping with a 'sources' list, got {_describe(data)}"
        problems.append((tree.locate(()), (), message))
    if problems or model is None:
        problems.sort(key=lambda p: (p[0].line, p[0].column) if p[0] else (-1, -1))
        lines = dict.fromkeys(f"{_where(filename, m)} {_key_path(k)}: {t}" for m, k, t in problems)
        raise ConfigError("\n".join(lines))
    return _settings(model, base)


def load_config(path: Path) -> Settings:
    """Settings from a feeds.yaml file (UTF-8, BOM tolerated); relative paths resolve
    against the file's directory. Raises ConfigError when it is unreadable or invalid."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the configuration file: {e.strerror}") from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        where = _where(str(path), None, raw.decode("latin-1"), e.start)
        raise ConfigError(f"{where} (encoding): expected UTF-8 text") from e
    absolute = path.expanduser().absolute()
    return dataclasses.replace(parse_config(text, str(path), absolute.parent), path=absolute)


# --- values ----------------------------------------------------------------------------------


def _source(model: _SourceModel, site: Site, fetch: FetchSettings) -> Source:
    parts = urlsplit(model.url)
    return Source(
        id=model.id,
        url=model.url,
        name=model.name or model.id,
        home=model.home or (f"{parts.scheme}://{parts.netloc}" if parts.netloc else site.link),
        categories=model.categories,
        interval=model.interval or fetch.interval,
        default_image=model.default_image,
        templates=Templates(**model.templates.model_dump()),
        include=model.include,
        exclude=model.exclude,
        max_items=model.max_items,
    )


def _settings(model: _FileModel, base: Path) -> Settings:
    def resolve(path: Path) -> Path:
        return base / path.expanduser()  # an absolute right side replaces base

    storage, relative = model.storage, model.storage.removeprefix("sqlite:///")
    if storage.startswith("sqlite:///") and relative[:1] not in ("", "/", ":"):
        storage = f"sqlite:///{resolve(Path(relative))}"
    site, output = model.site, model.output
    user_agent = model.fetch.user_agent.replace("<version>", _VERSION)
    fetch = dataclasses.replace(model.fetch, user_agent=user_agent)
    channels = tuple(
        Channel(**(channel.model_dump() | {"title": channel.title or channel.id}))
        for channel in model.channels
    )
    return Settings(
        site=site,
        storage=storage,
        output=Output(resolve(output.dir), output.posts_dir and resolve(output.posts_dir)),
        server=model.server,
        fetch=fetch,
        dedup=model.dedup,
        sources=tuple(_source(source, site, fetch) for source in model.sources),
        channels=channels or (Channel(id="all", title=site.title, description=site.description),),
    )
