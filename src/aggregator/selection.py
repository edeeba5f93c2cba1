"""What a publish shows, read from the store a page of stories at a time.

Stories are read newest first by their earliest member's date (``stories.sort_date``), which
is the date of the item that tells them (``stories.kept_items``): a page's members are read,
each story's kept item made, and every channel (and the index page) takes what it wants,
until each has enough items that no story further down could come before its last one.
The result is exactly what selecting over every stored article gives (``channels.select``
and ``publish.latest_items`` are applied to what was read), at a cost that follows the
channels' limits instead of the store's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime

from aggregator.channels import as_utc, matcher, select
from aggregator.config import Settings
from aggregator.model import StoredArticle
from aggregator.publish import INDEX_LATEST, Selection, latest_items
from aggregator.store import Store
from aggregator.stories import kept_items

#: Stories read at a time, at most.
PAGE = 200


def select_from_store(settings: Settings, store: Store, rank: Mapping[str, int]) -> Selection:
    """Each channel's items and the index page's, as ``publish.select_all`` would choose
    them from every kept item.

    Channels limited to some sources page through only the stories those sources told
    (selected in SQL), so a channel of a few small outlets does not read the whole store;
    the others, and the index page, share one pass over every story."""
    wanted: dict[str, _Wanted] = {
        channel.id: _Wanted(channel.limit, matcher(channel)) for channel in settings.channels
    }
    latest = _Wanted(INDEX_LATEST, lambda item: True, undated_last=False)
    groups: dict[frozenset[str], list[_Wanted]] = {frozenset(): [latest]}
    for channel in settings.channels:
        groups.setdefault(frozenset(channel.sources), []).append(wanted[channel.id])
    for sources, lists in groups.items():
        first = max(want.limit for want in lists)
        for page, floor in _pages(store, rank, sources, first + first // 4 + 8):
            for item in page:
                for want in lists:
                    want.offer(item)
            if all(want.enough(floor) for want in lists):
                break
    return Selection(
        {c.id: select(c, wanted[c.id].items) for c in settings.channels},
        latest_items(latest.items),
    )


def _pages(
    store: Store, rank: Mapping[str, int], sources: frozenset[str], first: int
) -> Iterator[tuple[list[StoredArticle], datetime]]:
    """Kept items a page of stories at a time (of the stories ``sources`` told, when
    given), with the page's oldest story date: no story in a later page is dated after it.
    The first page is ``first`` stories (about what the lists show), each later one twice
    the one before, up to ``PAGE``."""
    offset, size = 0, max(1, min(first, PAGE))
    while True:
        page = store.newest_stories(size, offset, sources)
        if not page:
            return
        yield kept_items(store.story_members([story for story, _ in page]), rank), page[-1][1]
        if len(page) < size:
            return
        offset += size
        size = min(size * 2, PAGE)


class _Wanted:
    """Items read so far that one list (a channel, the index) could show."""

    def __init__(
        self, limit: int, matches: Callable[[StoredArticle], bool], undated_last: bool = True
    ) -> None:
        self.limit = max(limit, 0)
        self.matches = matches
        #: Channels put undated items after every dated one; the index page does not.
        self.undated_last = undated_last
        self.items: list[StoredArticle] = []

    def offer(self, item: StoredArticle) -> None:
        if self.limit and self.matches(item):
            self.items.append(item)

    def enough(self, floor: datetime) -> bool:
        """Whether no story dated at or before ``floor`` could still be among the first
        ``limit``: there are that many dated strictly after it. An undated story further
        down sorts after them in a channel; on the index page it is dated by first_seen,
        which ``floor`` bounds too."""
        if not self.limit:
            return True
        dates = sorted(
            (
                as_utc(item.article.date or item.first_seen)
                for item in self.items
                if item.article.date or not self.undated_last
            ),
            reverse=True,
        )
        return len(dates) >= self.limit and dates[self.limit - 1] > floor


def changed_posts_since(
    store: Store, mark: int, rank: Mapping[str, int]
) -> Sequence[StoredArticle]:
    """The kept items of the stories that changed after change number ``mark``."""
    return kept_items(store.story_members(store.stories_changed_since(mark)), rank)
