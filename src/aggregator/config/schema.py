"""The shape of feeds.yaml, and the settings built from a file of that shape.

One responsibility: the pydantic models of the file (``FileModel`` and the source,
channel and templates mappings; unknown keys refused) and ``build_settings``, which turns
a validated ``FileModel`` into ``Settings`` holding ``aggregator.model.Source`` and
``Channel`` values: defaults filled in, and relative paths (``output.*``,
``sqlite:///relative.db``) resolved against the config file's directory, never the
current directory.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field

from aggregator.config.fields import (
    NULL_LIST,
    NULL_MAP,
    STRICT,
    Duration,
    FeedUrl,
    HttpUrl,
    Id,
    Regex,
    Storage,
    Strings,
    Template,
)
from aggregator.config.settings import (
    DEFAULT_FEATURE_TEXT,
    DEFAULT_RETENTION,
    DEFAULT_STORAGE,
    DedupSettings,
    FetchSettings,
    Output,
    PublishSettings,
    Server,
    Settings,
    Site,
)
from aggregator.model import Channel, Source, Templates
from aggregator.urls import without_credentials

try:
    _VERSION = version("aggregator")
except PackageNotFoundError:  # a source tree that is not installed
    _VERSION = "0.1.0"


class _Model(BaseModel):
    model_config = STRICT


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
    templates: Annotated[_TemplatesModel, NULL_MAP] = _TemplatesModel()
    include: Annotated[tuple[Regex, ...], NULL_LIST] = ()
    exclude: Annotated[tuple[Regex, ...], NULL_LIST] = ()
    max_items: Annotated[int, Field(ge=1)] | None = None


class _ChannelModel(_Model):
    id: Id
    title: str | None = None
    description: str = ""
    categories: Strings = ()
    keywords: Strings = ()
    sources: Strings = ()
    limit: Annotated[int, Field(ge=1, le=10000)] = 50


def _at_least_a_day(value: timedelta | None) -> timedelta | None:
    if value is not None and value < timedelta(days=1):
        raise ValueError("expected at least 1d (or null to keep every article)")
    return value


class FileModel(_Model):
    """A whole feeds.yaml, as validated (before defaults are filled in)."""

    site: Annotated[Site, NULL_MAP] = Site()
    storage: Storage = DEFAULT_STORAGE
    output: Annotated[Output, NULL_MAP] = Output()
    server: Annotated[Server, NULL_MAP] = Server()
    fetch: Annotated[FetchSettings, NULL_MAP] = FetchSettings()
    dedup: Annotated[DedupSettings, NULL_MAP] = DedupSettings()
    publish: Annotated[PublishSettings, NULL_MAP] = PublishSettings()
    #: Articles first seen (and dated) longer ago than this leave the store; null keeps all.
    retention: Annotated[Duration | None, AfterValidator(_at_least_a_day)] = DEFAULT_RETENTION
    sources: list[_SourceModel] = Field(min_length=1)  # a tuple would miscount bad items
    channels: Annotated[tuple[_ChannelModel, ...], NULL_LIST] = ()


def _source(model: _SourceModel, site: Site, fetch: FetchSettings) -> Source:
    parts = urlsplit(model.url)
    return Source(
        id=model.id,
        url=model.url,
        name=model.name or model.id,
        home=without_credentials(
            model.home or (f"{parts.scheme}://{parts.netloc}" if parts.netloc else site.link)
        ),
        categories=model.categories,
        interval=model.interval or fetch.interval,
        default_image=model.default_image,
        templates=Templates(**model.templates.model_dump()),
        include=model.include,
        exclude=model.exclude,
        max_items=model.max_items,
    )


def build_settings(model: FileModel, base: Path) -> Settings:
    """Settings from a validated file; relative paths resolve against ``base``."""

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
        publish=model.publish,
        retention=model.retention,
        sources=tuple(_source(source, site, fetch) for source in model.sources),
        channels=channels or (Channel(id="all", title=site.title, description=site.description),),
    )
