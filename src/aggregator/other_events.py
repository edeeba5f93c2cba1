"""How news writing marks a turn to another event than the one it reports on: a paragraph
that opens on it ("Separately,", "한편"), and a headline that tells an event as another of
its kind ("second boil-water notice", "포천서도 산사태", "a day after Southfield cut").

A report of another event of the same day, place or people names the event it follows in
passing, with its names and figures; these markers say which of them are not its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

#: How a paragraph about another event opens: news writing marks the turn ("Separately,",
#: "Earlier on Friday,", "같은 법원 형사11부는", "한편", "이와 별도로").
_OTHER_EVENT = re.compile(
    r"(?:Separately|Meanwhile|Elsewhere|In (?:a|an) (?:separate|unrelated)\b|In other news"
    r"|Earlier (?:on|in|that|this)\b|Hours earlier|Earlier,"
    r"|같은 |한편|이와 별도로|이와 별개로|앞서 |이에 앞서|전날 같은|이날 같은)"
)

#: A headline telling its event as one more of a kind, or by the day of another: "second
#: trial", "another fire", "also", "two days after the Coventry vote", "on night of
#: Brereton's world mark". Not "second-largest", "third straight cut", "second half", nor
#: a toll counted within the event ("outbreak claims second life").
_ANOTHER_EVENT_HEADLINE = re.compile(
    r"\b(?:another|second|third|also)\b"
    r"(?!-|\s+(?:straight|consecutive|quarter|half|largest|biggest|highest|lowest"
    r"|life|lives|death|deaths|victim|victims|fatality|case|cases)\b)"
    r"|\b(?:a|one|two|three|four|five|six|seven|\d+)\s+(?:day|days|week|weeks)\s+after\b"
    r"|\bon\s+(?:the\s+)?(?:day|night|eve)\s+of\b",
    re.IGNORECASE,
)
#: The Korean "at X too": a place followed by 서도, 에서도 or 에선도 ("당진 구간서도 …
#: 추돌", "녹산산단 제빙공장서도 암모니아 새"). Not a verb's "-아서도"/"-어서도" ("넘어서도").
_ANOTHER_EVENT_HEADLINE_KO = re.compile(
    r"[가-힣](?<![아어여해였았됐])(?:서|에서|에선)도(?=[\s…,·'\"”’?!]|$)"
)
#: Words quoted in a headline are someone's, not the headline's ("'a second electric
#: bill'"); a quote opens after a space or at the start, so "Brereton's" opens none.
_QUOTED = re.compile(r"(?<!\w)[\"“'‘][^\"“”‘’]*?[\"”'’](?!\w)")
_HANGUL = re.compile("[\uac00-\ud7a3]")


def may_tell_other_events(body_text: str) -> bool:
    """Whether any paragraph of this text could open on another event: splitting a body
    into paragraphs is worth it only then."""
    return _OTHER_EVENT.search(body_text) is not None


def other_events(paragraphs: Iterable[str]) -> list[str]:
    """The paragraphs that open on another event than the story's own: a report of
    another event of the day mentions this one there, in passing, with its figures."""
    return [paragraph for paragraph in paragraphs if _OTHER_EVENT.match(paragraph.strip())]


@functools.lru_cache(maxsize=4096)
def headline_tells_another_event(headline: str) -> bool:
    """Whether a headline tells its event as another of a kind already reported ("Second
    day of storms", "합천 야산서도 산불"): then the event it refers to is not its own, and
    what it shares with that event's reports (a place, a name, a figure) does not make
    them one."""
    unquoted = _QUOTED.sub(" ", headline)
    if _HANGUL.search(unquoted):
        return _ANOTHER_EVENT_HEADLINE_KO.search(unquoted) is not None
    return _ANOTHER_EVENT_HEADLINE.search(unquoted) is not None
