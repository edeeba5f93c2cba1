"""Reports of one event written apart from each other fold by their content words; other
events that share their vocabulary stay apart; ``dedup explain`` shows every signal.

The store is real (a SQLite file, and the PostgreSQL server where the store tests run on
it); the articles go through the same fingerprinting the pipeline uses."""

from __future__ import annotations

import dataclasses
import itertools
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text as sql_text

from aggregator import same_story, words
from aggregator.config import parse_config
from aggregator.config.settings import DedupSettings
from aggregator.dedup import figures, figures_agree, similarity
from aggregator.digest import story_fingerprint
from aggregator.errors import ConfigError
from aggregator.explain import explain_lines
from aggregator.model import Article, Source, story_id
from aggregator.pipeline import fold_policy
from aggregator.same_story import (
    EVENT_WEIGHTS,
    NAMED_APART,
    NAMELESS_SCORE,
    RARE_NAME_ARTICLES,
    WEIGHED_NGRAMS,
    Rarity,
    Rules,
    Text,
    event_score,
    event_signals,
    members_allow,
    signals,
    told_together,
    verdict,
    verdicts,
    words_cosine,
)
from aggregator.store import Store
from aggregator.store.story_index import FoldPolicy, index_terms, word_key
from aggregator.words import Words, stem, words_of
from tests.test_store import postgresql_database

KST = timezone(timedelta(hours=9))
#: The score two reports written apart must reach, as configured by default.
EVENT_SCORE = DedupSettings().event_score
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
SOURCES = ("harbor", "meridian", "ledger", "hanbit", "nuri", "garam")
SOURCE_LIST = [
    Source(id=s, url=f"https://{s}.example/rss", name=s.title(), home="") for s in SOURCES
]


def article(source: str, guid: str, title: str, body: str, date: datetime) -> Article:
    return Article(
        title=title,
        categories=("News",),
        excerpt=body[:80],
        feature_text="",
        image=None,
        body=f"<p>{body}</p>",
        date=date,
        source=source,
        source_url=f"https://{source}.example/",
        canonical_url=f"https://{source}.example/{guid}",
        id=story_id(source, guid),
    )


# -- one English event, told twice, and what looks like it ------------------------------

FIRE_A = (
    "harbor",
    "fire-a",
    "Blaze at Port Alder chemical plant injures four workers",
    "Four workers were injured on Tuesday when fire broke out at the Kestrel Chemicals "
    "plant in Port Alder, the city fire department said. About 120 firefighters fought "
    "the blaze, which started in a solvent storage building shortly after 6 a.m., for "
    "nearly five hours. Residents within 800 metres were told to keep windows closed. "
    "Kestrel said production had been halted and that it was cooperating with "
    "investigators. The plant employs about 350 people.",
    datetime(2026, 3, 3, 14, 10, tzinfo=UTC),
)
FIRE_B = (
    "meridian",
    "fire-b",
    "Kestrel Chemicals fire forces Port Alder residents indoors",
    "People living near the Kestrel Chemicals factory in Port Alder were ordered to stay "
    "inside on Tuesday morning as thick smoke rose from a burning warehouse of solvents. "
    "Fire Chief Dana Morrow said 120 firefighters were sent to the site and that four "
    "employees were taken to hospital with burns and breathing problems, none of them "
    "life-threatening. The company, which has 350 staff at the plant, suspended "
    "operations. The cause of the fire is not yet known.",
    datetime(2026, 3, 3, 16, 45, tzinfo=UTC),
)
#: The same morning, the same city, the same words: another fire.
OTHER_FIRE = (
    "ledger",
    "warehouse-fire",
    "Fire guts Brantley Logistics warehouse in Port Alder",
    "A fire destroyed a Brantley Logistics warehouse on the north side of Port Alder on "
    "Tuesday, the city fire department said. Some 45 firefighters fought the blaze for "
    "three hours; two employees were treated for smoke inhalation. Brantley said about "
    "9,000 parcels were lost. The cause of the fire is under investigation, Fire Chief "
    "Dana Morrow said.",
    datetime(2026, 3, 3, 15, 30, tzinfo=UTC),
)
#: Two days on, with new facts and the old ones restated.
FIRE_FOLLOW_UP = (
    "ledger",
    "fire-cause",
    "Port Alder chemical fire caused by faulty heater, Kestrel says",
    "A faulty heater in a solvent storage building caused Tuesday's fire at the Kestrel "
    "Chemicals plant in Port Alder, the company said on Thursday. Four workers were "
    "injured and 120 firefighters fought the blaze. Kestrel said the plant, which employs "
    "350 people, would reopen next week after inspections.",
    datetime(2026, 3, 5, 18, 0, tzinfo=UTC),
)

# -- one Korean event, told twice, and what looks like it --------------------------------

WAREHOUSE_A = (
    "hanbit",
    "yuseong-a",
    "대전 유성구 물류창고 화재…직원 3명 부상",
    "(대전=한빛일보) 2일 오전 9시 40분께 대전 유성구 탑립동의 한 물류창고에서 불이 나 "
    "직원 3명이 연기를 마셔 병원으로 옮겨졌다. 소방당국은 소방관 85명과 장비 30대를 "
    "투입해 2시간여 만에 불을 껐다. 불은 창고 2층 포장 작업장에서 시작된 것으로 "
    "추정된다. 이 불로 창고 내부 1천200㎡가 탔다.",
    datetime(2026, 3, 2, 11, 5, tzinfo=KST),
)
WAREHOUSE_B = (
    "nuri",
    "yuseong-b",
    "유성 탑립동 물류센터서 불…근로자 3명 연기 흡입",
    "대전 유성소방서에 따르면 이날 오전 탑립동 물류센터 2층 포장 작업장에서 시작된 "
    "불로 근로자 3명이 연기 흡입 증상을 보여 병원에서 치료를 받고 있다. 소방관 85명이 "
    "출동해 두 시간 남짓 진화 작업을 벌였으며 창고 1천200㎡가 불에 탔다. 경찰은 정확한 "
    "화재 원인을 조사하고 있다.",
    datetime(2026, 3, 2, 13, 20, tzinfo=KST),
)
#: The same morning, the same city: another fire.
OTHER_WAREHOUSE = (
    "garam",
    "daedeok",
    "대전 대덕구 공장 화재…1명 사망·2명 부상",
    "(대전=가람통신) 2일 오전 7시 15분께 대전 대덕구 문평동의 한 화학제품 공장에서 불이 "
    "나 작업자 1명이 숨지고 2명이 다쳤다. 소방당국은 소방관 120명과 장비 45대를 투입해 "
    "3시간 만에 불을 껐다. 경찰과 소방당국은 정확한 화재 원인을 조사하고 있다.",
    datetime(2026, 3, 2, 9, 50, tzinfo=KST),
)

# -- one English event told apart: a wire report and a feature that opens on a family -----

OUTBREAK_A = (
    "harbor",
    "outbreak-a",
    "Two dead in Legionnaires' disease outbreak in Westford",
    "Two people have died and 17 are in hospital in an outbreak of Legionnaires' disease "
    "in Westford's harbour district, and a cooling tower at a refrigerated warehouse is "
    "the likely source, health officials said on Friday. Dr. Miriam Okafor, the medical "
    "officer of health, said 19 cases had been confirmed since July 24, all in people "
    "who live or work near the Bayfront Cold Storage centre on Kinnear Street. Samples "
    "from the rooftop tower held Legionella bacteria; it was shut and disinfected.",
    datetime(2026, 3, 3, 15, 10, tzinfo=UTC),
)
OUTBREAK_B = (
    "meridian",
    "outbreak-b",
    "'He thought it was a summer cold': Westford outbreak claims second life",
    "Frank DeLuca spent 41 years on the docks. When he came home last week with a cough, "
    'his daughter said, he shrugged it off. "Four days later he was on a ventilator," '
    "said Teresa DeLuca. Her father, 78, died on Wednesday night, one of two people "
    "killed so far by the Legionnaires' outbreak. The city has now confirmed 19 cases, "
    "and 17 people remain in hospital. Miriam Okafor, the medical officer of health, "
    "said tests had found the bacteria in a cooling tower at Bayfront Cold Storage, "
    "three blocks from the DeLuca home on Kinnear Street.",
    datetime(2026, 3, 3, 17, 25, tzinfo=UTC),
)

# -- two transit strikes the same morning, in two cities ------------------------------

STRIKE_A = (
    "harbor",
    "strike-a",
    "Transit workers strike in Westford, halting buses and trams",
    "Bus and tram service across Westford stopped on Monday as about 4,100 transit "
    "workers walked off the job after contract talks with the Westford Transit Authority "
    "broke down overnight. The Harbour Transit Workers Union said its members rejected a "
    "wage offer of 9% over three years. About 210,000 riders use the network on a "
    "weekday. Mayor Lena Orsak urged both sides back to the table.",
    datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
)
STRIKE_B = (
    "meridian",
    "strike-b",
    "Transit strike in Port Alder leaves commuters stranded",
    "About 1,350 bus drivers and mechanics at Alder Valley Transit walked off the job on "
    "Monday after talks collapsed, the Amalgamated Transit Workers Local 88 said. The "
    "union wants a 14% raise over three years and limits on overtime; the agency offered "
    "6%. Some 58,000 daily riders were left looking for other ways to work. No new talks "
    "were scheduled.",
    datetime(2026, 3, 2, 12, 10, tzinfo=UTC),
)

EVENTS = {
    "fire": [FIRE_A, FIRE_B],
    "strike-westford": [STRIKE_A],
    "strike-alder": [STRIKE_B],
    "outbreak": [OUTBREAK_A, OUTBREAK_B],
    "other-fire": [OTHER_FIRE],
    "fire-cause": [FIRE_FOLLOW_UP],
    "warehouse": [WAREHOUSE_A, WAREHOUSE_B],
    "other-warehouse": [OTHER_WAREHOUSE],
}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    urls = (
        iter([f"sqlite:///{tmp_path / 'aggregator.db'}"])
        if request.param == "sqlite"
        else postgresql_database()
    )
    for url in urls:
        with Store.open(url) as opened:
            opened.sync_sources(SOURCE_LIST)
            yield opened


def save(store: Store, told: tuple[str, str, str, str, datetime]) -> None:
    source, guid, title, body, date = told
    entry = article(source, guid, title, body, date)
    store.save_articles(source, [(guid, entry, story_fingerprint(title, body))], NOW, FoldPolicy())


def stories(store: Store) -> dict[str, str]:
    return {stored.guid: stored.story_id for stored in store.articles()}


def groups(store: Store) -> set[frozenset[str]]:
    found: dict[str, set[str]] = {}
    for guid, story in stories(store).items():
        found.setdefault(story, set()).add(guid)
    return {frozenset(group) for group in found.values()}


WANTED = {frozenset(t[1] for t in tellings) for tellings in EVENTS.values()}


def test_independent_reports_fold_and_look_alikes_stay_apart(store: Store) -> None:
    for told in itertools.chain.from_iterable(EVENTS.values()):
        save(store, told)
    assert groups(store) == WANTED
    rules = {stored.guid: stored.fold_rule for stored in store.articles()}
    assert rules["fire-b"] == "same_event" and rules["yuseong-b"] == "same_event"


@pytest.mark.parametrize("order", [0, 1, 2])
def test_the_grouping_does_not_depend_on_which_arrived_first(tmp_path: Path, order: int) -> None:
    everything = list(itertools.chain.from_iterable(EVENTS.values()))
    arrivals = [everything[::-1], everything[1::2] + everything[::2], everything][order]
    with Store.open(f"sqlite:///{tmp_path / 'aggregator.db'}") as store:
        store.sync_sources(SOURCE_LIST)
        for told in arrivals:
            save(store, told)
        assert groups(store) == WANTED


def test_reports_a_day_apart_are_not_one_event_by_their_words(tmp_path: Path) -> None:
    """Under a shorter event window the same two reports stay apart: the day is evidence."""
    policy = FoldPolicy(event_window=timedelta(hours=1))
    with Store.open(f"sqlite:///{tmp_path / 'aggregator.db'}") as store:
        store.sync_sources(SOURCE_LIST)
        for source, guid, title, body, date in (FIRE_A, FIRE_B):
            entry = article(source, guid, title, body, date)
            store.save_articles(
                source, [(guid, entry, story_fingerprint(title, body))], NOW, policy
            )
        assert len(set(stories(store).values())) == 2


@pytest.mark.parametrize("independent_reports", [True, False])
def test_an_operator_can_fold_copies_only(tmp_path: Path, independent_reports: bool) -> None:
    """``dedup.independent_reports: false`` keeps reports written apart apart (and with
    them the look-alikes their words match): only texts sharing their wording fold, as a
    copy of the first report."""
    config = parse_config(
        f"storage: sqlite:///{tmp_path / 'aggregator.db'}\n"
        f"dedup: {{independent_reports: {str(independent_reports).lower()}}}\n"
        "sources:\n"
        + "".join(f"  - {{id: {s}, url: 'https://{s}.example/rss'}}\n" for s in SOURCES)
    )
    source, _, title, body, date = FIRE_A
    copy = ("garam", "fire-copy", f"UPDATE: {title}", body, date + timedelta(hours=1))
    policy = fold_policy(config)
    assert policy.independent_reports is independent_reports
    with Store.open(config.storage) as store:
        store.sync_sources(config.sources)
        for told in (FIRE_A, FIRE_B, copy):
            source, guid, title, body, date = told
            entry = article(source, guid, title, body, date)
            store.save_articles(
                source, [(guid, entry, story_fingerprint(title, body))], NOW, policy
            )
        rules = {stored.guid: (stored.story_id, stored.fold_rule) for stored in store.articles()}
    founder = rules["fire-a"][0]
    assert rules["fire-copy"] == (founder, "similarity")
    if independent_reports:
        assert rules["fire-b"] == (founder, "same_event")
    else:
        assert rules["fire-b"] == (story_id("meridian", "fire-b"), None)


def test_the_event_score_is_the_operators_to_set(tmp_path: Path) -> None:
    """``dedup.event_score`` is the score two reports written apart must reach: a pair
    just under it stays apart, just over it folds. The words' threshold it replaced is
    refused with a clear error, not silently ignored."""
    config = parse_config(
        f"storage: sqlite:///{tmp_path / 'aggregator.db'}\n"
        "dedup: {event_score: 0.9}\n"
        "sources:\n  - {id: harbor, url: 'https://harbor.example/rss'}\n"
    )
    assert fold_policy(config).event_score == 0.9
    first, second = _text(FIRE_A), _text(FIRE_B)
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    score = _score(first, second, rarity, rules)
    assert EVENT_SCORE <= score < 0.998
    above = dataclasses.replace(rules, event_score=score + 0.001)
    below = dataclasses.replace(rules, event_score=score - 0.001)
    assert verdict(first, second, rarity, above) is None
    assert verdict(first, second, rarity, below) is not None
    with pytest.raises(ConfigError, match="unknown key 'words_threshold'"):
        parse_config(
            "dedup: {words_threshold: 0.3}\n"
            "sources:\n  - {id: harbor, url: 'https://harbor.example/rss'}\n"
        )


def test_with_copies_only_the_rules_never_fold_by_words() -> None:
    """The rule itself, apart from the store skipping the word look-up: two reports
    written apart are one event by their words, unless ``independent_reports`` is off;
    a fold by similarity then says that no words were compared."""
    first, second = _text(FIRE_A), _text(FIRE_B)
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    found = verdict(second, first, rarity, rules)
    assert found is not None and found.rule == "same_event"
    copies_only = dataclasses.replace(rules, independent_reports=False)
    assert verdict(second, first, rarity, copies_only) is None
    assert verdict(first, second, rarity, copies_only) is None
    without_words = dataclasses.replace(second, stored_words=Words())
    assert "words not compared" in signals(without_words, first, rarity).describe()


def test_a_candidate_the_words_did_not_nominate_is_weighed_only_sharing_ngrams() -> None:
    """A candidate only the sketch nominated is tried by ``same_event`` only if the two
    share ``WEIGHED_NGRAMS`` of their n-grams (reports written apart share some); else
    only as a copy, and its words are not read."""
    first, second = _text(FIRE_A), _text(FIRE_B)
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    nominated = verdicts(second, [first], rarity, rules, weighed=frozenset({first.article_id}))
    assert [v.rule for v in nominated] == ["same_event"]
    assert similarity(second.signature, first.signature) >= WEIGHED_NGRAMS
    assert verdicts(second, [first], rarity, rules, weighed=frozenset()) == nominated
    # The same words under the n-grams of another text: weighed only if nominated.
    other = story_fingerprint(
        "Library extends weekend hours",
        "The county library will open on Sundays from next month, its board decided, "
        "after a survey of readers asked for longer hours at the branches.",
    )
    apart = dataclasses.replace(second, signature=other.signature)
    assert similarity(apart.signature, first.signature) < WEIGHED_NGRAMS
    assert [v.rule for v in verdicts(apart, [first], rarity, rules)] == ["same_event"]
    assert verdicts(apart, [first], rarity, rules, weighed=frozenset()) == []


def test_a_pair_nothing_names_is_one_event_only_from_the_nameless_score(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Among a busy day's stories a city's name is no rare name: two reports of one fire
    may share no rare name, no name phrase and too few telling figures, only words,
    counts and the place. They are one event if they score ``NAMELESS_SCORE`` or more;
    under it, only if something names the event."""
    first, second = _text(FIRE_A), _text(FIRE_B)
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    assert event_signals(second, first, rarity, rules) is not None
    # As a busy store may weigh them: close together, one telling figure of two in
    # common, nothing that names the event, and words alike or less so.
    nameless = {name: 0.0 for name in EVENT_WEIGHTS}
    nameless.update(close=1.0, telling=1.0, telling_share=0.5)
    strong = {**nameless, "words": 0.6}
    weak = {**nameless, "words": 0.3}
    assert event_score(strong) >= NAMELESS_SCORE > event_score(weak) >= EVENT_SCORE
    for weighed, folds in ((strong, True), (weak, False), ({**weak, "things": 1}, True)):
        monkeypatch.setattr(same_story, "event_signals", lambda *_, w=weighed: dict(w))
        assert (verdict(second, first, rarity, rules) is not None) is folds, weighed


def test_explain_shows_every_signal_and_the_rule(tmp_path: Path) -> None:
    config = parse_config(
        f"storage: sqlite:///{tmp_path / 'aggregator.db'}\n"
        "sources:\n"
        + "".join(f"  - {{id: {s}, url: 'https://{s}.example/rss'}}\n" for s in SOURCES)
    )
    with Store.open(config.storage) as store:
        store.sync_sources(config.sources)
        save(store, FIRE_A)
        save(store, FIRE_B)
        lines = "\n".join(explain_lines(config, store, story_id("meridian", "fire-b")))
    assert "joined as the same event to" in lines
    signals = next(line for line in lines.splitlines() if "signals:" in line)
    for signal in (
        "n-grams 0.",
        "words 0.",
        "rare names",
        "name phrases",
        "shared figures",
        "h apart",
        "event score ",
    ):
        assert signal in signals, signals
    assert "figures agree" in signals and "port" in signals and "alder" in signals


def test_korean_words_come_from_the_analyzer() -> None:
    found = words_of("안동시는 지진 피해를", "안동시에서 지진이 발생했다고 기상청이 밝혔다.")
    counts = dict(found.counts)
    assert counts["안동시"] == 3 and counts["지진"] == 3  # headline words count twice
    assert "안동시는" not in counts and "안동시에서" not in counts
    assert "기상청" in counts and "안동시" in found.names
    assert not any(word.endswith("다") for word in counts)  # no verbs or endings


def test_english_words_are_content_words_with_names_marked() -> None:
    found = words_of("Rulings against Kestrel", "The court ruled against Kestrel Chemicals.")
    counts = dict(found.counts)
    assert counts["ruling"] == 2 and counts["kestrel"] == 3 and "the" not in counts
    assert {"kestrel", "chemical"} <= found.names and "court" not in found.names
    assert stem("raised") == stem("raises") == stem("raising") == "rais"
    assert Words.decode(found.encode()) == found


def test_english_words_are_the_same_read_or_kept_and_long_tokens_are_not_kept() -> None:
    words._read_token.cache_clear()
    words._stem.cache_clear()
    title, lead = "Rulings against Kestrel", "The court ruled against Kestrel Chemicals."
    first = words_of(title, lead)
    assert words_of(title, lead) == first  # read from what was kept
    assert words._read_token.cache_info().hits > 0
    kept = words._read_token.cache_info().currsize, words._stem.cache_info().currsize
    # A feed of long junk tokens is read, but what was read of it is not kept.
    junk = " ".join(f"{'q' * 60}{n}" for n in range(50))
    found = words_of(junk, junk)
    assert f"{'q' * 60}7" in dict(found.counts)
    assert (words._read_token.cache_info().currsize, words._stem.cache_info().currsize) == kept


def test_a_word_every_article_holds_weighs_nothing() -> None:
    rarity = Rarity({"fire": 64, "kestrel": 0}, limit=64)
    assert rarity.weight("fire") == 0 < rarity.weight("kestrel")
    only_common = Words((("fire", 1),))
    assert words_cosine(only_common, only_common, rarity.weight) == 0.0


_COSINE_IN_A_PROCESS = """
from aggregator.same_story import Rarity, words_cosine
from aggregator.words import words_of
a = words_of("Harbor crane collapse injures four dockworkers at Port Alder terminal",
    "A container crane buckled and fell across two berths at the Port Alder terminal on "
    "Tuesday morning, injuring four dockworkers and halting cargo operations, harbor "
    "officials said. Investigators from the safety board arrived by afternoon and the "
    "union called for an inspection of every crane on the waterfront.")
b = words_of("Four hurt as crane falls at Port Alder docks",
    "Four dockworkers were hurt when a crane collapsed at Port Alder on Tuesday, stopping "
    "cargo work across two berths. The union demanded inspections of all waterfront "
    "cranes while safety investigators examined the wreck in the afternoon, officials said.")
weight = Rarity({"crane": 3, "port": 20, "alder": 1, "union": 9}, 64).weight
print(repr(words_cosine(a, b, weight)), repr(words_cosine(b, a, weight)))
"""


def test_the_words_cosine_is_the_same_in_every_process_and_either_way() -> None:
    """A verdict read at its threshold must not turn on the process's string hashing (a
    set's order) or on which text came first: the cosine is the same to the last digit."""
    found = set()
    for seed in range(1, 6):
        run = subprocess.run(
            [sys.executable, "-c", _COSINE_IN_A_PROCESS],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        )
        forward, backward = run.stdout.split()
        assert forward == backward
        found.add(forward)
    assert len(found) == 1


def test_the_same_figures_listed_in_another_order_agree() -> None:
    """Two closes naming the same index levels in another order state no conflict; a
    close on another day (other values) still does."""
    one = figures("KOSPI rose 0.62% to 2,655.12, KOSDAQ gained 1.1% to 871.45.")
    other = figures("KOSDAQ up 1.1% at 871.45; KOSPI closed 0.62% higher at 2,655.12.")
    assert figures_agree(one, other)
    another_day = figures("KOSPI fell 0.4% to 2,644.50, KOSDAQ lost 0.8% to 864.20.")
    assert not figures_agree(one, another_day)


def test_analyzer_forms_with_spaces_or_dots_are_stored_and_read_back() -> None:
    """The analyzer's dictionary holds forms with spaces ("블루 아워"), and its foreign words
    keep their dots: a stored word list with such a form once could not be read back."""
    found = words_of("블루 아워 사진전 개막", "donga.com. 기자가 블루 아워를 찍었다 %포인트")
    assert all(word.isalnum() for word, _ in found.counts)
    assert Words.decode(found.encode()) == found


def test_korean_words_analyzed_once_are_kept_within_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(words, "_analyzed", {})
    monkeypatch.setattr(words, "ANALYZED_KEPT", 5)
    analyzed: list[list[str]] = []
    real = words._analyze
    monkeypatch.setattr(words, "_analyze", lambda spaced: analyzed.append(spaced) or real(spaced))
    first = words_of("경북 안동서 지진", "안동시에서 규모 4.6의 지진이 발생했다")
    # The headline's and the lead's eight spaced words in one call; the oldest three (the
    # headline's) dropped for the bound.
    assert [len(spaced) for spaced in analyzed] == [8]
    assert len(words._analyzed) == 5
    again = words_of("경북 안동서 지진", "안동시에서 규모 4.6의 지진이 발생했다")
    assert again == first  # the same words whether analyzed now or kept
    assert len(words._analyzed) == 5
    # Only the headline's three analyzed again, the lead's five read from the cache.
    assert analyzed[1:] == [["경북", "안동서", "지진"]]
    # A spaced word longer than news writes is read to its first 40 characters: a feed of
    # long junk neither costs the analyzer seconds nor fills the cache with it.
    monkeypatch.setattr(words, "_analyzed", {})
    junk = "지진" * 100_000
    assert words_of("경북 지진", junk) == words_of("경북 지진", junk[:40])
    assert analyzed[-1] == ["경북", "지진", junk[:40]]
    assert set(words._analyzed) == {"경북", "지진", junk[:40]}


def test_the_index_holds_each_articles_terms_and_forgets_them_on_update(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'aggregator.db'}"
    with Store.open(url) as store:
        store.sync_sources(SOURCE_LIST)
        save(store, FIRE_A)
        source, guid, title, body, date = FIRE_A
        changed = body.replace("About 120 firefighters", "About 130 firefighters")
        entry = article(source, guid, title, changed, date)
        fingerprint = story_fingerprint(title, changed)
        store.save_articles(source, [(guid, entry, fingerprint)], NOW, FoldPolicy())
    expected = {word_key(term) for term in index_terms(fingerprint.words, fingerprint.figures)}
    assert "#130" in index_terms(fingerprint.words, fingerprint.figures)
    with sqlite3.connect(tmp_path / "aggregator.db") as conn:
        keys = {key for (key,) in conn.execute("SELECT key FROM word_postings")}
    assert keys == expected  # "#120" went with the old text


def test_both_stores_index_the_same_rows(tmp_path: Path) -> None:
    """PostgreSQL writes and reads an article's index keys as one array a statement, where
    SQLite takes a row at a time: the rows are the same, and so are the stories."""
    found = {}
    for backend, urls in (
        ("sqlite", iter([f"sqlite:///{tmp_path / 'aggregator.db'}"])),
        ("postgresql", postgresql_database()),
    ):
        for url in urls:
            with Store.open(url) as store:
                store.sync_sources(SOURCE_LIST)
                for told in itertools.chain.from_iterable(EVENTS.values()):
                    save(store, told)
                grouped = groups(store)
            engine = create_engine(url)
            with engine.connect() as conn:
                bands = set(
                    conn.execute(sql_text("SELECT key, date, article_id FROM sketch_bands"))
                )
                postings = set(
                    conn.execute(
                        sql_text("SELECT key, date, article_id, story_id FROM word_postings")
                    )
                )
            engine.dispose()
            found[backend] = (grouped, bands, postings)
    assert found["sqlite"][0] == WANTED
    assert len(found["sqlite"][1]) >= 64 * len(WANTED) and found["sqlite"][2]
    # A folded article's postings name the story it joined.
    assert {story for *_, story in found["sqlite"][2]} < {a for _, _, a in found["sqlite"][1]}
    assert found["postgresql"] == found["sqlite"]


def _text(told: tuple[str, str, str, str, datetime]) -> Text:
    _, guid, title, body, date = told
    fingerprint = story_fingerprint(title, body)
    return Text(guid, fingerprint.signature, fingerprint.figures, fingerprint.words, date)


def _score(new: Text, old: Text, rarity: Rarity, rules: Rules) -> float:
    """The event score of a pair ``verdict`` judges by it."""
    found = event_signals(new, old, rarity, rules)
    assert found is not None
    return event_score(found)


MORNING_ORDER = (
    "hanbit",
    "order-a",
    "Orland Shipyards wins $1.2 billion order for North Sea wind foundations",
    "Orland Shipyards said on Tuesday it had signed a $1.2 billion contract with Norstrom "
    "Energy to supply 64 monopile foundations for the Helga 2 offshore wind farm in the "
    "North Sea, the largest single order in its history. Deliveries from its Mokpo yard "
    "start next year.",
    datetime(2026, 3, 3, 0, 40, tzinfo=UTC),
)
AFTERNOON_ORDER = (
    "nuri",
    "order-b",
    "Taiwan substations are Orland's second offshore wind deal in a day",
    "Hours after its monopile deal with Norstrom Energy, worth $1.2 billion, Orland "
    "Shipyards agreed on Tuesday to build 2 substations for Taiwan's Changhua wind farm "
    "for $280 million. Its Geoje yard will make them; both go to sea in 2028.",
    datetime(2026, 3, 3, 2, 50, tzinfo=UTC),
)


def test_a_date_and_a_small_count_in_common_are_no_evidence_of_one_event() -> None:
    """Two orders one company announced the same day, a company in the day's news (its
    names held by more articles than a rare name): one figure in common (the morning
    order, restated) and a small count. Only figures that tell one event from another of
    its day (``dedup.telling_values``) count as evidence."""
    morning, afternoon = _text(MORNING_ORDER), _text(AFTERNOON_ORDER)
    in_the_news = ("orland", "shipyard", "norstrom", "energy", "north", "sea", "wind")
    rarity = Rarity(dict.fromkeys(in_the_news, RARE_NAME_ARTICLES), limit=64)
    found = signals(morning, afternoon, rarity)
    assert found.figures == 2 and found.telling[0] == 1 and found.figures_agree
    assert found.words >= 0.30 and not found.names
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    assert verdict(morning, afternoon, rarity, rules) is None
    assert verdict(afternoon, morning, rarity, rules) is None


def test_reports_naming_the_same_people_and_places_fold_on_fewer_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wire report and a feature on one outbreak share few words (the feature opens on
    a family) and state different figures (its victim's age and years at work), but name
    the same official, warehouse and street: as name phrases, these weigh for one event,
    and without them the two share nothing that names it (they would fold only from
    ``NAMELESS_SCORE``)."""
    wire, feature = _text(OUTBREAK_A), _text(OUTBREAK_B)
    rarity = Rarity({}, limit=64)
    found = signals(wire, feature, rarity)
    assert len(found.phrases) >= 3 and "bayfront_cold_storag" in found.phrases
    assert found.words < 0.30 and found.figures_agree
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    assert verdict(wire, feature, rarity, rules) is not None
    assert verdict(feature, wire, rarity, rules) is not None
    unnamed = dataclasses.replace(feature.words, phrases=frozenset())
    without = dataclasses.replace(feature, stored_words=unnamed)
    named = event_signals(wire, feature, rarity, rules)
    bare = event_signals(wire, without, rarity, rules)
    assert named is not None and bare is not None and not bare["phrases"]
    assert event_score(named) > event_score(bare)
    monkeypatch.setattr(same_story, "NAMELESS_SCORE", 1.0)
    assert verdict(wire, feature, rarity, rules) is not None
    assert verdict(wire, without, rarity, rules) is None


def test_name_phrases_are_runs_of_capitalized_words_within_a_sentence() -> None:
    found = words.name_phrases(
        "Dr. Naomi Petrakis of the Bank of Canada spoke in West Mifflin. Three Rivers "
        "Transit said the U.S. Federal Reserve had not. On Monday the Daily Ledger"
    )
    assert "naomi_petraki" in found and "bank_of_canada" in found
    assert "west_mifflin" in found and "thre_river_transit" in found
    assert "u.s_federal_reserv" in found and "daily_ledger" in found
    assert not any(phrase.startswith(("dr_", "on_", "monday")) for phrase in found)
    assert words.shared_phrases(
        frozenset({"stafford_staffordshir_polic", "bank_of_canada"}),
        frozenset({"staffordshir_polic", "bank_of_england"}),
    ) == {"staffordshir_polic"}
    with_phrases = words_of("Strike halts Three Rivers Transit", "Dr. Naomi Petrakis said.")
    assert Words.decode(with_phrases.encode()) == with_phrases
    assert not words_of("안동 지진", "Three Rivers Transit 직원").phrases  # Korean: none


def test_stored_words_are_read_as_the_store_keeps_them() -> None:
    """A candidate's words come from the store encoded, decoded only when a pair gets as
    far as its words: the verdict is the one the decoded words give."""
    wire, feature = _text(OUTBREAK_A), _text(OUTBREAK_B)
    stored = dataclasses.replace(feature, stored_words=feature.words.encode())
    assert stored.words == feature.words
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    assert verdict(wire, stored, rarity, rules) == verdict(wire, feature, rarity, rules)


def test_a_name_another_report_states_further_down_is_no_name_it_leaves_out() -> None:
    """One report's lead names the coach; another quotes him past its lead. A
    name stated beyond the lead is kept (``Words.mentioned``) and read back from the
    store: the coach is no name the other report leaves out, as another's name is."""
    when = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    filler = " ".join(["The swim was the fastest of the night in the pool."] * 8)
    lead = _text(
        (
            "harbor",
            "a",
            "Brereton breaks record",
            f"Graham Tse's swimmer Tahlia Brereton broke the world record on Wednesday. {filler}",
            when,
        )
    )
    later = _text(
        (
            "meridian",
            "b",
            "Teenager sets world mark",
            "Tahlia Brereton broke the "
            f"world record on Wednesday. {filler} Her coach Tse was proud.",
            when,
        )
    )
    other = _text(
        (
            "summit",
            "c",
            "Teenager sets world mark",
            "Tahlia Brereton broke the "
            f"world record on Wednesday. {filler} Her coach Ellery was proud.",
            when,
        )
    )
    assert "tse" in later.words.mentioned and "tse" not in {w for w, _ in later.words.counts}
    assert words.Words.decode(later.words.encode()) == later.words
    assert same_story._unnamed(lead, later) == 0
    assert same_story._unnamed(lead, other) == 1  # Tse, stated nowhere in it
    korean = words_of("삼척 요양병원 옴", "강원 삼척의 한 요양병원에서 옴이 번졌다.")
    assert korean.mentioned == frozenset()


def test_figures_one_report_leaves_out_are_no_conflict_for_reports_written_apart() -> None:
    """Reports written apart quote different figures: one leaving out the other's is no
    conflict for ``same_event``, as it is for copies."""
    one = figures("About 2,300 workers walked off; 160,000 daily riders; an offer of 11%.")
    other = figures("Some 2,300 workers struck. A $31 rideshare. All 95 bus routes idle.")
    assert not figures_agree(one, other)  # the rule for copies: fewer than half shared
    when = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    texts = [
        _text(("harbor", guid, "Transit strike", body, when))
        for guid, body in (
            ("one", "About 2,300 workers walked off; 160,000 daily riders; an offer of 11%."),
            ("other", "Some 2,300 workers struck. A $31 rideshare. All 95 bus routes idle."),
        )
    ]
    assert signals(*texts, Rarity({}, 64), "same_event").figures_agree
    assert not signals(*texts, Rarity({}, 64), "similarity").figures_agree


def test_one_name_is_one_piece_of_evidence_however_many_words_it_has() -> None:
    """ "Port Alder" in both reports of two fires is one place, not two rare names: with
    no figure in common it is not evidence enough of one event."""
    fire, warehouse = _text(FIRE_A), _text(OTHER_FIRE)
    rarity = Rarity({}, 64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    found = signals(fire, warehouse, rarity, "same_event")
    assert set(found.names) == {"port", "alder"} and found.words >= 0.30
    assert verdict(fire, warehouse, rarity, rules) is None
    assert verdict(fire, _text(FIRE_B), rarity, rules) is not None


def test_a_word_shared_only_inside_different_names_is_no_shared_name() -> None:
    """ "Transit" and "Workers" of two unions' names are not a name two reports share;
    inside the same name, or standing alone in one of them, they are."""
    when = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)

    def text(guid: str, phrases: set[str]) -> Text:
        names = frozenset({"transit", "worker"})
        counts = (("transit", 2), ("worker", 2))
        return Text(guid, (), frozenset(), Words(counts, names, frozenset(phrases)), when)

    rarity = Rarity({}, limit=64)
    toronto = text("a", {"metro_transit_worker_union"})
    pittsburgh = text("b", {"amalgamat_transit_worker_local"})
    assert signals(toronto, pittsburgh, rarity).names == ()
    same_union = text("c", {"metro_transit_worker_union", "union_station"})
    assert signals(toronto, same_union, rarity).names == ("transit", "worker")
    standing_alone = text("d", set())
    assert signals(toronto, standing_alone, rarity).names == ("transit", "worker")


def test_a_korean_word_one_text_tags_as_a_name_is_a_name_both_share() -> None:
    """The Korean analyzer tags a name by its context: 배정호 is a proper noun in one report
    and a common noun in the other, and still a name both state. English capitals say
    it themselves: "transit" capitalized in one text only is no shared name."""
    when = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

    def text(guid: str, counts: dict[str, int], names: set[str]) -> Text:
        words = Words(tuple(sorted(counts.items())), frozenset(names))
        return Text(guid, (), frozenset(), words, when)

    tagged = text("a", {"배정호": 1, "의장직": 1, "transit": 1}, {"배정호", "transit"})
    untagged = text("b", {"배정호": 1, "의장직": 1, "transit": 1}, set())
    assert signals(tagged, untagged, Rarity({}, 64)).names == ("배정호",)


def test_a_story_many_outlets_told_keeps_its_names_rare(store: Store) -> None:
    """Rarity is counted in stories: twelve outlets carrying the wire's report of the fire
    do not make "Kestrel" and "Port Alder" common, so a report written apart still joins
    their story, and the other fire of the morning still stays apart."""
    outlets = [f"wire{k}" for k in range(12)]
    store.sync_sources(
        SOURCE_LIST
        + [Source(id=s, url=f"https://{s}.example/rss", name=s, home="") for s in outlets]
    )
    _, _, title, body, date = FIRE_A
    for k, outlet in enumerate(outlets):
        copied = body.replace("the city fire department said", f"officials told outlet {k}")
        save(store, (outlet, f"copy-{k}", title, copied, date + timedelta(minutes=5 * k)))
    save(store, FIRE_B)
    save(store, OTHER_FIRE)
    assert groups(store) == {
        frozenset({*(f"copy-{k}" for k in range(12)), "fire-b"}),
        frozenset({"warehouse-fire"}),
    }
    with store._engine.connect() as conn:
        held = conn.execute(
            sql_text(
                "SELECT COUNT(DISTINCT story_id), COUNT(*) FROM word_postings WHERE key = :key"
            ),
            {"key": word_key("kestrel")},
        ).one()
    assert tuple(held) == (1, 13)


def test_a_split_article_takes_its_postings_to_its_new_story(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'aggregator.db'}") as store:
        store.sync_sources(SOURCE_LIST)
        for told in (FIRE_A, FIRE_B):
            save(store, told)
        fire_b = story_id(FIRE_B[0], FIRE_B[1])
        new = store.split(fire_b, NOW)
        with store._engine.connect() as conn:
            found = conn.execute(
                sql_text("SELECT DISTINCT story_id FROM word_postings WHERE article_id = :id"),
                {"id": fire_b},
            ).all()
    assert [row[0] for row in found] == [new]


def test_a_korean_place_and_its_court_are_one_name() -> None:
    """부산 and 부산지법 (the city's court) are one place: two rulings of that court on one
    day share it and the charge's words, not two names; the same defendant is a second."""
    when = datetime(2024, 11, 14, 3, 0, tzinfo=UTC)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    shared = {"부산": 1, "부산지법": 2, "전세": 2, "사기": 1, "세입자": 2, "보증금": 1}

    def text(guid: str, own: dict[str, int], names: set[str]) -> Text:
        counts = {**shared, **own}
        words = Words(tuple(sorted(counts.items())), frozenset(names))
        return Text(guid, (), frozenset(), words, when)

    ruling = text("a", {"빌라": 2, "정모": 1}, {"부산", "부산지법", "정모"})
    other_ruling = text("b", {"오피스텔": 2, "김모": 1}, {"부산", "부산지법", "김모"})
    retold = text("c", {"빌라": 1, "정모": 1, "대책위": 1}, {"부산", "부산지법", "정모"})
    rarity = Rarity({}, 64)
    assert set(signals(ruling, other_ruling, rarity).names) == {"부산", "부산지법"}
    assert verdict(ruling, other_ruling, rarity, rules) is None
    assert verdict(ruling, retold, rarity, rules) is not None


def test_korean_reports_written_apart_need_no_figures_in_common() -> None:
    """Korean reports written apart are held to the veto English ones are: figures one
    gives and the other leaves out do not count against them. Two reports of one sale
    share its price per share and nothing else of the four figures each gives, and fold;
    the buyer's other deal that day, with figures of its own, is kept apart by its score."""
    when = datetime(2025, 8, 8, 9, 0, tzinfo=KST)
    sale = _text(
        (
            "hanbit",
            "sale-a",
            "청우코스메틱, 한결파트너스에 팔린다…지분 56% 9900억원",
            "화장품 제조업체 청우코스메틱의 최대주주가 사모펀드 한결파트너스와 경영권 지분 "
            "56%를 약 9900억원에 넘기는 주식매매계약을 맺었다고 8일 공시했다. 매각가는 "
            "주당 12만4000원으로, 전날 종가보다 30% 높다. 청우코스메틱은 색조 화장품을 "
            "주문자상표부착 방식으로 만들어 온 회사다. 거래는 공정거래위원회 심사를 거쳐 "
            "연내 마무리될 예정이다.",
            when,
        )
    )
    retold = _text(
        (
            "nuri",
            "sale-b",
            "사모펀드 한결, 청우코스메틱 품는다",
            "한결파트너스가 화장품 제조사 청우코스메틱의 경영권을 사들인다. 인수 가격은 "
            "주당 12만4000원이다. 청우코스메틱은 지난해 매출 4810억원을 올렸고, 이 가운데 "
            "중국 비중이 44%에 이른다. 한결파트너스는 오산 공장 증설에 2000억원을 더 투자할 "
            "계획이라고 밝혔다. 이날 주가는 상한가로 치솟았다.",
            when + timedelta(hours=1, minutes=20),
        )
    )
    other_deal = _text(
        (
            "garam",
            "other-c",
            "사모펀드 한결파트너스, 대명제약 지분 인수",
            "사모펀드 한결파트너스가 중견 제약사 대명제약의 지분 38%를 약 3200억원에 "
            "사들이는 계약을 맺었다고 8일 밝혔다. 주당 인수가는 4만1000원이다. 대명제약은 "
            "지난해 매출 2900억원을 올렸다. 한결파트너스는 대명제약의 기존 경영진을 유지하고 "
            "연구개발 투자를 늘리겠다고 설명했다. 거래는 공정거래위원회 심사를 거쳐 연내 "
            "마무리될 예정이다.",
            when + timedelta(hours=2),
        )
    )
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    rarity = Rarity({}, 64)
    assert signals(sale, retold, rarity, "same_event").telling == (1, 4)
    assert not signals(sale, retold, rarity, "similarity").figures_agree
    found = verdict(sale, retold, rarity, rules)
    assert found is not None and found.rule == "same_event"
    assert signals(sale, other_deal, rarity, "same_event").figures_agree
    assert verdict(sale, other_deal, rarity, rules) is None
    assert verdict(retold, other_deal, rarity, rules) is None


def test_three_numbers_in_common_are_no_event_when_the_words_are_unrelated() -> None:
    """Reports of one event worded apart ("blaze", "fire") fold on three telling figures
    quoted alike; a report of another thing that happens to state three of the same
    numbers that hour, and no word of the event, does not."""
    when = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    pileup = _text(
        (
            "harbor",
            "pileup",
            "Fog pile-up on the M6",
            "Fourteen cars collided on the M6 near Stafford in thick fog, leaving 21 people "
            "in hospital. Visibility was down to 50 metres, police said.",
            when,
        )
    )
    crash = _text(
        (
            "meridian",
            "crash",
            "Motorway crash in fog",
            "A chain collision involving 14 vehicles on the M6 motorway sent 21 to hospital as "
            "fog cut visibility to 50 metres near Stafford.",
            when + timedelta(hours=1),
        )
    )
    libraries = _text(
        (
            "ledger",
            "libraries",
            "County libraries extend opening hours",
            "Of the county's 140 public libraries, 14 now open until nine in the evening, 21 "
            "run weekend hours and 50 host homework clubs, the council's annual survey found.",
            when + timedelta(hours=1),
        )
    )
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    alike = signals(pileup, libraries, rarity, "same_event")
    assert alike.telling == (3, 3) and alike.figures_agree and alike.words < 0.05
    assert verdict(libraries, pileup, rarity, rules) is None
    assert verdict(pileup, libraries, rarity, rules) is None
    one_event = verdict(crash, pileup, rarity, rules)
    assert one_event is not None and one_event.rule == "same_event"


def test_four_telling_figures_in_common_are_evidence_however_many_each_states() -> None:
    """Two reports of a port's year, with no rare name in common, quote four of their six
    or seven telling figures alike: evidence beside their words, though short of three
    quarters. Three alike could be a report of another thing restating a few: with
    nothing else that names the event, they are not weighed."""
    when = datetime(2026, 5, 12, 9, 0, tzinfo=UTC)
    report = _text(
        (
            "harbor",
            "report",
            "Port authority posts record cargo year",
            "The port authority handled 48.6 million tonnes of cargo last year, up 7.2%, and "
            "1.35 million containers, its busiest year, the authority's annual report said on "
            "Tuesday. Cruise calls rose to 212. It will spend $340 million on a new quay, "
            "dredge a 14.5-metre channel and hire 390 staff.",
            when,
        )
    )
    body = (
        "Cargo through the harbour rose 7.2% to 48.6 million tonnes and 1.35 million boxes "
        "crossed its quays, the annual report of the port authority shows. Ships called 212 "
        "times with cruise passengers. Dockers' pay rose 4.5% and 96 jobs were added."
    )
    told = ("meridian", "told", "Busiest year yet at the harbour", body, when + timedelta(hours=1))
    fewer = body.replace(" and 1.35 million boxes crossed its quays", "").replace(
        "96 jobs were added.", "96 jobs were added and 1,800 trucks a day used the gates."
    )
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    found = signals(report, _text(told), rarity, "same_event")
    assert found.telling == (4, 6) and not found.names and found.words >= 0.30
    assert verdict(report, _text(told), rarity, rules) is not None
    assert verdict(_text(told), report, rarity, rules) is not None
    three = _text((*told[:3], fewer, told[4]))
    assert signals(report, three, rarity, "same_event").telling == (3, 6)
    assert verdict(report, three, rarity, rules) is None


#: A regatta's day: the men's final, a feature on its crowd that names no rower, and the
#: women's final, whose report shares the lake, the day and the crowd with the feature.
REGATTA_WHEN = datetime(2026, 2, 21, 3, 0, tzinfo=UTC)
MENS_FINAL = (
    "harbor",
    "mens",
    "Ngata wins single sculls title at Lake Karapiro",
    "Hamish Ngata won the men's single sculls final at the New Zealand Rowing "
    "Championships at Lake Karapiro on Saturday, beating Olympic finalist Jonas "
    "Whitcombe in 6:48.31. Ngata, 22, from the Waikato Rowing Club, led from the 500m "
    "mark. Coach Brenda Tuhiwai said he had trained twice a day since November. "
    "Whitcombe, of Union Boat Club, finished 2.4 seconds back, with Ollie Harrow third. "
    "A crowd of 3,200 lined the bank.",
    REGATTA_WHEN,
)
REGATTA_CROWD = (
    "meridian",
    "crowd",
    "Lake Karapiro crowd roars home a single sculls champion",
    "A crowd of 3,200 lined the bank at Lake Karapiro on Saturday as the New Zealand "
    "Rowing Championships reached their single sculls finals. Families on picnic rugs, "
    "club banners along the fence and a brass band by the finish tower made it the "
    "loudest day of the regatta, organisers said.",
    REGATTA_WHEN + timedelta(hours=1),
)
WOMENS_FINAL = (
    "ledger",
    "womens",
    "Fraser takes women's sculls crown at Lake Karapiro",
    "Isla Fraser won the women's single sculls final at the national championships at "
    "Lake Karapiro on Saturday in 7:31.05, holding off Mereana Pohatu by a length. "
    "Fraser, 27, of the Avon Rowing Club, said the tailwind suited her. Selector Colin "
    "Reddy watched from the finish tower. Pohatu, of Hawke's Bay Rowing, was 3.1 "
    "seconds back and Tessa Gray third, before 3,200 spectators.",
    REGATTA_WHEN + timedelta(hours=2),
)


def test_reports_naming_other_people_at_one_place_are_two_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The men's and the women's final of one regatta share its lake, its day, its crowd
    and its words, but each names five or more other people and clubs: they are two
    events. A report of the men's final written apart names its people alike and folds."""
    mens, womens = _text(MENS_FINAL), _text(WOMENS_FINAL)
    told = _text(
        (
            "meridian",
            "told",
            "Waikato's Ngata upsets Whitcombe on Karapiro",
            "An upset on the water: Olympic finalist Jonas Whitcombe was beaten into second "
            "by Hamish Ngata, the 22-year-old from the Waikato Rowing Club, whose 6:48.31 took "
            'the title. "We\'ve waited years for this," said Brenda Tuhiwai, his coach, at the '
            "New Zealand Rowing Championships on Lake Karapiro. Ollie Harrow came third.",
            REGATTA_WHEN + timedelta(hours=1),
        )
    )
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    apart = signals(mens, womens, rarity, "same_event")
    assert apart.phrases == ("lake_karapiro",) and apart.words >= 0.30
    assert len(mens.words.phrases) >= NAMED_APART <= len(womens.words.phrases)
    assert verdict(mens, womens, rarity, rules) is None
    assert verdict(womens, mens, rarity, rules) is None
    one_event = verdict(told, mens, rarity, rules)
    assert one_event is not None and one_event.rule == "same_event"
    # It is the names that keep them apart: weighed without the names each states and the
    # other does not, the two finals would fold.
    unweighed = ("named_apart", "unnamed_fewer", "unnamed_more")
    weights = {name: 0.0 if name in unweighed else w for name, w in EVENT_WEIGHTS.items()}
    monkeypatch.setattr(same_story, "EVENT_WEIGHTS", weights)
    assert verdict(mens, womens, rarity, rules) is not None


#: That afternoon, at the same plant: another fire, fought by about 40 firefighters, for
#: which residents within 300 metres were told to stay indoors (the morning's: about 120,
#: and 800 metres). The report the morning's story is matched by (``FIRE_B``) states
#: neither quantity so; the story's other report states both.
FIRE_AGAIN = (
    "ledger",
    "fire-again",
    "Kestrel Chemicals plant in Port Alder burns again",
    "Fire crews returned to the Kestrel Chemicals factory in Port Alder on Tuesday after "
    "a second fire broke out in a packing shed. About 40 firefighters were sent, and "
    "Fire Chief Dana Morrow said residents within 300 metres were told to keep windows "
    "closed until the smoke cleared. Nobody was hurt, the company said, and the cause "
    "of both fires is being investigated.",
    datetime(2026, 3, 3, 17, 30, tzinfo=UTC),
)


def test_a_report_joins_a_story_only_if_no_member_gives_other_figures(store: Store) -> None:
    """The afternoon's fire matches the morning's second report as one event (the same
    plant, city and fire chief, and no figure that report states otherwise), but the
    first report counts 120 firefighters, not 40, and residents within 800 metres, not
    300: it is another fire."""
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    first, second, again = (_text(told) for told in (FIRE_A, FIRE_B, FIRE_AGAIN))
    matched = verdict(again, second, rarity, rules)
    assert matched is not None and matched.rule == "same_event"
    assert verdict(again, first, rarity, rules) is None  # other figures
    assert not members_allow(again.figures, [first.figures, second.figures])
    assert members_allow(second.figures, [first.figures])
    for told in (FIRE_A, FIRE_B, FIRE_AGAIN):
        save(store, told)
    assert groups(store) == {frozenset({"fire-a", "fire-b"}), frozenset({"fire-again"})}


def test_a_report_joins_a_story_only_if_it_is_one_event_with_its_tellings_together(
    store: Store,
) -> None:
    """The crowd feature is one event with the men's final; the women's final matches the
    feature (the lake, the day, the crowd of 3,200, and no figure apart) but not what the
    story's two tellings say together, which names the men's rowers: it stays apart."""
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    mens, crowd, womens = (_text(told) for told in (MENS_FINAL, REGATTA_CROWD, WOMENS_FINAL))
    assert verdict(crowd, mens, rarity, rules) is not None
    matched = verdict(womens, crowd, rarity, rules)
    assert matched is not None and matched.rule == "same_event"
    assert members_allow(womens.figures, [mens.figures, crowd.figures])
    assert verdict(womens, told_together([mens, crowd]), rarity, rules) is None
    for told in (MENS_FINAL, REGATTA_CROWD, WOMENS_FINAL):
        save(store, told)
    assert groups(store) == {frozenset({"mens", "crowd"}), frozenset({"womens"})}


#: An airline's collapse, told apart three times: the wire's report, passengers stranded
#: at two airports, and the towns left with no air service. The passengers' report
#: matches neither other alone; what the two tell together it shares.
COLLAPSE_WHEN = datetime(2026, 8, 20, 22, 40, tzinfo=UTC)
AIRLINE_COLLAPSE = (
    "harbor",
    "collapse",
    "Australian regional carrier Brolga Airlines collapses into administration, grounds fleet",
    "SYDNEY — Brolga Airlines, a regional carrier serving 21 towns in eastern Australia, "
    "entered voluntary administration late on Thursday and grounded all of its flights "
    "from Friday, stranding thousands of travelers.\n\n"
    "The Tamworth-based airline, which flies 22 turboprop aircraft — 14 Saab 340s and "
    "eight ATR 72s — on 34 routes in New South Wales, Queensland and Victoria, said about "
    "14,000 passengers were booked to fly with it over the next two weeks. It employs "
    "about 610 people.\n\n"
    "Administrators Anastasia Kouris and Lachie Ormond of restructuring firm Garland "
    "Penhallow said the airline owed about A$170 million ($110 million), mostly to "
    'aircraft lessors, fuel suppliers, airports and staff. "Our immediate priority is to '
    "secure the aircraft, look after employees and work out whether any part of the "
    'network can be flown again quickly," Kouris said in a statement.\n\n'
    "Chief Executive Bettina Crowley said the board had made the decision after a planned "
    "A$45 million capital raising fell through on Thursday afternoon. Rising fuel costs "
    "and a shortage of pilots and engineers had forced the airline to cancel about one in "
    "12 of its flights this year, she said.\n\n"
    "Passengers were told not to go to airports and to seek refunds through their card "
    "providers or travel insurers. Brolga, founded in 2009, is privately owned.",
    COLLAPSE_WHEN,
)
STRANDED = (
    "meridian",
    "stranded",
    "'I waited four months for that appointment': passengers stranded as Brolga grounds its planes",
    "Clive Dunmore was standing at the check-in desk at Moree airport at 6.15am on "
    "Friday, bag at his feet, when a staff member taped a sheet of paper to the counter. "
    '"No flights today. That\'s all it said," said Mr Dunmore, 67, a wheat and chickpea '
    "grower. \"I've got a heart specialist in Sydney at two o'clock. I waited four months "
    'for that appointment."\n\n'
    "Across regional New South Wales and Queensland, travellers woke to text messages "
    "from Brolga Airlines telling them their flights had been cancelled, after the "
    "company went into voluntary administration overnight. The airline, which flies "
    "turboprops out of its base at Tamworth to country towns from Victoria to central "
    "Queensland, has grounded its entire fleet.\n\n"
    "At Tamworth Airport about 40 people queued at an unstaffed Brolga desk. Some had "
    "booked connections to international flights in Sydney; others were simply trying to "
    "get home. \"My daughter's eight and she's with her nan in Narrabri, and I'm stuck "
    "here. There's no coach until tomorrow,\" said Shanelle Pickett, 34, a nurse.\n\n"
    "The administrators, Garland Penhallow, said thousands of bookings were affected and "
    "advised customers to ask their banks for refunds.\n\n"
    "Mr Dunmore had rung the hospital and moved his appointment to Monday. His son would "
    'drive him to Sydney on Sunday, about seven hours each way. "At my age," he said. '
    '"Still, at least the ute doesn\'t need a pilot."',
    COLLAPSE_WHEN + timedelta(minutes=90),
)
TOWNS_LEFT = (
    "ledger",
    "towns",
    "Brolga's fall leaves seven country towns with no airline at all",
    "For seven of the 21 towns Brolga Airlines serves, the carrier's collapse on Thursday "
    "night means there is now no scheduled air service of any kind.\n\n"
    "The Tamworth-based airline, which went into voluntary administration owing about "
    "A$170m, flew the kind of routes larger airlines avoid: 34-seat Saab turboprops "
    "shuttling a few times a day between inland towns and the coastal cities, often with "
    "half their seats empty. Its more than 600 staff were told on Friday morning that all "
    "flights were suspended until further notice.\n\n"
    "Meera Raman, an aviation consultant, said the company had been squeezed for years. "
    '"Regional flying in Australia runs on very thin margins. Fuel has gone up, insurance '
    "has gone up, and every pilot you train on a Saab gets hired by a bigger airline "
    'within two years," she said. "The Saab 340 went out of production at the end of the '
    '1990s. Keeping them in the air gets dearer every year."\n\n'
    "Rural doctors warned that patients who flew to specialist appointments in Sydney and "
    "Brisbane would now face drives of up to eight hours, and several councils that own "
    "their airports rely on Brolga's landing fees.\n\n"
    "Ms Raman said the most likely outcome was that a buyer would take on part of the "
    'network. "Some of these routes will come back," she said. "Not all 34."',
    COLLAPSE_WHEN + timedelta(minutes=135),
)


def test_a_story_told_together_with_a_report_takes_in_a_report_neither_matched(
    store: Store,
) -> None:
    """The passengers' report is placed first beside the wire's and matches it not as
    one event; the towns' report joins the wire's. What the two say together (the
    administrators, the airline's base, its states) the passengers' report shares: its
    story is merged into theirs, and its explanation says so."""
    for told in (AIRLINE_COLLAPSE, STRANDED, TOWNS_LEFT):
        save(store, told)
    assert groups(store) == {frozenset({"collapse", "stranded", "towns"})}
    stranded = store.article(story_id(STRANDED[0], STRANDED[1]))
    assert stranded is not None
    assert stranded.fold_rule == "merged"
    assert "2 tellings told together" in (stranded.fold_evidence or "")


#: Five hours after the wire's report of the collapse, and under three after the towns'
#: report: the administrators' first day, with new facts (two bidders, three routes back
#: on Monday) beside what the day's reports said.
BIDDERS = (
    "harbor",
    "bidders",
    "Brolga administrators in talks with two bidders, three routes to fly again Monday",
    "The administrators of Brolga Airlines said on Friday afternoon they were in talks "
    "with two parties interested in buying the collapsed regional carrier, and that three "
    "of its 34 routes would fly again from Monday under a deal with its lessors.\n\n"
    "Anastasia Kouris of Garland Penhallow said the Tamworth-based airline's Saab 340 "
    'flights from Tamworth to Sydney, Moree and Narrabri would resume. "We have had '
    'genuine interest from two parties, one of them an existing Australian airline," '
    "Kouris said. The airline owes about A$170 million and employs about 610 people; "
    "staff would be paid for the week.\n\n"
    "Passengers booked on other routes should still seek refunds through their card "
    "providers, the administrators said. A first meeting of creditors is set for "
    "September 1 in Sydney.",
    COLLAPSE_WHEN + timedelta(hours=5),
)


def test_a_same_day_follow_up_is_weighed_against_a_story_from_its_first_telling(
    store: Store,
) -> None:
    """The administrators' afternoon report is one event with the towns' report alone,
    published under three hours before it, but the story's first telling came five hours
    before: reports of one event written apart come within ``CLOSE_HOURS`` of its first,
    and against the story told together, dated as that telling, it is a follow-up."""
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    collapse, stranded, towns, bidders = (
        _text(told) for told in (AIRLINE_COLLAPSE, STRANDED, TOWNS_LEFT, BIDDERS)
    )
    matched = verdict(bidders, towns, rarity, rules)
    assert matched is not None and matched.rule == "same_event"
    together = told_together([collapse, stranded, towns])
    assert together.date == COLLAPSE_WHEN
    assert verdict(bidders, together, rarity, rules) is None
    assert verdict(bidders, dataclasses.replace(together, date=towns.date), rarity, rules)
    for told in (AIRLINE_COLLAPSE, STRANDED, TOWNS_LEFT, BIDDERS):
        save(store, told)
    assert groups(store) == {
        frozenset({"collapse", "stranded", "towns"}),
        frozenset({"bidders"}),
    }


#: A slide's morning report, and the evening's: the same mountain, party, ages, sizes and
#: search manager, restated beside what is new (the party set it off, the coroner).
SLIDE_WHEN = datetime(2026, 2, 14, 17, 30, tzinfo=UTC)
SLIDE = (
    "meridian",
    "slide",
    "Avalanche near Revelstoke buries two backcountry skiers, killing one",
    "REVELSTOKE, B.C. — An avalanche on Mount Cartier south of Revelstoke buried two "
    "backcountry skiers on Saturday morning, killing a 42-year-old man from Kelowna, "
    "Revelstoke Search and Rescue said.\n\n"
    "The size 2.5 slide, about 300 metres wide, ran 800 metres down the Hourglass Bowl "
    "shortly after 10:15 a.m. A second skier, a 38-year-old woman, was dug out by the "
    "rest of their party of five and flown to Queen Victoria Hospital with a broken leg.\n\n"
    "Avalanche Canada had rated the danger in the Selkirk Mountains considerable, warning "
    "of a buried weak layer of surface hoar about 90 centimetres down. Search manager "
    "Colette Ruelland said the group carried transceivers, probes and shovels.",
    SLIDE_WHEN,
)
SLIDE_EVENING = (
    "ledger",
    "slide-cause",
    "Revelstoke avalanche that killed Kelowna skier was triggered by his party, search team says",
    "REVELSTOKE, B.C. — The avalanche that buried two backcountry skiers on Mount Cartier "
    "on Saturday, killing a 42-year-old man from Kelowna, was set off by their own party "
    "as it crossed the Hourglass Bowl, Revelstoke Search and Rescue said in the evening.\n\n"
    "Search manager Colette Ruelland said the size 2.5 slide, about 300 metres wide and "
    "800 metres long, released on the buried layer of surface hoar about 90 centimetres "
    "down that Avalanche Canada had warned of. The 38-year-old woman dug out by the party "
    "of five was in stable condition at Queen Victoria Hospital.\n\n"
    "The coroner has opened an investigation. Parks officials closed the Hourglass Bowl "
    "trailhead until Monday.",
    SLIDE_WHEN + timedelta(hours=7),
)


def test_a_report_restating_an_event_later_the_same_day_is_not_one_event_by_its_words(
    store: Store,
) -> None:
    """Seven hours after the morning's report, the evening's restates its words, names
    and every telling figure, and scores far above the event score: later the same day
    such a report is a follow-up far more often than a late telling, and no signal tells
    them apart. Published within ``CLOSE_HOURS``, the same texts are one story."""
    rarity = Rarity({}, limit=64)
    rules = Rules(threshold=0.22, event_score=EVENT_SCORE, event_window=timedelta(hours=24))
    morning, evening = _text(SLIDE), _text(SLIDE_EVENING)
    assert _score(evening, morning, rarity, rules) > 0.95
    found = signals(evening, morning, rarity)
    assert found.telling == (6, 6) and found.figures_agree
    assert verdict(evening, morning, rarity, rules) is None
    assert verdict(morning, evening, rarity, rules) is None
    sooner = dataclasses.replace(evening, date=SLIDE_WHEN + timedelta(hours=3))
    assert verdict(sooner, morning, rarity, rules) is not None
    for told in (SLIDE, SLIDE_EVENING):
        save(store, told)
    assert groups(store) == {frozenset({"slide"}), frozenset({"slide-cause"})}


#: One evening of a city commission: two votes, the second report naming the first. Both
#: share the city, the commission, the downtown, the day and its words; their tallies
#: differ.
COMMISSION_WHEN = datetime(2026, 3, 17, 3, 0, tzinfo=UTC)
TURNS_VOTE = (
    "harbor",
    "turns",
    "Millbrook bans right turns on red at 41 downtown intersections",
    "MILLBROOK — Drivers in downtown Millbrook will no longer be allowed to turn right on "
    "a red light at 41 intersections after the City Commission voted 4-3 late Monday to "
    "approve the ban, citing crashes involving pedestrians and cyclists. Mayor Delia "
    "Okafor said the rule takes effect on June 1. The signs will cost about $61,000.",
    COMMISSION_WHEN,
)
TURNS_VOTE_RETOLD = (
    "meridian",
    "turns-retold",
    "Millbrook commission narrowly votes to end right on red downtown",
    "A divided Millbrook City Commission voted 4-3 on Monday night to stop drivers turning "
    "right on red across 41 downtown intersections. Mayor Delia Okafor cast the deciding "
    "vote, saying pedestrians and cyclists had been hurt in too many crashes. About $61,000 "
    "of new signs go up before the ban starts.",
    COMMISSION_WHEN + timedelta(hours=1),
)
STREETS_VOTE = (
    "ledger",
    "streets",
    "Millbrook to turn two downtown one-way streets into two-way roads",
    "MILLBROOK — Two of downtown Millbrook's busiest one-way streets will carry traffic in "
    "both directions after the City Commission voted 5-2 on Monday night to spend $2.9 "
    "million converting them. Mayor Delia Okafor said drivers had been speeding through "
    "downtown, and that pedestrians and cyclists would be safer. Work starts in the "
    "summer. The ban on right turns on red at 41 downtown intersections, approved at the "
    "same meeting, takes effect in June.",
    COMMISSION_WHEN + timedelta(hours=2),
)


def test_two_votes_of_one_meeting_are_two_events_by_their_tallies(store: Store) -> None:
    """Reports of one vote state its tally; another vote of the same council, the same
    evening, has its own, which both of its sides keep apart."""
    turns, streets = _text(TURNS_VOTE), _text(STREETS_VOTE)
    assert not signals(streets, turns, Rarity({}, limit=64)).figures_agree
    for told in (TURNS_VOTE, TURNS_VOTE_RETOLD, STREETS_VOTE):
        save(store, told)
    assert groups(store) == {frozenset({"turns", "turns-retold"}), frozenset({"streets"})}
