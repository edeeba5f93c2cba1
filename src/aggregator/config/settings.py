"""The settings a feeds.yaml stands for, as frozen values (README, "Configuration").

One responsibility: the ``Settings`` value and its sections (``Site``, ``Output``,
``Server``, ``FetchSettings``, ``DedupSettings`` with its ``ReaderSettings``,
``PublishSettings``) with their defaults. The sections are pydantic dataclasses, so
``schema`` validates the file's mappings straight into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator, with_config

from aggregator.config.fields import (
    STRICT,
    AllowPrivate,
    Duration,
    HttpUrl,
    Language,
    Size,
    TimeZone,
)
from aggregator.model import Channel, Source
from aggregator.schedule import DEFAULT_MAX_INTERVAL, DEFAULT_MIN_INTERVAL, duration

DEFAULT_FEATURE_TEXT = "## {source_name}\n{excerpt}"
DEFAULT_STORAGE = "sqlite:///data/aggregator.db"


@with_config(STRICT)
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


@with_config(STRICT)
@dataclass(frozen=True, slots=True)
class Output:
    """Where static files go; absolute once loaded."""

    dir: Path = Path("public")
    #: Front-matter posts; None disables them.
    posts_dir: Path | None = Path("_posts")


#: How long articles stay in the store by default: a season of news, far beyond any
#: folding window, at a size that stays small.
DEFAULT_RETENTION = timedelta(days=90)


@with_config(STRICT)
@dataclass(frozen=True, slots=True)
class Server:
    host: str = "127.0.0.1"
    #: 0 lets the system pick a free port.
    port: Annotated[int, Field(ge=0, le=65535)] = 8080


@with_config(STRICT)
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
    #: After a 301/308, fetch the new address instead of the configured one.
    follow_permanent_redirects: bool = False
    #: The adapted interval of a source that publishes often is never shorter than this
    #: (nor than the source's own interval, when that is shorter).
    min_interval: Duration = DEFAULT_MIN_INTERVAL
    #: The adapted interval of a quiet source, and a wait a feed or server asks for
    #: (``<ttl>``, ``Cache-Control``, ``sy:updatePeriod``), are never longer than this
    #: (nor than the source's own interval, when that is longer).
    max_interval: Duration = DEFAULT_MAX_INTERVAL
    #: Processes that parse, clean and fingerprint fetched documents during a pass:
    #: "auto" is one per core for a pass over several sources, 0 does it in this process.
    workers: Literal["auto"] | Annotated[int, Field(ge=0, le=64)] = "auto"
    #: CPU time one fetched document may take to parse, clean and fingerprint; past it
    #: the document is a failure of its source. CPU time, not wall time, so a busy
    #: machine does not fail a large feed (3,000 entries take about 3 s).
    parse_timeout: Duration = timedelta(seconds=20)
    #: Addresses only this machine or its network can reach (loopback, private,
    #: link-local, …) are refused unless allowed here: true for all, or a list of host
    #: names and networks (CIDR) to allow.
    allow_private: AllowPrivate = False

    @field_validator("max_interval")
    @classmethod
    def _at_least_min_interval(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        shortest = info.data.get("min_interval")
        if isinstance(shortest, timedelta) and value < shortest:
            raise ValueError(f"expected at least fetch.min_interval ({duration(shortest)})")
        return value


@with_config(STRICT)
@dataclass(frozen=True, slots=True)
class ReaderSettings:
    """A language model the operator runs, behind an OpenAI-compatible chat completions
    endpoint (Ollama, llama.cpp's server, vLLM, a hosted API), that reads each fold of
    reports written apart after a pass and takes out of its story a report it reads as
    another event, and each report the rules came close to folding but left apart, and
    folds one it reads as the same event (``aggregator.reading``)."""

    #: The chat completions URL, e.g. ``http://127.0.0.1:11434/v1/chat/completions``.
    url: HttpUrl
    #: The model's name as the endpoint knows it.
    model: Annotated[str, Field(min_length=1)]
    #: How long one reading may take before the pass gives up on the reader.
    timeout: Duration = timedelta(seconds=60)
    #: At most this many folds and near misses read after a pass (near misses take half
    #: when both wait); the rest are read after the next.
    most_per_pass: Annotated[int, Field(ge=1, le=1000)] = 20
    #: A report the rules left apart is read against the story it came closest to when
    #: its event score (0–1) reaches this (and is under ``dedup.event_score``); 1 reads
    #: none, and the reader only splits.
    joins_from: Annotated[float, Field(gt=0, le=1)] = 0.35
    #: The environment variable holding the endpoint's API key (sent as a bearer
    #: token); None sends none.
    api_key_env: str | None = None
    #: At most this many tokens of answer (``max_tokens``): a model that does not stop
    #: (a base model, say) would otherwise write until its context is full. A reasoning
    #: model thinks within it; None sends no limit.
    max_tokens: Annotated[int, Field(ge=16, le=100_000)] | None = 1000


@with_config(STRICT)
@dataclass(frozen=True, slots=True)
class DedupSettings:
    near_duplicates: bool = True
    #: Similarity in (0, 1] at or above which two stories are one.
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.22
    #: Near-duplicates are looked for among stories this recent.
    window: Duration = timedelta(hours=72)
    #: Reports written apart from each other, published within ``event_window`` of each
    #: other, are one event when the score of what they share (their words, names and
    #: figures, ``same_story.event_score``, 0–1) reaches this.
    event_score: Annotated[float, Field(gt=0, lt=1)] = 0.75
    event_window: Duration = timedelta(hours=24)
    #: Fold reports of one event written apart (by their words, names and figures), not
    #: only texts that share their wording (copies, trimmed headlines, rewrites). False
    #: keeps every look-alike apart, and most reports written apart too.
    independent_reports: bool = True
    #: A language model that reads the folds of reports written apart; None: none.
    reader: ReaderSettings | None = None


@with_config(STRICT)
@dataclass(frozen=True, slots=True)
class PublishSettings:
    """How published channels are announced."""

    #: WebSub hub (absolute http(s) URL) the feeds declare and that is pinged when they
    #: change; None: no hub.
    websub_hub: HttpUrl | None = None


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
    publish: PublishSettings = PublishSettings()
    #: Articles first seen (and dated) longer ago than this are pruned; None keeps all.
    retention: timedelta | None = DEFAULT_RETENTION
    sources: tuple[Source, ...] = ()
    #: Never empty once loaded: by default one channel ``all``.
    channels: tuple[Channel, ...] = ()
    #: The file it was loaded from (absolute); None when parsed from text.
    path: Path | None = None
