"""``dedup.reader`` also reads a fold by similarity whose two texts share too little of
their wording to be a copy (``store.READ_SIMILAR_BELOW``): a report of another event that
reuses a story's background paragraphs can reach the n-gram threshold. A copy or a
trimmed headline (sharing more) is not asked about. What is in a story through a report
the reader splits out goes with it: its copies, and a story it alone merged in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator.model import Reading, story_id
from aggregator.store import Store
from aggregator.store.store import READ_SIMILAR_BELOW, read_by_reader
from tests import test_story_merge
from tests.cli import run_cli
from tests.feedserver import FeedServer
from tests.readerserver import ReaderServer, running_reader
from tests.test_dedup_reader import items, reader_section
from tests.test_dedup_review import FIRE_COPY, Told, fetched
from tests.test_same_event import FIRE_A
from tests.test_story_merge import FLOOD, NOW, ROADS, by_guid, save

#: A store in a SQLite file, and one in PostgreSQL, with the sources of ``save``.
store_url, store = test_story_merge.store_url, test_story_merge.store

#: Another fire at the same plant that evening, its last paragraphs the first report's
#: background: it shares about 0.3 of the first report's n-grams, enough to fold.
SECOND_FIRE_TEXT = (
    "A second fire broke out on Tuesday evening at the Kestrel Chemicals plant in Port "
    "Alder, this time in a packing shed, the city fire department said. About 40 "
    "firefighters were sent and nobody was hurt. Kestrel said production had been halted "
    "and that it was cooperating with investigators. The site has about 350 staff."
)
SECOND_FIRE: Told = (
    "meridian",
    "fire-again",
    "Kestrel Chemicals plant in Port Alder burns again",
    SECOND_FIRE_TEXT,
    FIRE_A[4] + timedelta(hours=2, minutes=30),
)
OUTLETS = {"harbor": [FIRE_A], "ledger": [FIRE_COPY], "meridian": [SECOND_FIRE]}
FIRE_ID = story_id("harbor", "fire-a")
COPY_ID, SECOND_ID = story_id("ledger", "fire-copy"), story_id("meridian", "fire-again")


def reads_the_second_fire_apart(body: dict[str, Any]) -> str:
    if "packing shed" in body["messages"][-1]["content"]:
        return '{"same_event": false, "reason": "a second fire, in another building"}'
    return '{"same_event": true, "reason": "the same fire"}'


def test_a_look_alike_folded_by_similarity_is_read_and_split_out(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    with running_reader(ReaderServer(reply=reads_the_second_fire_apart)) as reader:
        config = fetched(tmp_path, feed_server, OUTLETS, reader_section(reader.url))

        # The look-alike was asked about, against the telling it folded with; the copy's
        # fold (sharing most of its wording) was not.
        texts = reader.user_texts()
        assert len(texts) == 1
        assert "packing shed" in texts[0]
        assert FIRE_A[2] in texts[0] or FIRE_COPY[2] in texts[0]

        assert sorted(item["title"] for item in items(config)) == sorted(
            [FIRE_A[2], SECOND_FIRE[2]]
        )
        second = run_cli(config, "dedup", "explain", SECOND_ID).stdout
        assert f"split out of story {FIRE_ID}" in second
        assert "read by test-model as another event, split out: a second fire" in second
        fire = run_cli(config, "dedup", "explain", FIRE_ID).stdout
        assert f"{COPY_ID}  Ledger" in fire and "joined by similarity" in fire
        assert "read by" not in fire

        # Read once: a later pass asks nothing and the rules do not fold it back.
        assert run_cli(config, "fetch", "--all").returncode == 0
        assert len(reader.requests) == 1 and len(items(config)) == 2


def test_a_fold_by_similarity_read_as_one_event_stands(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    same = '{"same_event": true, "reason": "the plant fire again"}'
    with running_reader(ReaderServer(reply=lambda body: same)) as reader:
        config = fetched(tmp_path, feed_server, OUTLETS, reader_section(reader.url))
        assert len(reader.requests) == 1
        assert len(items(config)) == 1
        second = run_cli(config, "dedup", "explain", SECOND_ID).stdout
        lines = second.splitlines()
        at = lines.index(f"* {SECOND_ID}  Meridian")
        assert lines[at + 1].strip() == SECOND_FIRE[2]
        score = float(lines[at + 2].split("joined by similarity ")[1].split()[0])
        assert 0.22 <= score < READ_SIMILAR_BELOW
        assert "read by test-model as the same event: the plant fire again" in lines[at + 4]


def test_only_folds_by_similarity_sharing_little_wording_are_listed_for_reading(
    store: Store,
) -> None:
    save(store, "alpha", 1, FIRE_A[3], 0.5)
    save(store, "beta", 1, FIRE_COPY[3], 1.0)
    save(store, "gamma", 1, SECOND_FIRE_TEXT, 3.0)
    stored = by_guid(store)
    fire, copy, second = (stored[g] for g in ("alpha-1", "beta-1", "gamma-1"))
    assert copy.fold_rule == second.fold_rule == "similarity"
    assert (copy.fold_score or 0) >= READ_SIMILAR_BELOW > (second.fold_score or 1)
    fire_id, copy_id = fire.article.id or "", copy.article.id or ""
    second_id = second.article.id or ""
    since = NOW - timedelta(hours=1)
    assert [a.article.id for a in store.unread_folds(since, 10)] == [second_id]

    # A copy's fold is not the reader's to split, whatever it is told.
    assert store.record_reading(Reading(copy_id, fire_id, False, "no", "m", NOW)) is None
    assert store.article(copy_id).story_id == fire_id  # type: ignore[union-attr]
    apart = Reading(second_id, fire_id, False, "another fire", "m", NOW)
    assert store.record_reading(apart) == second_id
    assert [a.article.id for a in store.story(fire_id)] == [fire_id, copy_id]
    assert store.unread_folds(since, 10) == []


@pytest.mark.parametrize(
    ("rule", "score", "read"),
    [
        ("same_event", 0.9, True),
        ("merged", None, True),
        ("similarity", 0.23, True),
        ("similarity", READ_SIMILAR_BELOW, False),
        ("similarity", 0.9, False),
        ("similarity", None, False),
        ("split", None, False),
        (None, None, False),
    ],
)
def test_which_folds_the_reader_reads(rule: str | None, score: float | None, read: bool) -> None:
    assert read_by_reader(rule, score) is read


def saved_with_a_copy_of_each_fire(store: Store) -> tuple[str, str, str, str]:
    """The first fire, its copy, the second fire, and the second fire's copy, which joined
    the story through the second fire: their ids."""
    save(store, "alpha", 1, FIRE_A[3], 0.5)
    save(store, "beta", 1, FIRE_COPY[3], 1.0)
    save(store, "gamma", 1, SECOND_FIRE_TEXT, 3.0)
    save(store, "delta", 1, SECOND_FIRE_RETOLD, 3.5)
    stored = by_guid(store)
    fire, copy, second, retold = (
        stored[g].article.id or "" for g in ("alpha-1", "beta-1", "gamma-1", "delta-1")
    )
    assert stored["delta-1"].fold_match == second
    assert {s.story_id for s in stored.values()} == {fire}
    return fire, copy, second, retold


SECOND_FIRE_RETOLD = SECOND_FIRE_TEXT.replace("nobody", "no one")


def test_a_report_split_out_by_the_reader_takes_its_copies_along(store: Store) -> None:
    """The second fire's copy joined the story through it, so it is the second fire's
    too; a copy of the first report stays."""
    fire, copy, second, retold = saved_with_a_copy_of_each_fire(store)
    apart = Reading(second, fire, False, "another fire", "m", NOW)
    assert store.record_reading(apart) == second
    assert [a.article.id for a in store.story(fire)] == [fire, copy]
    assert [a.article.id for a in store.story(second)] == [second, retold]
    moved = store.article(retold)
    assert moved is not None and moved.fold_rule == "similarity"
    # Its keys went with it: the same text again joins the second fire's story.
    save(store, "epsilon", 1, SECOND_FIRE_RETOLD, 4.0)
    assert by_guid(store)["epsilon-1"].story_id == second


def test_the_operator_s_split_takes_out_the_one_report_named(store: Store) -> None:
    fire, copy, second, retold = saved_with_a_copy_of_each_fire(store)
    assert store.split(second, NOW) == second
    assert [a.article.id for a in store.story(fire)] == [fire, copy, retold]


#: A round-up that tells the flood and the road closure among other news, sharing too
#: little with either to be a copy: it joins the flood's story and merges the road's in.
ROUND_UP = (
    f"{FLOOD} {ROADS} Across the county, schools stayed open and the weather service "
    "expects the rain to ease by Thursday evening, with drier air moving in from the west "
    "over the weekend. Farmers said the late harvest had been spared the worst, and the "
    "council will meet on Friday to count the cost of the week's storms to its parks and "
    "footpaths."
)


def test_a_story_merged_in_through_a_report_split_out_leaves_with_it(store: Store) -> None:
    save(store, "alpha", 1, FLOOD, 0.5)
    save(store, "beta", 1, ROADS, 1.0)
    save(store, "beta", 2, ROADS.replace("buses", "coaches"), 1.5)
    save(store, "gamma", 1, ROUND_UP, 2.0)
    stored = by_guid(store)
    flood, roads, coaches, round_up = (
        stored[g].article.id or "" for g in ("alpha-1", "beta-1", "beta-2", "gamma-1")
    )
    assert {s.story_id for s in stored.values()} == {flood}
    assert (stored["beta-1"].fold_rule, stored["beta-1"].fold_match) == ("merged", round_up)
    assert stored["gamma-1"].fold_match == flood

    apart = Reading(round_up, flood, False, "a round-up, not the flood", "m", NOW)
    assert store.record_reading(apart) == round_up
    assert [a.article.id for a in store.story(flood)] == [flood]
    assert {a.article.id for a in store.story(round_up)} == {round_up, roads, coaches}
    # The road's story, merged in by the round-up alone, is one again beside it.
    assert store.article(roads).fold_rule == "merged"  # type: ignore[union-attr]
    assert store.story_count() == 2
