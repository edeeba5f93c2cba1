"""HTTP fetching of feeds: one shared client, bounded in time, size and concurrency.

The fetcher performs the request it is handed and classifies the answer into a
``FetchOutcome``; it never raises for a status code or a network failure (a 404 is an
ordinary answer, a timeout is a value). Conditional GET uses the validators remembered
from the last good response, so an unchanged feed costs a 304 and no parsing.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from aggregator.address_guard import AddressPolicy, GuardedBackend
from aggregator.model import FetchOutcome, FetchStatus, Validators

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How far one fetch may go, and how many may run at once."""

    #: Seconds for the whole request, body included (a trickling server is cut off).
    timeout: float = 20.0
    #: Largest body accepted, counted after decompression.
    max_bytes: int = 10 * 1024 * 1024
    concurrency: int = 32
    per_host: int = 4
    user_agent: str = "aggregator/0.1"
    #: Which private addresses may be connected to (``fetch.allow_private``).
    addresses: AddressPolicy = field(default_factory=AddressPolicy)


class Fetcher:
    """Fetches feed URLs with one shared ``httpx.AsyncClient``. Use as an async context."""

    def __init__(self, limits: FetchLimits, transport: httpx.AsyncBaseTransport | None = None):
        """``transport`` replaces the network (tests); otherwise every connection, on every
        redirect hop, goes through ``address_guard``."""
        self.limits = limits
        self._client = httpx.AsyncClient(
            transport=transport or guarded_transport(limits),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            timeout=httpx.Timeout(limits.timeout),
            # Only encodings we decompress ourselves, within the body limit (see _Inflater).
            headers={
                "User-Agent": limits.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
        )
        self._all = asyncio.Semaphore(limits.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(limits.per_host)
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, validators: Validators | None = None) -> FetchOutcome:
        """GET ``url`` conditionally; every failure comes back as an ERROR outcome."""
        headers = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        host = (urlsplit(url).hostname or "").lower()
        async with self._all, self._hosts[host]:
            try:
                async with asyncio.timeout(self.limits.timeout):
                    return await self._get(url, headers)
            except TimeoutError:
                return _error(url, f"timed out after {self.limits.timeout:g}s")
            except httpx.TooManyRedirects:
                return _error(url, f"more than {MAX_REDIRECTS} redirects (a redirect loop?)")
            except httpx.TimeoutException:
                return _error(url, f"timed out after {self.limits.timeout:g}s")
            except httpx.ConnectError as error:
                return _error(url, f"could not connect: {_reason(error)}")
            except (httpx.HTTPError, ssl.SSLError, OSError) as error:
                return _error(url, f"{type(error).__name__}: {_reason(error)}")
            except ValueError as error:  # e.g. an invalid URL
                return _error(url, f"invalid request: {error}")

    async def _get(self, url: str, headers: dict[str, str]) -> FetchOutcome:
        async with self._client.stream("GET", url, headers=headers) as response:
            final_url = str(response.url)
            moved = _permanent_redirect(response)
            max_age, expires_in = freshness(response.headers, datetime.now(UTC))
            if response.status_code == 304:
                return FetchOutcome(
                    FetchStatus.NOT_MODIFIED,
                    url,
                    final_url,
                    304,
                    validators=_validators(response),
                    permanent_redirect=moved,
                    max_age=max_age,
                    expires_in=expires_in,
                )
            if not response.is_success:
                reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                return FetchOutcome(
                    FetchStatus.ERROR,
                    url,
                    final_url,
                    response.status_code,
                    error=reason,
                    permanent_redirect=moved,
                    retry_after=_retry_after(response),
                )
            try:
                body = await self._read_body(response)
            except _TooLarge:
                return FetchOutcome(
                    FetchStatus.ERROR,
                    url,
                    final_url,
                    response.status_code,
                    error=f"body larger than {self.limits.max_bytes} bytes; stopped reading",
                )
            except zlib.error as error:
                return FetchOutcome(
                    FetchStatus.ERROR,
                    url,
                    final_url,
                    response.status_code,
                    error=f"corrupt compressed body: {error}",
                )
            return FetchOutcome(
                FetchStatus.OK,
                url,
                final_url,
                response.status_code,
                body=body,
                content_type=response.headers.get("content-type"),
                validators=_validators(response),
                permanent_redirect=moved,
                max_age=max_age,
                expires_in=expires_in,
            )

    async def _read_body(self, response: httpx.Response) -> bytes:
        """The decoded body, never holding more than ``max_bytes`` of it in memory."""
        limit = self.limits.max_bytes
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        inflater = _Inflater(encoding)
        body = bytearray()
        async for raw in response.aiter_raw():
            for piece in inflater.feed(raw, limit - len(body) + 1):
                body += piece
                if len(body) > limit:
                    raise _TooLarge
        body += inflater.flush()
        if len(body) > limit:
            raise _TooLarge
        return bytes(body)


def guarded_transport(limits: FetchLimits) -> httpx.AsyncHTTPTransport:
    """httpx's transport, with the network under ``address_guard``'s policy: httpx offers
    no other place to see the address a connection is actually made to."""
    transport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(
            max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency
        )
    )
    pool = transport._pool
    pool._network_backend = GuardedBackend(pool._network_backend, limits.addresses)
    return transport


class _TooLarge(Exception):
    """The body passed the limit."""


class _Inflater:
    """Content-Encoding decoding with a bound on each output piece, so a small gzip that
    inflates to gigabytes is stopped at the limit instead of filling memory."""

    def __init__(self, encoding: str) -> None:
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()  # zlib-wrapped; raw deflate is retried below
        else:
            raise zlib.error(f"unsupported Content-Encoding {encoding!r}")
        self._deflate = encoding == "deflate"

    def feed(self, data: bytes, room: int) -> Iterator[bytes]:
        if self._zlib is None:
            yield data
            return
        while data:
            try:
                piece = self._zlib.decompress(data, max(room, 1))
            except zlib.error:
                if not self._deflate:
                    raise
                # Some servers send raw deflate without the zlib header.
                self._zlib, self._deflate = zlib.decompressobj(-zlib.MAX_WBITS), False
                piece = self._zlib.decompress(data, max(room, 1))
            self._deflate = False
            yield piece
            room -= len(piece)
            data = self._zlib.unconsumed_tail

    def flush(self) -> bytes:
        return self._zlib.flush() if self._zlib is not None else b""


def _permanent_redirect(response: httpx.Response) -> str | None:
    """Where the feed lives now if the redirects began with permanent ones (301/308)."""
    moved = None
    hops = [*response.history, response]
    for hop, following in itertools.pairwise(hops):
        if hop.status_code not in (301, 308):
            break
        moved = str(following.request.url)
    return moved


def _retry_after(response: httpx.Response) -> timedelta | None:
    """``Retry-After`` as a wait: seconds, or an HTTP date from now."""
    value = response.headers.get("retry-after", "").strip()
    if not value or response.status_code not in (429, 503):
        return None
    if (seconds := _whole_seconds(value)) is not None:
        return timedelta(seconds=seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - datetime.now(UTC), timedelta(0))


def freshness(
    headers: httpx.Headers, received: datetime
) -> tuple[timedelta | None, timedelta | None]:
    """How long an answer stays fresh: (``Cache-Control: max-age``, ``Expires``), each less
    the ``Age`` it already has; ``Expires`` counts from the response's ``Date`` (else from
    ``received``). ``no-cache`` / ``no-store`` and a lifetime already over give None."""
    directives: dict[str, str] = {}
    for part in headers.get_list("cache-control", split_commas=True):
        name, _, value = part.partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-cache" in directives or "no-store" in directives:
        return None, None
    age = timedelta(seconds=_whole_seconds(headers.get("age", "")) or 0)
    max_age = None
    if (seconds := _whole_seconds(directives.get("max-age", ""))) is not None:
        max_age = _positive(timedelta(seconds=seconds) - age)
    expires_in = None
    expires = _http_date(headers.get("expires", ""))
    if expires is not None:
        expires_in = _positive(expires - (_http_date(headers.get("date", "")) or received) - age)
    return max_age, expires_in


def _whole_seconds(value: str) -> int | None:
    """A count of seconds at most 10**9 (31 years): larger ones overflow dates."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        return None
    return 10**9 if len(value) > 10 else min(int(value), 10**9)


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _positive(span: timedelta) -> timedelta | None:
    return span if span > timedelta(0) else None


def _validators(response: httpx.Response) -> Validators:
    return Validators(
        etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified")
    )


def _error(url: str, reason: str) -> FetchOutcome:
    return FetchOutcome(FetchStatus.ERROR, url, error=reason)


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__
