"""Two questions whose answers are known, asked of the reader (``dedup.reader``) before it
is trusted to change any story.

Edge (the network, through ``reading``). A model that answers "one event" to everything
would join every near miss, look-alikes among them (on the evaluation set's held-out
half: precision 0.818, worse than the rules alone), and one that answers "two events" to
everything would split every fold (recall 0.347). So before a process first lets a
reader change a story, it asks it two made-up pairs: two fires in one town on one
morning (two events) and one fire told by two outlets (one event). A reader that reads
the two fires as one event is not asked to join; one that reads the one fire as two
events is not asked to split. An answer that is not a reading decides nothing (its
readings would change nothing either), and is asked again next time. A careful model
answers both as a person would; this catches a model that reads no further than the
setting, not one that errs now and then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from aggregator.config import ReaderSettings
from aggregator.reading import ask, request_body

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
#: The two questions, as (report A, report B, whether they tell one event).
CONTROLS = ((_FIRE, _OTHER_FIRE, False), (_FIRE, _SAME_FIRE, True))


@dataclass(frozen=True, slots=True)
class Trust:
    """What a reader is trusted with, after its answers to ``CONTROLS``."""

    #: Splitting out a fold it reads as another event.
    splits: bool = True
    #: Joining a near miss it reads as the same event.
    joins: bool = True


#: Each reader's trust, by its endpoint and model, once both questions were read.
_TRUSTED: dict[tuple[str, str], Trust] = {}


async def trust(client: httpx.AsyncClient, reader: ReaderSettings) -> Trust:
    """What ``reader`` may change, from its answers to ``CONTROLS`` (asked once a process
    while they are readable). Raises ``reading.ReaderError`` when it cannot be asked."""
    key = (str(reader.url), reader.model)
    if key in _TRUSTED:
        return _TRUSTED[key]
    answers = []
    for first, second, same in CONTROLS:
        said, _ = await ask(client, reader, request_body(reader.model, first, second))
        answers.append(None if said is None else said == same)
    apart, one = answers
    found = Trust(splits=one is not False, joins=apart is not False)
    if apart is False:
        log.warning(
            "the reader (%s) read two fires in one town as one event: it is not asked to join",
            reader.model,
        )
    if one is False:
        log.warning(
            "the reader (%s) read one fire told twice as two events: it is not asked to split",
            reader.model,
        )
    if None not in answers:
        _TRUSTED[key] = found
    return found
