"""The value types of feeds.yaml keys: what each kind of value accepts, and what the
problem says when it does not ("expected a duration like 15m").

One responsibility: ``Annotated`` types whose pydantic validators check one value each
(durations, sizes, URLs, ids, language tags, time zones, storage URLs, regular
expressions, templates, lists that may be null), plus ``STRICT``, the model config every
mapping of the file shares. They are used by ``settings`` and ``schema`` alike.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, ConfigDict

from aggregator.config.units import MAX_DURATION, as_duration, as_size

#: The fields a source's templates may use.
TEMPLATE_FIELDS = ("source_name", "home", "excerpt", "image", "title", "link")

#: Every mapping of the file: unknown keys refused, numbers accepted where text is expected.
STRICT = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


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


def _at_most_max_duration(value: timedelta) -> timedelta:
    # Longer ones overflow a due date ("now + interval") and mean nothing for a feed.
    if value > MAX_DURATION:
        raise ValueError("expected a duration like 15m, at most 3650d")
    return value


def _host_or_network(entry: str) -> bool:
    """A CIDR network (``10.0.0.0/8``, ``127.0.0.1``, ``::1``) or a host name."""
    try:
        ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return _HOST_NAME.fullmatch(entry.strip()) is not None
    return True


def _url_kind(url: str) -> str | None:
    """The kind of a URL we accept: absolute http(s), file:///path, else None; a
    ``ValueError`` says what is wrong with one that is nearly right. (No part of the URL
    is quoted back: it may hold a password, and problems reach public pages.)"""
    parts = urlsplit(url)
    if any(c.isspace() for c in url):
        return None
    if parts.scheme in ("http", "https") and parts.hostname:
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError("its port is not a number from 1 to 65535")
        return "http"
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            # file://relative/_posts names a host "relative" and reads /_posts.
            raise ValueError("file:// takes an absolute path after a third slash: file:///path")
        return "file" if parts.path.startswith("/") else None
    return None


def _template(text: str) -> bool:
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in TEMPLATE_FIELDS:
            raise ValueError(f"unknown field {{{name}}}; fields: {', '.join(TEMPLATE_FIELDS)}")
    text.format(**dict.fromkeys(TEMPLATE_FIELDS, ""))  # bad conversions and format specs
    return True


#: A mapping left empty (``key:`` with no value) is an empty mapping.
NULL_MAP = BeforeValidator(lambda v: {} if v is None else v)
#: A list left empty (``key:`` with no value) is an empty list.
NULL_LIST = BeforeValidator(lambda v: () if v is None else v)
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?"
)
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*")
_STORAGE = re.compile(r"(sqlite|postgresql(\+\w+)?)://")

Duration = Annotated[
    timedelta,
    _parsed(as_duration, "expected a duration like 15m"),
    AfterValidator(_at_most_max_duration),
]
Size = Annotated[int, _parsed(as_size, "expected a size like 10MB")]
HttpUrl = Annotated[
    str, _check(lambda v: _url_kind(v) == "http", "expected an http(s):// URL", detail=True)
]
FeedUrl = Annotated[str, _check(_url_kind, "expected an http(s):// or file:/// URL", detail=True)]
Id = Annotated[str, _check(re.compile(r"[a-z0-9_-]+").fullmatch, "expected an id of a-z 0-9 _ -")]
Language = Annotated[str, _check(_LANGUAGE.fullmatch, "expected a language tag like en or ko")]
TimeZone = Annotated[str, _check(ZoneInfo, "expected an IANA time zone like Asia/Seoul")]
Storage = Annotated[str, _check(_STORAGE.match, "expected a sqlite:// or postgresql:// URL")]
Regex = Annotated[str, _check(re.compile, "expected a regular expression", detail=True)]
Template = Annotated[str, _check(_template, "expected a str.format template", detail=True)]
Strings = Annotated[tuple[str, ...], NULL_LIST]


def _allowed_private(value: object) -> object:
    """``fetch.allow_private``: a switch, or host names and networks, checked here so a
    wrong entry is named rather than reported against each type of the union."""
    if isinstance(value, bool):
        return value
    if isinstance(value, list | tuple):
        for entry in value:
            if not isinstance(entry, str) or not _host_or_network(entry):
                raise ValueError(
                    "expected true, false or a list of host names and networks like "
                    f"10.0.0.0/8 ({entry!r} is neither)"
                )
        return tuple(value)
    raise ValueError("expected true, false or a list of host names and networks")


AllowPrivate = Annotated[bool | tuple[str, ...], BeforeValidator(_allowed_private)]
