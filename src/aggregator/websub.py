"""Telling a WebSub hub that channels changed, so subscribers get them pushed.

Edge (the network). With ``publish.websub_hub`` set, every feed declares the hub
(``syndication``), and after a publish that changed feed documents their URLs (the
*topics*) are announced to it: one form-encoded POST ``hub.mode=publish&hub.url=<topic>``
per topic, the form nearly every hub accepts (WebSub leaves the publish request to the
hub; this is the one Google's and Superfeedr's hubs and WebSub.rocks document). The hub
then fetches each topic and delivers it to its subscribers.

Failures are values: ``ping`` returns a line per problem and never raises, so a hub that
is down never stops publishing; the next change announces again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

import httpx

from aggregator.config import Settings
from aggregator.publish import channel_meta
from aggregator.syndication import FEED_FORMATS, feed_url

log = logging.getLogger(__name__)

#: At most this much of a refusing hub's answer is quoted in the problem.
PROBLEM_BODY_CHARS = 200
#: At most this much of a hub's answer is read at all.
_READ_LIMIT = 4096


def topics(settings: Settings, changed: Iterable[str]) -> list[str]:
    """The absolute URLs of the feed documents among ``changed`` (paths relative to
    ``output.dir``, as in ``PublishResult.changed``), in the order given; other files
    (the index page, OPML, the stylesheet) are not topics."""
    channels = {channel.id: channel for channel in settings.channels}
    urls: list[str] = []
    for path in changed:
        folder, _, name = path.partition("/")
        channel_id, dot, extension = name.rpartition(".")
        channel = channels.get(channel_id)
        if folder != "feeds" or not dot or extension not in FEED_FORMATS or channel is None:
            continue
        meta = channel_meta(settings, channel.id, channel.title, channel.description)
        urls.append(feed_url(meta, extension))
    return urls


async def ping(hub: str, topics: Sequence[str], client: httpx.AsyncClient) -> list[str]:
    """Announce each of ``topics`` to ``hub``; a line per problem (none when every request
    got a 2xx answer). Never raises (but for cancellation)."""
    answers = await asyncio.gather(*(_ping_one(hub, topic, client) for topic in topics))
    return [problem for problem in answers if problem is not None]


async def _ping_one(hub: str, topic: str, client: httpx.AsyncClient) -> str | None:
    what = f"WebSub hub {hub}: announcing {topic}"
    form = {"hub.mode": "publish", "hub.url": topic}
    try:
        async with client.stream("POST", hub, data=form) as response:
            if response.is_success:
                return None
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= _READ_LIMIT:
                    break
    except httpx.HTTPError as error:
        return f"{what} failed: {type(error).__name__}: {error}"
    except Exception as error:  # an invalid hub URL, a broken transport: a problem, not a crash
        return f"{what} failed: {type(error).__name__}: {error}"
    detail = " ".join(body.decode("utf-8", "replace").split())[:PROBLEM_BODY_CHARS]
    reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    return f"{what} was refused: {reason}" + (f": {detail}" if detail else "")


def hub_client(settings: Settings) -> httpx.AsyncClient:
    """A client for talking to the hub: the fetch timeout and User-Agent, no redirects."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.fetch.timeout.total_seconds()),
        headers={"User-Agent": settings.fetch.user_agent},
        follow_redirects=False,
    )


async def announce(
    settings: Settings, changed: Iterable[str], client: httpx.AsyncClient | None = None
) -> list[str]:
    """After a publish: announce the changed feeds (``PublishResult.changed``) to
    ``publish.websub_hub`` when one is set, logging the outcome; returns the problems.

    Call it once the server holds the new bytes (the hub fetches the topics at once).
    Without ``client`` a short-lived one is made (``hub_client``)."""
    hub = settings.publish.websub_hub
    urls = topics(settings, changed) if hub else []
    if not hub or not urls:
        return []
    if client is None:
        async with hub_client(settings) as own:
            problems = await ping(hub, urls, own)
    else:
        problems = await ping(hub, urls, client)
    for problem in problems:
        log.warning("%s", problem)
    if len(problems) < len(urls):
        announced = len(urls) - len(problems)
        log.info("announced %d of %d changed feeds to %s", announced, len(urls), hub)
    return problems
