"""Which articles a channel shows: each filter, their combination, order and limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from aggregator.channels import select
from aggregator.model import Article, Channel, StoredArticle, story_id

KST = timezone(timedelta(hours=9))


def stored(
    guid: str,
    *,
    source_id: str = "adskorea",
    title: str = "",
    excerpt: str = "",
    categories: tuple[str, ...] = (),
    date: datetime | None = None,
    seq: int = 0,
) -> StoredArticle:
    article = Article(
        title=title,
        categories=categories,
        excerpt=excerpt,
        feature_text="",
        image=None,
        body="",
        date=date,
        id=story_id(source_id, guid),
    )
    return StoredArticle(source_id, guid, article, datetime(2024, 1, 1, tzinfo=UTC), seq)


def guids(articles: list[StoredArticle]) -> list[str]:
    return [a.guid for a in articles]


AI_KO = stored(
    "ai-ko",
    title="인공지능 스타트업 지원",
    categories=("News",),
    date=datetime(2024, 5, 3, tzinfo=UTC),
)
AI_EN = stored(
    "ai-en",
    source_id="wire",
    title="Chips",
    excerpt="New AI accelerators ship",
    categories=("Tech",),
    date=datetime(2024, 5, 2, tzinfo=UTC),
)
AI_CAT = stored(
    "ai-cat", source_id="wire", title="Robots", categories=("ai",), date=datetime(2024, 5, 1)
)
SPORTS = stored("sports", title="야구 결과", categories=("Sports",), date=datetime(2024, 4, 30))
ALL = [SPORTS, AI_CAT, AI_EN, AI_KO]


def test_no_filters_selects_everything_newest_first() -> None:
    assert guids(select(Channel(id="all", title="전체"), ALL)) == [
        "ai-ko",
        "ai-en",
        "ai-cat",
        "sports",
    ]


def test_sources_filter() -> None:
    channel = Channel(id="wire", title="Wire", sources=("wire",))
    assert guids(select(channel, ALL)) == ["ai-en", "ai-cat"]


def test_categories_filter_is_case_insensitive_any_of() -> None:
    channel = Channel(id="c", title="C", categories=("AI", "sports"))
    assert guids(select(channel, ALL)) == ["ai-cat", "sports"]


def test_keywords_match_title_or_excerpt_case_insensitively() -> None:
    channel = Channel(id="ai", title="AI 뉴스", keywords=("인공지능", "ai"))
    # "Chips" matches through its excerpt; "Robots" has the AI category but not the word.
    assert guids(select(channel, ALL)) == ["ai-ko", "ai-en"]


def test_categories_or_keywords_within_the_sources() -> None:
    topic = Channel(id="x", title="X", categories=("Sports",), keywords=("robot",))
    assert guids(select(topic, ALL)) == ["ai-cat", "sports"]
    within = Channel(
        id="x", title="X", sources=("wire",), categories=("Sports",), keywords=("robot",)
    )
    assert guids(select(within, ALL)) == ["ai-cat"]
    assert select(Channel(id="x", title="X", sources=("nowhere",)), ALL) == []


def test_nothing_matches() -> None:
    assert select(Channel(id="x", title="X", keywords=("날씨",)), ALL) == []


def test_limit_keeps_the_newest() -> None:
    assert guids(select(Channel(id="a", title="A", limit=2), ALL)) == ["ai-ko", "ai-en"]
    assert select(Channel(id="a", title="A", limit=0), ALL) == []


def test_undated_last_and_ties_by_seq_then_id() -> None:
    noon = datetime(2024, 5, 1, 12, tzinfo=UTC)
    same_instant_kst = noon.astimezone(KST)  # equal instants in other zones are ties
    early = stored("early", date=noon, seq=1)
    late = stored("late", date=same_instant_kst, seq=5)
    undated_old = stored("undated-old", seq=2)
    undated_new = stored("undated-new", seq=9)
    twin_a = stored("twin-a", date=datetime(2024, 4, 1), seq=3)
    twin_b = stored("twin-b", date=datetime(2024, 4, 1), seq=3)
    first, second = sorted([twin_a, twin_b], key=lambda s: s.article.id or "")

    result = select(
        Channel(id="all", title="all"),
        [undated_old, twin_b, early, undated_new, late, twin_a],
    )

    assert guids(result) == [
        "late",
        "early",
        first.guid,
        second.guid,
        "undated-new",
        "undated-old",
    ]


def test_naive_and_aware_dates_compare_naive_as_utc() -> None:
    naive = stored("naive", date=datetime(2024, 5, 1, 10))  # 10:00 UTC
    aware = stored("aware", date=datetime(2024, 5, 1, 18, 30, tzinfo=KST))  # 09:30 UTC
    assert guids(select(Channel(id="a", title="A"), [aware, naive])) == ["naive", "aware"]


def test_accepts_any_iterable() -> None:
    assert guids(select(Channel(id="a", title="A", limit=1), iter(ALL))) == ["ai-ko"]


def test_latin_keywords_match_whole_words_and_hangul_inside_words() -> None:
    rain = stored(
        "rain", title="Rain expected; officials said again", date=datetime(2024, 5, 4, tzinfo=UTC)
    )
    particle = stored(
        "particle", title="인공지능이 바꾼 일터", date=datetime(2024, 5, 5, tzinfo=UTC)
    )
    hyphen = stored(
        "hyphen", title="AI-powered search for Aim", date=datetime(2024, 5, 6, tzinfo=UTC)
    )
    channel = Channel(id="ai", title="AI", keywords=("AI", "인공지능"))
    assert guids(select(channel, [rain, particle, hyphen])) == ["hyphen", "particle"]
