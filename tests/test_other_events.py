"""What a report shares with a report of another event is no evidence that they are one:
a paragraph that turns to another event ("Separately,", "같은 법원 형사11부는") gives no
figures and no words, and the places of one region count once."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aggregator.dedup import Fingerprint, other_event_clauses, other_events, telling_values
from aggregator.digest import Digest, digest_document
from aggregator.model import Source
from aggregator.same_story import Rarity, Text, _named_things
from aggregator.sanitize import html_paragraphs
from aggregator.words import Words

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RULING = (
    "<p>수원지법 형사12부는 18일 배임수재 혐의로 기소된 경기환경에너지공사 전 본부장 "
    "정모(58)씨에게 징역 2년 6개월을 선고하고 1억2천만원 추징을 명령했다.</p>"
    "<p>정씨는 공사 19건을 특정 업체가 따내도록 평가 기준을 바꿔 준 혐의로 기소됐다.</p>"
    "<p>같은 법원 형사11부는 이날 오후 직원 14명을 부정 합격시킨 최병하 전 원장에게 징역 2년 "
    "6개월을 선고했다.</p>"
)
REPORT = (
    "<p>Fire crews rescued 23 people from the Haydon Vale Leisure Centre on Tuesday after a "
    "chlorine leak in the plant room, and 4 were taken to hospital.</p>"
    "<p>Separately, 612 runners finished the town's half marathon, which raised £48,000.</p>"
)


def test_a_paragraph_turning_to_another_event_gives_no_figures_or_words() -> None:
    paragraphs = html_paragraphs(RULING)
    assert [p[:10] for p in other_events(paragraphs)] == ["같은 법원 형사11"]
    text = " ".join(paragraphs)
    whole = Fingerprint.of("전 본부장 징역 2년6개월", text)
    own = Fingerprint.of("전 본부장 징역 2년6개월", text, paragraphs=paragraphs)
    assert {"11", "14"} <= telling_values(whole.figures)
    assert not {"11", "14"} & telling_values(own.figures)
    assert "120000000" in telling_values(own.figures)
    # What copies are found by is the whole text.
    assert (own.content_hash, own.signature) == (whole.content_hash, whole.signature)


def test_digesting_a_feed_leaves_the_other_event_out() -> None:
    item = (
        f"<item><title>Chlorine leak at leisure centre</title><guid>g1</guid>"
        f"<description>{escape(REPORT)}</description>"
        "<pubDate>Mon, 02 Mar 2026 08:00:00 +0000</pubDate></item>"
    )
    feed = f"<rss version='2.0'><channel><title>T</title>{item}</channel></rss>".encode()
    source = Source(id="o1", url="https://o1.example/feed", name="O1", home="")
    digest = digest_document(
        feed,
        url=source.url,
        content_type="application/rss+xml",
        source=source,
        excerpt_length=200,
        now=NOW,
    )
    assert isinstance(digest, Digest)
    (_, _, fingerprint), *_ = digest.articles
    assert fingerprint is not None
    assert {"23", "4"} <= {f.rpartition("|")[2] for f in fingerprint.figures}
    assert not {"612", "48000"} & {f.rpartition("|")[2] for f in fingerprint.figures}
    read = {word for word, _ in fingerprint.words.counts}
    assert "chlorin" in read and not {"marathon", "runner", "half", "finish"} & read


def test_the_places_of_one_region_count_once() -> None:
    """Two rulings of one court on one day name its province, its city and the court;
    that is where, once. The defendant both name is a second thing."""

    def text(article_id: str, names: set[str]) -> Text:
        words = Words(tuple(sorted((name, 1) for name in names)), frozenset(names))
        return Text(article_id, (), frozenset(), words, NOW)

    rarity = Rarity({}, 64)
    places = {"경기도", "수원", "수원지법"}
    assert _named_things(text("a", places), text("b", places), rarity) == 1
    with_defendant = places | {"최병하"}
    assert _named_things(text("a", with_defendant), text("b", with_defendant), rarity) == 2
    assert _named_things(text("a", {"김천", "경북"}), text("b", {"김천", "경북"}), rarity) == 1


def test_a_sentence_setting_the_event_apart_from_another_gives_no_figures_or_words() -> None:
    """A look-alike names the event it is not, inside a paragraph of its own ("not
    connected with the outbreak in Timaru, where 23 people …", "The ruling came hours
    after another judge …", "… 숨진 데 이어 하루 두 번째 누출 사고다"): that sentence gives
    no figures and no words; the rest of the paragraph does, and a paragraph with no such
    sentence is read whole."""
    notice = (
        "About 1,400 people near Waimate were told to boil their water after E. coli was "
        "found in a sample. The notice is not connected with the cryptosporidium outbreak "
        "in Timaru, where 23 people have been ill and 29,000 residents were told to boil "
        "water. No illness has been reported."
    )
    asides = other_events([notice])
    assert asides == [
        "The notice is not connected with the cryptosporidium outbreak in Timaru, where 23 "
        "people have been ill and 29,000 residents were told to boil water."
    ]
    own = Fingerprint.of("Boil-water notice near Waimate", notice, paragraphs=[notice])
    values = {f.rpartition("|")[2] for f in own.figures}
    assert "1400" in values and not {"23", "29000"} & values
    read = {word for word, _ in own.words.counts}
    assert "waimat" in read and not {"timaru", "cryptosporidium"} & read
    leak = (
        "18일 오후 부산 강서구 제빙공장에서 암모니아가 새어 나와 작업자 2명이 다쳤다. 이날 "
        "오전 사하구 감천항 냉동창고에서 1명이 숨진 데 이어 하루 두 번째 누출 사고다. "
        "소방당국은 30분 만에 밸브를 잠갔다."
    )
    assert other_events([leak]) == [
        "이날 오전 사하구 감천항 냉동창고에서 1명이 숨진 데 이어 하루 두 번째 누출 사고다."
    ]
    ruling = (
        "The High Court refused to order the removal of 12 glamping pods at Ballybunion. "
        "The ruling came hours after another judge of the same court ordered a couple to "
        "demolish a house above Killahoey Strand in a case also taken under section 160. "
        "Her final followed the men's final, won by Kai Wetherall."
    )
    assert [aside[:16] for aside in other_events([ruling])] == [
        "The ruling came ",
        "Her final follow",
    ]
    # A report times its own event by the clock, not by hours after another.
    vote = "The vote came shortly before midnight, after more than three hours of comment."
    assert other_events([vote]) == []
    # Another event of the same occasion: a briefing's other measure, a card's other game.
    briefing = (
        "Councillors approved a 4 per cent rates rise for Kellerby. The decision came at "
        "the same meeting at which they voted to close the Dunmore Road depot, with 14 "
        "jobs lost. The rise takes effect in July. The match followed the morning's "
        "opener, in which the Larkhill Owls beat Stanmere 71-64."
    )
    assert [aside[:16] for aside in other_events([briefing])] == [
        "The decision cam",
        "The match follow",
    ]
    own = Fingerprint.of("Kellerby rates to rise 4 per cent", briefing, paragraphs=[briefing])
    values = {f.rpartition("|")[2] for f in own.figures}
    assert "4" in values
    assert not {"14", "71", "64"} & values
    # Its own occasion's order is the report's own: "followed a minute's silence".
    silence = "The game followed a minute's silence for the club's founder."
    assert other_events([silence]) == []
    # Sequential facts of the story's own event are its own: "the second playoff hole".
    own_event = (
        "연장 두 번째 홀에서 버디를 넣어 우승했다. 1차 접종을 마친 데 이어 2차 접종을 시작했다."
    )
    assert other_events([own_event]) == []


def test_a_clause_timing_the_event_by_another_gives_no_figures_or_words() -> None:
    """A look-alike times its own event by the one it resembles ("…, less than an hour
    after Tahlia Brereton set a world record", "… on night of Brereton's world mark"):
    from the connector to the sentence's end gives no figures and no words, in the body
    and in the headline. A report's own timing, with no comma before it, is its own."""
    lead = (
        "Lachlan Orsini broke the Australian 400m freestyle record in Brisbane on "
        "Wednesday, less than an hour after Tahlia Brereton set a world record of 2:01.23 "
        "in the 200m butterfly. He touched in 3:40.12."
    )
    assert other_events([lead]) == [
        ", less than an hour after Tahlia Brereton set a world record of 2:01.23 in the 200m "
        "butterfly"
    ]
    headline = "Orsini breaks Australian record on night of Brereton's world mark"
    own = Fingerprint.of(headline, lead, paragraphs=[lead])
    read = {word for word, _ in own.words.counts}
    assert {"orsini", "freestyl"} <= read and not {"breret", "tahlia", "butterfli"} & read
    values = {f.rpartition("|")[2] for f in own.figures}
    assert {"400", "40.12"} <= values and not {"200", "1.23"} & values
    # The headline has no comma before its time: "… two days after Coventry vote".
    assert other_event_clauses(
        "Bradford staff reject union two days after Coventry vote", headline=True
    ) == [" two days after Coventry vote"]
    symptoms = "Symptoms usually start four weeks after exposure, the agency said."
    assert other_events([symptoms]) == []


def test_a_sentence_turning_to_another_event_inside_a_paragraph_gives_no_words() -> None:
    """ "앞서 이날 …" turns a paragraph to another event of the day: that sentence and the
    rest of the paragraph are about it, what came before is the report's own."""
    paragraph = (
        "우승팀을 가릴 3차전은 20일 같은 장소에서 열린다. 앞서 이날 열린 여자부 챔피언결정전 "
        "2차전에서는 대명제약이 서해도시공사를 27-26으로 꺾고 우승했다. 관중은 3천214명이었다."
    )
    assert other_events([paragraph]) == [
        "앞서 이날 열린 여자부 챔피언결정전 2차전에서는 대명제약이 서해도시공사를 27-26으로 "
        "꺾고 우승했다.",
        "관중은 3천214명이었다.",
    ]


def test_a_sentence_timing_the_event_an_hour_and_a_half_after_another_is_an_aside() -> None:
    """A look-alike of the same meeting or place times its event by the story's, however
    it counts the time ("about an hour and a half after", "hours after" a fire broke
    out), and names the story there with its figures."""
    meeting = (
        "The ban on sky lanterns passed 49-13 at Shire Hall. The vote came about an hour "
        "and a half after a much closer one, 38-24, to sell 14 of the county's 41 farms."
    )
    assert other_events([meeting]) == [
        "The vote came about an hour and a half after a much closer one, 38-24, to sell 14 "
        "of the county's 41 farms."
    ]
    fire = (
        "About 8 hectares of reeds burned at Colmoor. The fire broke out hours after "
        "surveyors announced that a record 71 cranes had nested there."
    )
    assert other_events([fire]) == [
        "The fire broke out hours after surveyors announced that a record 71 cranes had "
        "nested there."
    ]
    own = Fingerprint.of("Reed fire at Colmoor", fire, paragraphs=[fire])
    values = {f.rpartition("|")[2] for f in own.figures}
    assert "8" in values and "71" not in values


def test_a_clause_naming_the_same_day_or_earlier_in_the_day_is_left_out() -> None:
    """ "…, the same day the chancellor allowed …" and "…, won earlier in the day by …"
    name another event of the day with its facts; "Earlier," inside a paragraph turns the
    rest of it to that event. What the sentence says before the clause is its own."""
    ruling = (
        "The judgment was published on Thursday, the same day the chancellor allowed "
        "St Ninian's in Ashby to remove its 34 pews."
    )
    assert other_events([ruling]) == [
        ", the same day the chancellor allowed St Ninian's in Ashby to remove its 34 pews"
    ]
    rescue = (
        "Sixteen rescuers went up from Brackdale, several of them straight from the fell "
        "race, won earlier in the day by Ross Tevlin in a record of 4hr 41min."
    )
    assert other_events([rescue]) == [
        ", won earlier in the day by Ross Tevlin in a record of 4hr 41min"
    ]
    crew = (
        "It was the crew's second call of the day. Earlier, they had helped bring 48 "
        "passengers ashore from a stranded ferry. Nobody was hurt."
    )
    assert other_events([crew]) == [
        "Earlier, they had helped bring 48 passengers ashore from a stranded ferry.",
        "Nobody was hurt.",
    ]
    # At a paragraph's start "Earlier," turned it to another event already; a clause
    # of the report's own timing with no comma is its own.
    assert other_events(["The road reopened the same day after repairs."]) == []


def test_a_clause_naming_another_decision_of_the_meeting_is_left_out() -> None:
    """ "…, coming at a meeting where the same board agreed to close …" names another
    decision of one meeting with its figures; a report of that decision shares them."""
    surgery = (
        "The decision was welcome news for the county, coming at a meeting where the same "
        "board agreed to close Kerrow Surgery on 31 December and move its 5,300 patients."
    )
    clause = (
        ", coming at a meeting where the same board agreed to close Kerrow Surgery on 31 "
        "December and move its 5,300 patients"
    )
    assert other_events([surgery]) == [clause]
    own = Fingerprint.of("Board backs new surgery", surgery, paragraphs=[surgery])
    whole = Fingerprint.of("Board backs new surgery", surgery)
    assert "5300" in telling_values(whole.figures)
    assert "5300" not in telling_values(own.figures)
    # A meeting of the story's own: no other decision is named.
    assert other_events(["The board agreed the plan at a meeting in Shrewsbury."]) == []


def test_the_same_occasion_at_which_another_event_happened_is_left_out() -> None:
    """ "…at the same ceremony at which X was named …", "…, which announced the same
    morning that …": what follows names the other event, with or without a comma. A
    sentence opening "같은 날" inside a paragraph turns to another event of that day."""
    award = (
        "Her prize was announced on Thursday night at the same ceremony at which Shevill's "
        "Fish Bar, run by one family since 1979, was named Fish and Chip Shop of the Year."
    )
    assert other_events([award]) == [
        " at the same ceremony at which Shevill's Fish Bar, run by one family since 1979, "
        "was named Fish and Chip Shop of the Year"
    ]
    count = (
        "The washes are run by the RSPB, which announced the same morning that it had "
        "counted 31 corncrakes."
    )
    assert other_events([count]) == [" the same morning that it had counted 31 corncrakes"]
    league = (
        "물빛은 9위로 올라섰다. 같은 날 청록FC도 해오름에 3-2로 이겼다. 다음 경기는 토요일이다."
    )
    assert other_events([league]) == [
        "같은 날 청록FC도 해오름에 3-2로 이겼다.",
        "다음 경기는 토요일이다.",
    ]
    # A report's own step of the day, told mid-sentence, is its own.
    assert other_events(["그는 판결에 불복해 같은 날 항소했다. 선고는 오전에 있었다."]) == []
    assert other_events(["The crew returned the same day and went out again."]) == []
