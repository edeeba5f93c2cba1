"""Questions whose answers are known, asked of the reader (``dedup.reader``) before it is
trusted to change any story.

Edge (the network, through ``reading``). A model that answers "one event" to everything
would join every near miss, look-alikes among them (on the evaluation set's held-out
half: precision 0.818, worse than the rules alone), and one that answers "two events" to
everything would split every fold (recall 0.347). So before a process first lets a
reader change a story, it asks it made-up pairs, in English and in Korean: two fires in
one town on one morning (two events) and one fire told by two outlets (one event). A
reader that reads two fires as one event is not asked to join; one that reads one fire
as two events is not asked to split. An answer that is not a reading decides nothing (its
readings would change nothing either), and is asked again next time; a reader none of
whose answers can be read (a base model, or one cut off while thinking) is asked nothing
more that pass, since every question it read would be kept as read, unreadable. A
careful model answers them as a person would; this catches a model that reads no further
than the setting, not one that errs now and then.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx

from aggregator.config import ReaderSettings
from aggregator.reading import ReaderError, ask, request_body

log = logging.getLogger(__name__)

_FIRE = (
    "Outlet: Harbor Post\nPublished: 2026-03-03T14:10:00+00:00\n"
    "Headline: Blaze at Port Alder chemical plant injures four workers\n"
    "Four workers were injured on Tuesday when fire broke out at the Kestrel Chemicals "
    "plant in Port Alder, the city fire department said. About 120 firefighters fought the "
    "blaze, which started in a solvent storage building shortly after 6 a.m., for nearly "
    "five hours. Residents within 800 metres were told to keep windows closed."
)
_SAME_FIRE = (
    "Outlet: Meridian Wire\nPublished: 2026-03-03T16:45:00+00:00\n"
    "Headline: Kestrel Chemicals fire forces Port Alder residents indoors\n"
    "People living near the Kestrel Chemicals factory in Port Alder were ordered to stay "
    "inside on Tuesday morning as thick smoke rose from a burning warehouse of solvents. "
    "Fire Chief Dana Morrow said 120 firefighters were sent to the site and that four "
    "employees were taken to hospital with burns and breathing problems."
)
_OTHER_FIRE = (
    "Outlet: Daily Ledger\nPublished: 2026-03-03T15:30:00+00:00\n"
    "Headline: Fire guts Brantley Logistics warehouse in Port Alder\n"
    "A fire destroyed a Brantley Logistics warehouse on the north side of Port Alder on "
    "Tuesday, the city fire department said. Some 45 firefighters fought the blaze for "
    "three hours; two employees were treated for smoke inhalation. Brantley said about "
    "9,000 parcels were lost."
)
_WAREHOUSE = (
    "Outlet: 한빛일보\nPublished: 2026-03-02T11:05:00+09:00\n"
    "Headline: 대전 유성구 물류창고 화재…직원 3명 부상\n"
    "(대전=한빛일보) 2일 오전 9시 40분께 대전 유성구 탑립동의 한 물류창고에서 불이 나 "
    "직원 3명이 연기를 마셔 병원으로 옮겨졌다. 소방당국은 소방관 85명과 장비 30대를 "
    "투입해 2시간여 만에 불을 껐다. 불은 창고 2층 포장 작업장에서 시작된 것으로 "
    "추정된다."
)
_SAME_WAREHOUSE = (
    "Outlet: 누리뉴스\nPublished: 2026-03-02T13:20:00+09:00\n"
    "Headline: 유성 탑립동 물류센터서 불…근로자 3명 연기 흡입\n"
    "대전 유성소방서에 따르면 이날 오전 탑립동 물류센터 2층 포장 작업장에서 시작된 "
    "불로 근로자 3명이 연기 흡입 증상을 보여 병원에서 치료를 받고 있다. 소방관 85명이 "
    "출동해 두 시간 남짓 진화 작업을 벌였다."
)
_OTHER_WAREHOUSE = (
    "Outlet: 가람통신\nPublished: 2026-03-02T09:50:00+09:00\n"
    "Headline: 대전 대덕구 공장 화재…1명 사망·2명 부상\n"
    "(대전=가람통신) 2일 오전 7시 15분께 대전 대덕구 문평동의 한 화학제품 공장에서 불이 "
    "나 작업자 1명이 숨지고 2명이 다쳤다. 소방당국은 소방관 120명과 장비 45대를 투입해 "
    "3시간 만에 불을 껐다."
)
#: The questions, as (report A, report B, whether they tell one event): in English and
#: in Korean, two fires of one town and morning, and one fire told twice.
CONTROLS = (
    (_FIRE, _OTHER_FIRE, False),
    (_FIRE, _SAME_FIRE, True),
    (_OTHER_WAREHOUSE, _WAREHOUSE, False),
    (_WAREHOUSE, _SAME_WAREHOUSE, True),
)
#: What each of ``CONTROLS`` asks, for the operator (``dedup check-reader``).
CONTROL_NAMES = (
    "two fires in one town (English)",
    "one fire told by two outlets (English)",
    "two fires in one city (Korean)",
    "one fire told by two outlets (Korean)",
)


@dataclass(frozen=True, slots=True)
class ControlAnswer:
    """The reader's answer to one of ``CONTROLS``."""

    #: What the question asks (``CONTROL_NAMES``).
    name: str
    #: The known answer: whether the two reports tell one event.
    same: bool
    #: The reader's reading; None when its answer could not be read.
    said: bool | None
    #: The reason it gave, or what it wrote when its answer could not be read.
    reason: str
    #: How long the answer took, for sizing ``dedup.reader.timeout``.
    seconds: float


@dataclass(frozen=True, slots=True)
class Trust:
    """What a reader is trusted with, after its answers to ``CONTROLS``."""

    #: Splitting out a fold it reads as another event.
    splits: bool = True
    #: Joining a near miss it reads as the same event.
    joins: bool = True


#: Each reader's trust, by its endpoint and model, once every question was read.
_TRUSTED: dict[tuple[str, str], Trust] = {}


async def trust(client: httpx.AsyncClient, reader: ReaderSettings) -> Trust:
    """What ``reader`` may change, from its answers to ``CONTROLS`` (asked once a process
    while they are readable). Raises ``reading.ReaderError`` when it cannot be asked."""
    key = (str(reader.url), reader.model)
    if key in _TRUSTED:
        return _TRUSTED[key]
    found = await answers(client, reader)
    trusted = trust_of(found)
    if trusted is None:
        # Not one answer in the form asked (a base model, a template that drops the
        # instructions, an answer cut off while thinking): its readings would all be
        # unreadable, and each question kept as read, never asked again.
        raise ReaderError(f"no answer to the known questions could be read: {found[-1].reason}")
    if not trusted.joins:
        log.warning(
            "the reader (%s) read two fires in one town as one event: it is not asked to join",
            reader.model,
        )
    if not trusted.splits:
        log.warning(
            "the reader (%s) read one fire told twice as two events: it is not asked to split",
            reader.model,
        )
    if all(answer.said is not None for answer in found):
        _TRUSTED[key] = trusted
    return trusted


async def answers(client: httpx.AsyncClient, reader: ReaderSettings) -> list[ControlAnswer]:
    """The reader's answers to ``CONTROLS``, in order. Raises ``reading.ReaderError``
    when it cannot be asked."""
    return [answer async for answer in each_answer(client, reader)]


async def each_answer(
    client: httpx.AsyncClient, reader: ReaderSettings
) -> AsyncIterator[ControlAnswer]:
    """The reader's answers to ``CONTROLS``, each timed, as they come: an operator
    watching a slow model sees each (and which one it was stuck on) before the next."""
    for name, (first, second, same) in zip(CONTROL_NAMES, CONTROLS, strict=True):
        started = time.perf_counter()
        said, reason = await ask(
            client, reader, request_body(reader.model, first, second, reader.max_tokens)
        )
        yield ControlAnswer(name, same, said, reason, time.perf_counter() - started)


def trust_of(found: Sequence[ControlAnswer]) -> Trust | None:
    """What a reader that gave ``found`` may change; None when none of them could be
    read. One fire read as two events bars splitting, two fires read as one bars
    joining; an answer that could not be read decides nothing."""
    if all(answer.said is None for answer in found):
        return None
    wrong = {
        answer.same for answer in found if answer.said is not None and answer.said != answer.same
    }
    return Trust(splits=True not in wrong, joins=False not in wrong)


async def still_answers(client: httpx.AsyncClient, reader: ReaderSettings) -> None:
    """Ask one of ``CONTROLS`` again, after the endpoint refused a question: a refusal of
    this short pair too means it refuses every question, and raises
    ``reading.ReaderError`` (``ReaderRefused``) as any failure to ask it does."""
    first, second, _ = CONTROLS[1]
    await ask(client, reader, request_body(reader.model, first, second, reader.max_tokens))
