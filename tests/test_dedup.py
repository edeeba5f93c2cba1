"""The near-duplicate core with plain values: what folds, what must not, what the story
text keeps, that sketches are stable for ever, and the labelled set's figures."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator import dedup as dedup_module
from aggregator.config.settings import DedupSettings
from aggregator.dedup import (
    BANDS,
    SKETCH_SIZE,
    Fingerprint,
    Match,
    band_keys,
    best_match,
    content_hash,
    figures,
    figures_agree,
    numbers,
    similarity,
    sketch,
    story_text,
    telling_values,
)

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "benchmarks" / "dedup" / "data" / "stories.jsonl"
THRESHOLD = DedupSettings().threshold


def fingerprint(title: str, body: str) -> Fingerprint:
    """As the pipeline does it: body text with its whitespace folded."""
    return Fingerprint.of(title, " ".join(body.split()))


def folds(new: Fingerprint, old: Fingerprint, threshold: float = THRESHOLD) -> Match | None:
    return best_match(new, [("old", old.signature, old.figures)], threshold)


# -- retellings fold -------------------------------------------------------------------------

KO_WIRE = (
    '한은, 기준금리 연 3.00% 동결…"환율 변동성 더 지켜봐야"',
    """(서울=연합뉴스) 김민수 기자 = 한국은행 금융통화위원회는 4일 서울 중구 한은 본관에서
    통화정책방향 회의를 열고 기준금리를 현재의 연 3.00%로 유지하기로 했다.
    지난해 10월과 11월 두 차례 연속 인하한 뒤 올해 1월에 이어 두 번째 동결이다.
    금통위는 의결문에서 "원/달러 환율의 변동성이 여전히 큰 만큼 추가 인하 시기는 신중하게
    판단하겠다"고 밝혔다. 이날 결정에는 금통위원 6명이 모두 찬성했다.
    다만 금통위원 4명은 3개월 안에 기준금리를 더 내릴 가능성을 열어둬야 한다는 의견을 냈다.
    한은은 올해 경제성장률 전망치도 1.9%에서 1.6%로 0.3%포인트 낮췄다.
    mskim@yna.co.kr <저작권자(c) 연합뉴스, 무단 전재-재배포, AI 학습 및 활용 금지>""",
)
KO_RETOLD = (
    '기준금리 3.00% 두 번째 동결…금통위원 4명 "3개월 내 인하 열어둬야"',
    """(서울=뉴스1) 이지현 기자 = 한국은행이 기준금리를 연 3.00%로 묶었다. 한은
    금융통화위원회는 4일 오전 통화정책방향 결정 회의에서 만장일치로 이같이 결정했다.
    작년 10월과 11월 두 차례 연속 인하한 뒤 올해 1월에 이어 두 번째 동결이다.
    다만 금통위원 4명은 3개월 안에 기준금리를 더 내릴 가능성을 열어둬야 한다는 의견을 냈다.
    금통위는 의결문에서 "원/달러 환율의 변동성이 여전히 큰 만큼 추가 인하 시기는 신중하게
    판단하겠다"고 전했다. 한은은 올해 경제성장률 전망치도 1.9%에서 1.6%로 0.3%포인트
    낮췄다. 시장에서는 이르면 5월 회의에서 추가 인하가 이뤄질 수 있다는 관측이 나온다.
    © 뉴스1코리아(news1.kr), 무단 전재 및 재배포, AI학습 이용 금지""",
)
EN_WIRE = (
    "Skyline Air grounds flights across Europe after IT outage",
    """LONDON, March 27 (Reuters) - Budget airline Skyline Air grounded all its flights
    across Europe on Friday morning after a technical failure knocked out its booking and
    check-in systems, the company said. About 380 departures were cancelled or delayed by
    10 a.m., affecting an estimated 60,000 passengers. Skyline said the outage was caused by
    a faulty software update at a third-party provider and was not the result of a
    cyberattack. Services began to resume at 11:30 a.m., but the airline warned of knock-on
    disruption for the rest of the day. Reporting by Ann Carter; Editing by Tom Ellis
    Our Standards: The Thomson Reuters Trust Principles.""",
)
EN_RETOLD = (
    "Skyline Air flights grounded by IT failure",
    """Priya Nair Business reporter, BBC News All Skyline Air flights across Europe were
    grounded on Friday morning after a technical problem took down its booking and check-in
    systems. About 380 departures were cancelled or delayed by 10 a.m., affecting an
    estimated 60,000 passengers. Skyline said the outage was caused by a faulty software
    update at a third-party provider and was not the result of a cyberattack. Services began
    to resume at 11:30 a.m., but the airline warned of knock-on disruption for the rest of
    the day. The airline advised passengers not to go to the airport unless their flight had
    been confirmed.""",
)


def test_a_korean_retelling_folds() -> None:
    wire, retold = fingerprint(*KO_WIRE), fingerprint(*KO_RETOLD)
    match = folds(retold, wire)
    assert match is not None and match.article_id == "old"
    assert match.score >= THRESHOLD


def test_an_english_retelling_folds() -> None:
    wire, retold = fingerprint(*EN_WIRE), fingerprint(*EN_RETOLD)
    match = folds(retold, wire)
    assert match is not None and match.score >= THRESHOLD


def test_a_broadcast_telling_with_polite_endings_is_as_close_as_print() -> None:
    print_copy = fingerprint("동결", "한국은행이 기준금리를 연 3%로 동결했다. 두 번째 동결이다.")
    broadcast = fingerprint(
        "동결", "한국은행이 기준금리를 연 3%로 동결했습니다. 두 번째 동결입니다."
    )
    assert similarity(print_copy.signature, broadcast.signature) == 1.0


# -- template stories with other facts stay apart --------------------------------------------

KOSPI = (
    "코스피, 외국인 매수에 {pct}% 상승…{close} 마감",
    """(서울=연합뉴스) 장민호 기자 = {day}일 코스피가 외국인과 기관의 동반 매수에 힘입어 상승
    마감했다. 이날 유가증권시장에서 코스피는 전 거래일보다 {chg}포인트({pct}%) 오른 {close}에
    장을 마쳤다. 유가증권시장에서 외국인은 {fgn}억원, 기관은 {inst}억원어치를 각각
    순매수했다. 코스닥지수는 전 거래일보다 {kchg}포인트({kpct}%) 오른 {kq}로 거래를 마쳤다.
    서울 외환시장에서 원/달러 환율은 전 거래일보다 {fxchg}원 내린 {fx}원에 마감했다.""",
)
MONDAY = dict(day=9, pct="1.19", close="2,490.04", chg="29.72", fgn="3,521", inst="1,410",
              kchg="11.87", kpct="1.64", kq="724.03", fxchg="1.6", fx="1,434.0")  # fmt: skip
TUESDAY = dict(day=10, pct="0.42", close="2,500.51", chg="10.47", fgn="1,208", inst="2,977",
               kchg="3.05", kpct="0.42", kq="727.08", fxchg="4.2", fx="1,429.8")  # fmt: skip

WEATHER = (
    "[{region} 날씨] 아침 최저 {lo}도…낮에는 {hi}도까지 올라",
    """10일 {region}은 대체로 맑겠다. {office}에 따르면 이날 아침 최저기온은 {lo}도, 낮
    최고기온은 {hi}도로 예상된다. 낮과 밤의 기온 차가 {diff}도 안팎으로 크겠으니 건강 관리에
    유의해야 한다. 미세먼지 농도는 '보통' 수준을 보이겠다. 바다의 물결은 {sea}에서
    0.5∼{wave}m로 일겠다. {office}은 "아침 출근길 쌀쌀한 날씨에 대비해 옷차림에 신경 써
    달라"고 당부했다.""",
)
SEOUL = dict(region="서울", office="수도권기상청", lo=2, hi=14, diff=12, sea="서해 중부 앞바다",
             wave="1.5")  # fmt: skip
BUSAN = dict(region="부산", office="부산지방기상청", lo=6, hi=17, diff=11, sea="남해 동부 앞바다",
             wave="2.0")  # fmt: skip


def told(template: tuple[str, str], facts: dict[str, object]) -> Fingerprint:
    title, body = template
    return fingerprint(title.format(**facts), body.format(**facts))


def test_market_closes_with_different_figures_do_not_fold() -> None:
    monday, tuesday = told(KOSPI, MONDAY), told(KOSPI, TUESDAY)
    assert similarity(monday.signature, tuesday.signature) >= THRESHOLD  # alike in words…
    assert not figures_agree(monday.figures, tuesday.figures)  # …not in facts
    assert folds(tuesday, monday) is None


def test_weather_by_region_does_not_fold() -> None:
    seoul, busan = told(WEATHER, SEOUL), told(WEATHER, BUSAN)
    assert similarity(seoul.signature, busan.signature) >= THRESHOLD
    assert folds(busan, seoul) is None


def test_the_same_close_told_again_folds() -> None:
    assert folds(told(KOSPI, MONDAY), told(KOSPI, MONDAY)) == Match("old", 1.0)


def test_figures_are_read_the_way_outlets_write_them() -> None:
    assert numbers("2천817만6천명") == numbers("2817만6000명") == {"28176000"}
    assert numbers("19만3천명, 19.3만명") == {"193000"}
    assert numbers("연 3.00%, 1.50%포인트") == {"3", "1.5"}
    assert numbers("$1.96 billion or 1.96bn") == {"1960000000"}
    assert numbers("Thirty-one cars, twelve homes") == {"31", "12"}
    # A broadcast script counts in native Korean numbers: "서른아홉 명" is 39, as "39명".
    assert numbers("환자 서른아홉 명, 열두 곳") == {"39", "12"}
    assert numbers("두 번째 확진, 120세대") == {"120"}  # an ordinal; households, not 3
    # A unit character belongs to the digits it follows, not to the next word.
    assert numbers("1조 2천억원") == {"1200000000000"}
    assert numbers("2025 천하장사 씨름대회, 3 백화점") == {"2025", "3"}


def test_short_forms_of_money_and_broadcast_counts_are_their_values() -> None:
    # Money after a currency sign is written in millions as "m"; a height is not.
    assert numbers("cut the award from €2.59m to €1.94m") == numbers(
        "cut the award from 2.59 million euros to 1.94 million euros"
    )
    assert numbers("a record £38M move") == numbers("a $38-million deficit") == {"38000000"}
    assert numbers("she cleared 2.33m at the first attempt") == {"2.33"}
    # The other scales written short: "$3.5B", "$250K", "C$150mn" (a scale word).
    assert numbers("a $3.5B deal") == numbers("a 3.5 billion dollar deal") == {"3500000000"}
    assert numbers("a $250K salary, C$150mn a year") == {"250000", "150000000"}
    # A broadcast script writes 1,240 as "천2백4십"; 천 inside a word is no number.
    assert numbers("독수리는 모두 천2백4십 마리, 지난해보다 2백6십 마리 많다") == {"1240", "260"}
    assert numbers("들판에 천2백여 마리") == numbers("들판에 1,200여 마리") == {"1200"}
    assert numbers("인천2공장과 백화점 3곳") == {"2", "3"}
    # Read so, a broadcast telling and a print one state the same telling figures.
    broadcast = figures("먹이터에서 센 독수리는 모두 천2백4십 마리. 지난겨울보다 2백6십 마리")
    print_telling = figures("독수리 1,240마리를 확인했다. 지난겨울 최다 기록보다 260마리 많다.")
    assert telling_values(broadcast) == telling_values(print_telling) == {"1240", "260"}


def test_one_figure_left_out_or_restated_is_no_conflict() -> None:
    full = fingerprint("t", "취업자는 2817만6천명으로 19만3천명 늘었다. 실업률은 3.2%였다.")
    short = fingerprint("t", "취업자는 2817만6000명으로 19만3000명 늘었다.")
    assert figures_agree(full.figures, short.figures)
    other_month = fingerprint("t", "취업자는 2790만1천명으로 12만8천명 늘었다. 실업률은 3.2%였다.")
    assert not figures_agree(full.figures, other_month.figures)


def test_a_tally_is_one_figure_of_two_sides() -> None:
    # A vote's or a game's tally, whichever team is named first; not a range or a date.
    assert figures("The council voted 4-3 on Monday") == {"vote|-|4-3"}
    assert figures("They beat Canada 2-1") == {"nada|-|2-1"}
    assert numbers("해오름을 3-2로 꺾었다") == numbers("해오름에 2-3으로 졌다") == {"3-2"}
    assert numbers("snow of 10-15 cm, aged 18-24 years, 18-24세") == {"10", "15", "18", "24"}
    dated = numbers("on 2026-03-17, call 02-123-4567, in 2021-25")
    assert {"2026", "4567", "2021"} <= dated and not any("-" in value for value in dated)
    # Its sides still count as the texts' values, as when read apart ("14 to 6").
    assert telling_values(figures("approved 14-6 and $9.4 million")) == {"14", "9400000"}


def test_a_result_written_with_its_unit_between_is_one_figure() -> None:
    # Korean results write a height or a time as whole and hundredths around the unit.
    assert numbers("2m33을 넘었다") == {"2.33"}
    assert numbers("13초31로 한국 신기록") == {"13.31"}
    assert numbers("1분55초12로 우승, 준우승은 2분08초") == {"115.12", "128"}
    # A clock time stays a clock time: hours, minutes and seconds apart.
    assert numbers("오후 3시 10분 30초") == {"3", "10", "30"}
    # Two reports of one high jump name its heights in other orders and sentences.
    one = figures("남궁휘준은 2m25, 2m31을 차례로 넘은 뒤 2m33에서 세 번째 시기에 성공했다.")
    other = figures(
        "남궁휘준은 2m30에서 한 번 실패했지만 2m33을 넘어 우승했다. 2위는 2m31에 그쳤다."
    )
    assert figures_agree(one, other, min_shared=0)


def test_two_votes_of_one_council_disagree_on_their_tallies() -> None:
    bans = figures("The City Commission voted 4-3 late Monday to ban right turns on red.")
    converts = figures("The City Commission voted 5-2 on Monday night to convert the streets.")
    assert not figures_agree(bans, converts, min_shared=0)  # both sides differ
    told_again = figures("Commissioners voted 4-3 to ban turns on red at 38 intersections.")
    assert figures_agree(bans, told_again, min_shared=0)
    # One side apart is one conflict of the two that keep texts apart.
    one_side = figures("The City Commission voted 4-2 on Monday.")
    assert figures_agree(bans, one_side, min_shared=0)
    # A single value against a tally (a text read before tallies were: its first side
    # alone) matches by the tally's first side.
    assert figures_agree(bans, frozenset({"vote|-|4", "####||3"}), min_shared=0)
    # A vote's tally read before votes were keyed as such keeps its letters ("oted"): it
    # is not compared with one keyed "vote", as two texts' tallies of other words were not.
    assert figures_agree(converts, frozenset({"oted|-|4-3"}), min_shared=0)


def test_a_vote_is_one_quantity_however_it_is_worded() -> None:
    """Two votes of one meeting, one "voted" and the other "passed": their tallies measure
    a vote each, and disagree; a report of the same vote worded otherwise agrees."""
    sale = figures("Councillors voted 38-24 for the sales at a full council meeting.")
    ban = figures("The motion, passed 49-13 at Shire Hall, covers country parks.")
    assert not figures_agree(sale, ban, min_shared=0)
    sale_again = figures("The sale of 14 farms was approved by 38 votes to 24, or 38-24.")
    assert figures_agree(sale, sale_again, min_shared=0)
    # A game's score is keyed by what comes before it, as before: a vote named in another
    # sentence does not make it one.
    game = figures("The motion was carried. Later the Owls beat Stanmere 71-64.")
    assert "vote|-|71-64" not in game


# -- the story text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "body", "gone", "kept"),
    [
        (
            "제목",
            "(서울=연합뉴스) 김민수 기자 = 한국은행이 금리를 동결했다. mskim@yna.co.kr "
            "<저작권자(c) 연합뉴스, 무단 전재-재배포, AI 학습 및 활용 금지>",
            ["연합뉴스", "김민수", "mskim", "무단", "저작권"],
            "한국은행이 금리를 동결했다.",
        ),
        (
            "제목",
            "[부산=뉴시스]박상훈 기자 = 해운대에서 불이 났다. "
            "ⓒ 한겨레신문사 무단전재 및 재배포 금지",
            ["뉴시스", "박상훈", "한겨레", "무단"],
            "해운대에서 불이 났다.",
        ),
        (
            "제목",
            "[앵커] 의성 산불이 사흘째입니다. [리포트] 진화율은 68%입니다. KBS 뉴스 전태윤입니다. "
            "※ 저작권자 ⓒ KBS. 무단 전재, 재배포 및 이용(AI 학습 포함) 금지",
            ["앵커", "리포트", "전태윤", "KBS"],
            "진화율은 68%입니다.",
        ),
        (
            "제목",
            "[앵커] 빗물받이 덮개 도둑이 붙잡혔습니다. 방도윤 기자입니다. [기자] 경찰은 두 사람을 "
            "구속했습니다. 온누리방송 방도윤입니다.",
            ["방도윤", "온누리방송", "기자"],
            "경찰은 두 사람을 구속했습니다.",
        ),
        (
            "Title",
            "SEOUL, Nov. 20 (Yonhap) -- North Korea fired missiles on Sunday. (END)",
            ["Yonhap", "SEOUL", "END"],
            "North Korea fired missiles on Sunday.",
        ),
        (
            "Title",
            "WASHINGTON (AP) — The Fed held rates. Associated Press writer Ann Carter contributed "
            "to this report. Copyright 2026 The Associated Press. All rights reserved. This "
            "material may not be published, broadcast, rewritten or redistributed without "
            "permission.",
            ["WASHINGTON", "(AP)", "Carter", "Copyright", "material"],
            "The Fed held rates.",
        ),
        (
            "Title",
            "LIMA, Peru (Meridian Wire) — Peru's congress removed the president. A crowd "
            "(about 300 people) gathered - and stayed.",
            ["LIMA", "Meridian", "Wire"],
            "Peru's congress removed the president. A crowd (about 300 people) gathered - and",
        ),
        (
            "Title",
            "The airline grounded flights. Reporting by Ann Carter; Editing by Tom Ellis © 2026 "
            "Reuters",
            ["Carter", "Ellis", "©", "Reuters"],
            "The airline grounded flights.",
        ),
    ],
)
def test_story_text_drops_what_outlets_add(
    title: str, body: str, gone: list[str], kept: str
) -> None:
    text = story_text(title, body)
    assert kept in text
    for piece in gone:
        assert piece not in text


def test_story_text_drops_headline_labels_and_keeps_a_by_in_prose() -> None:
    assert story_text("[속보] 한은 금리 동결", "본문").startswith("한은 금리 동결")
    assert story_text("UPDATE 2-Fed holds rates", "x").startswith("Fed holds rates")
    assert "by the end of the year" in story_text("t", "Rates fall by the end of the year.")
    assert "기자간담회에서" in story_text("t", "총재는 회의 직후 기자간담회에서 말했다.")


def test_content_hash_ignores_spacing_punctuation_and_case() -> None:
    a = content_hash("The Fed held rates, again.\n\nIt said so.")
    assert a == content_hash("the fed  held rates again — it said so")
    assert content_hash("한은, 금리 동결.") == content_hash("한은 금리동결")
    assert a != content_hash("The Fed cut rates, again. It said so.")


# -- sketches --------------------------------------------------------------------------------

STABLE_TITLE = "한은, 기준금리 연 3.00% 동결"
STABLE_BODY = (
    "(서울=연합뉴스) 김민수 기자 = 한국은행 금융통화위원회는 4일 기준금리를 연 3.00%로 "
    "유지하기로 했다. The Federal Reserve held rates steady."
)
#: Computed once, when the sketch was designed. It never changes: sketches and band keys
#: are stored, and a new process (another PYTHONHASHSEED, another machine) must find them.
STABLE_FIRST_BAND = "00a1d8275bff541c37"
STABLE_LAST_BAND = "3f7a6d190517053de4"


def test_a_sketch_is_the_same_in_every_process() -> None:
    keys = band_keys(Fingerprint.of(STABLE_TITLE, STABLE_BODY).signature)
    assert len(keys) == BANDS
    assert (keys[0], keys[-1]) == (STABLE_FIRST_BAND, STABLE_LAST_BAND)
    code = (
        "from aggregator.dedup import Fingerprint, band_keys\n"
        f"print(band_keys(Fingerprint.of({STABLE_TITLE!r}, {STABLE_BODY!r}).signature)[0])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert other.stdout.strip() == STABLE_FIRST_BAND


def test_a_signature_round_trips_through_its_text() -> None:
    fp = fingerprint(*KO_WIRE)
    assert len(fp.signature) == SKETCH_SIZE
    assert Fingerprint.decode_signature(fp.encode_signature()) == fp.signature
    assert Fingerprint.decode_signature("") == ()


def test_identical_texts_are_fully_similar() -> None:
    a, b = fingerprint(*EN_WIRE), fingerprint(*EN_WIRE)
    assert similarity(a.signature, b.signature) == 1.0
    assert a == b


def test_empty_and_tiny_texts() -> None:
    empty = Fingerprint.of("", "")
    assert empty.figures == frozenset()
    assert sketch("") == sketch("— … !") == (2**64 - 1,) * SKETCH_SIZE
    assert similarity(empty.signature, empty.signature) == 0.0
    assert similarity((), ()) == 0.0
    assert similarity(sketch("짧은 글"), sketch("짧은 글")) == 1.0  # densified: still comparable
    assert len(band_keys(empty.signature)) == BANDS
    assert best_match(empty, [("x", empty.signature, empty.figures)], THRESHOLD) is None
    assert best_match(fingerprint(*EN_WIRE), [], THRESHOLD) is None
    assert best_match(fingerprint(*EN_WIRE), [("x", (), frozenset())], THRESHOLD) is None


def test_best_match_prefers_the_most_similar_then_the_smallest_id() -> None:
    new, same = fingerprint(*EN_WIRE), fingerprint(*EN_WIRE)
    retold = fingerprint(*EN_RETOLD)
    candidates = [
        ("b", retold.signature, retold.figures),
        ("z", same.signature, same.figures),
        ("y", same.signature, same.figures),
    ]
    assert best_match(new, candidates, THRESHOLD) == Match("y", 1.0)


# -- the labelled set ------------------------------------------------------------------------


def load_evaluate() -> ModuleType:
    path = ROOT / "benchmarks" / "dedup" / "evaluate.py"
    spec = importlib.util.spec_from_file_location("dedup_evaluate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_labelled_set_folds_as_measured() -> None:
    """The figures ``benchmarks/dedup/evaluate.py`` reports at the default threshold. The
    aim was precision ≥ 0.99 and recall ≥ 0.95; precision is reached (no false fold), and
    so is recall over retellings of one copy, but stories written separately from the
    same facts (AP and Reuters on one event) are folded only two times in three: overall
    pairwise recall is 0.79 (see benchmarks/dedup/README.md)."""
    evaluate = load_evaluate()
    articles = evaluate.load()
    assert len({a.cluster for a in articles}) >= 100
    result = evaluate.score(articles, THRESHOLD)
    assert result.precision >= 0.99
    assert result.copy_recall >= 0.99
    assert result.recall >= 0.79
    tuning, held_out = evaluate.halves(articles)
    for half in (tuning, held_out):
        assert evaluate.score(half, THRESHOLD).precision >= 0.99


def _story_text_unguarded(title: str, body_text: str) -> str:
    """Every boilerplate pattern applied, none skipped: what the guards must not change."""
    for pattern in dedup_module._TITLE_LABELS:
        title = pattern.sub(" ", title)
    body = body_text.strip()
    for pattern in dedup_module._BOILERPLATE:
        body = pattern.sub(" ", body)
    return f"{title.strip()}\n{body.strip()}"


def test_skipping_patterns_by_their_guards_never_changes_the_story_text() -> None:
    import json

    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(rows) > 300
    for row in rows:
        body = " ".join(row["body"].split())
        assert story_text(row["title"], body) == _story_text_unguarded(row["title"], body)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *"@-=:/[](<>)© ⓒ.",
                "(AP)",
                " by ",
                "Reporting by Kim Da-sol",
                "홍길동 기자",
                "기자",
                "무단 전재 및 재배포 금지",
                "ⓒ 한겨레",
                "(서울=연합뉴스)",
                "[사진 제공]",
                "Copyright 2026 Inc.",
                "All Rights Reserved.",
                "Sign up for our newsletter.",
                "WASHINGTON (Reuters) - ",
                "KBS 뉴스 홍길동입니다.",
                "촬영: 김철수",
                "contributed to this report.",
                "Staff writer",
                "kd/lw",
                "the",
                "금리",
                "Seoul",
            ]
        ),
        max_size=14,
    ).map("".join)
)
def test_guards_hold_on_mixed_boilerplate(body: str) -> None:
    assert story_text("t", body) == _story_text_unguarded("t", body)
