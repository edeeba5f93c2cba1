"""The front-matter model: byte-for-byte reference, round trips, post file names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aggregator import frontmatter
from aggregator.errors import FrontMatterError
from aggregator.model import Article, Mention, StoredArticle

DATA = Path(__file__).parent / "data"
SEED = DATA / "000_e1cb8cc54f725201.txt"
SEOUL = ZoneInfo("Asia/Seoul")


def seed_text() -> str:
    return SEED.read_bytes().decode("utf-8")


def test_reading_the_reference_gives_its_values() -> None:
    article = frontmatter.loads(seed_text())
    assert article.title == "글로벌 유니콘으로 성장하는 초격차 AI 스타트업의 이야기"
    assert article.categories == ("News",)
    assert article.excerpt.startswith("중소기업벤처부가 AI 스타트업들의")
    assert article.excerpt.endswith("지원하겠다고 밝혔다.")
    assert "\n" not in article.excerpt
    assert article.feature_text == "## adskorea 실시간 뉴스 속보입니다.\n" + article.excerpt
    assert article.image == "https://newsdao.kr/res/images/meta/newsdao_breakingnews.jpg"
    assert article.body.startswith('<p><img src="https://newsdao.kr/res/images/meta/')
    assert article.body.endswith('rel="dofollow">https://newsdao.kr</a>')


def test_writing_the_reference_reproduces_it_byte_for_byte() -> None:
    article = frontmatter.loads(seed_text())
    assert frontmatter.dumps(article).encode("utf-8") == SEED.read_bytes()


def full_article(title: str) -> Article:
    return Article(
        title=title,
        categories=("News", "AI: 인공지능"),
        excerpt="요약입니다. Second sentence: with a colon # and 'quotes'.",
        feature_text="## 출처\n" + "요약입니다.",
        image="https://example.org/a b.jpg?x='1'",
        body="<p>본문</p>\n---\n<p>more</p>\n",
        date=datetime(2026, 11, 20, 9, 30, tzinfo=SEOUL),
        source="연합뉴스",
        source_url="https://www.yna.co.kr",
        canonical_url="https://www.yna.co.kr/view/AKR2026",
        id="0123456789abcdef",
        author="홍길동 기자",
        tags=("경제", "AI"),
        also_reported_by=(
            Mention("KBS", "https://news.kbs.co.kr/1"),
            Mention("MBC", "https://imnews.imbc.com/2"),
        ),
    )


HOSTILE_TITLES = [
    "Breaking: markets fall",
    "# not a comment",
    "it's \"quoted\" 'twice'",
    "---",
    "--- front matter inside ---",
    "line one\nline two",
    "trailing newline\n",
    "control \x00\x07\x1b\x7f\x85 chars",
    "emoji 🚀🇰🇷 and Hangul 한글",
    "x" * 600,
    "긴 제목 " * 100,
    "",
    " leading and trailing ",
    "yes",
    "null",
    "2026-11-20",
    "12:30",
    "[not, a, list]",
    "{not: a map}",
    "&anchor *alias !tag %directive @at `tick",
    "\u2028separator\u2029",
    "\ufeffbom",
    "tab\tinside",
    "windows\r\nline",
    "...",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_round_trip(title: str) -> None:
    article = full_article(title)
    text = frontmatter.dumps(article)
    assert frontmatter.loads(text) == article
    # The front matter still ends at the first fence line: nothing leaked into the body.
    assert text.count("\n---\n") >= 1
    assert frontmatter.loads(text).body == article.body


@settings(max_examples=300, deadline=None)
@given(
    title=st.text(),
    excerpt=st.text(),
    feature=st.text(),
    body=st.text(),
    categories=st.lists(st.text(), max_size=3),
)
def test_any_text_round_trips(
    title: str, excerpt: str, feature: str, body: str, categories: list[str]
) -> None:
    # Character references that stand for Markdown read back as what they stand for.
    assume(not any(ref in text for text in (title, excerpt, feature) for ref in INERT_FORMS))
    article = Article(
        title=title,
        categories=tuple(categories),
        excerpt=excerpt,
        feature_text=feature,
        image=None,
        body=body.replace("\r", ""),
    )
    assert frontmatter.loads(frontmatter.dumps(article)) == article


INERT_FORMS = ("]&#40;", "]&#58;", "&#123;:")


@pytest.mark.parametrize("field", ["title", "excerpt", "feature_text", "author"])
def test_text_a_theme_runs_through_markdown_holds_no_link(field: str) -> None:
    text = "See [this](javascript:alert(1)), [that][r] and [r]: javascript:x {: onclick=y}"
    article = replace(frontmatter.loads(seed_text()), **{field: text})
    written = frontmatter.dumps(article)
    front = written.split("---\n")[1]
    assert "](" not in front and "]:" not in front and "{:" not in front
    assert "See [this]&#40;javascript:alert(1))" in front
    assert frontmatter.emitted_front_matter(frontmatter.front_matter_values(article)) == front
    assert frontmatter.loads(written) == article


def test_optional_keys_come_after_the_reference_keys_in_order() -> None:
    text = frontmatter.dumps(full_article("t"))
    keys = [
        line.split(":")[0] for line in text.split("---\n")[1].splitlines() if line[:1].isalpha()
    ]
    assert keys == [
        "title", "categories", "excerpt", "feature_text", "image", "date", "source",
        "source_url", "canonical_url", "id", "author", "tags", "also_reported_by",
    ]  # fmt: skip


def test_unknown_keys_are_written_only_when_known() -> None:
    text = frontmatter.dumps(Article("t", (), "e", "f", None, "<p>b</p>"))
    assert "date:" not in text and "image:" not in text and "also_reported_by" not in text


def test_dates_keep_their_instant_and_zone() -> None:
    when = datetime(2026, 11, 20, 23, 59, 59, tzinfo=timezone(timedelta(hours=9)))
    back = frontmatter.loads(frontmatter.dumps(Article("t", (), "", "", None, "", date=when)))
    assert back.date == when
    assert back.date is not None and back.date.utcoffset() == timedelta(hours=9)


def test_posts_from_other_tools_are_read() -> None:
    text = "---\ntitle: 2024\ncategories: News\ndate: 2024-05-01\nlayout: post\n---\n<p>x</p>\n"
    article = frontmatter.loads(text)
    assert article.title == "2024"
    assert article.categories == ("News",)
    assert article.date == datetime(2024, 5, 1, tzinfo=UTC)
    assert article.body == "<p>x</p>"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<p>no front matter</p>", "does not start"),
        ("---\ntitle: x\n<p>never closed</p>", "not closed"),
        ("---\ntitle: [unclosed\n---\nbody", "not valid YAML"),
        ("---\n- a\n- list\n---\nbody", "not a mapping"),
    ],
)
def test_malformed_posts_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(FrontMatterError, match=message):
        frontmatter.loads(text, name="bad.md")


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        (
            "글로벌 유니콘으로 성장하는 초격차 AI 스타트업의 이야기",
            "글로벌-유니콘으로-성장하는-초격차-ai-스타트업의-이야기",
        ),
        ("Breaking: Markets / Fall 3% (Again)!", "breaking-markets-fall-3-again"),
        ("../../etc/passwd", "etc-passwd"),
        ('a\x00b\nc\\d:e*f?g"h<i>j|k', "a-b-c-d-e-f-g-h-i-j-k"),
        ("Café Ｆｕｌｌｗｉｄｔｈ", "café-fullwidth"),
        ("🚀🚀🚀", ""),
    ],
)
def test_slugs_keep_letters_and_drop_what_is_unsafe(title: str, slug: str) -> None:
    assert frontmatter.slugify(title) == slug


def test_slugs_are_bounded_in_bytes_on_a_character_boundary() -> None:
    slug = frontmatter.slugify("한" * 500)
    assert len(slug.encode()) <= frontmatter.SLUG_MAX_BYTES
    assert slug == "한" * (frontmatter.SLUG_MAX_BYTES // 3)


def stored(seq: int, title: str, article_id: str, day: int = 20) -> StoredArticle:
    article = Article(
        title, (), "", "", None, "", date=datetime(2026, 11, day, 16, tzinfo=UTC), id=article_id
    )
    return StoredArticle("src", article_id, article, datetime(2026, 11, 20, tzinfo=UTC), seq)


def test_post_names_use_the_site_time_zone_and_never_collide() -> None:
    items = [
        stored(2, "Same Title", "bbbbbbbbbbbbbbbb"),
        stored(1, "Same title", "aaaaaaaaaaaaaaaa"),
        stored(3, "🚀", "cccccccccccccccc"),
    ]
    names = frontmatter.assign_post_filenames(items, SEOUL)
    # 16:00 UTC on the 20th is the 21st in Seoul; the first stored keeps the plain name.
    assert names == {
        "aaaaaaaaaaaaaaaa": "2026-11-21-same-title.md",
        "bbbbbbbbbbbbbbbb": "2026-11-21-same-title-bbbbbbbb.md",
        "cccccccccccccccc": "2026-11-21-cccccccccccccccc.md",
    }
    # Stable: adding a later article does not rename earlier ones.
    more = frontmatter.assign_post_filenames(
        [*items, stored(4, "same title", "dddddddddddddddd")], SEOUL
    )
    assert {k: more[k] for k in names} == names


# -- the direct writer against the emitter -------------------------------------------------

#: Characters that decide YAML styles: indicators, spaces and breaks, quotes, BOM,
#: separators, and letters of several scripts.
_TRICKY = st.sampled_from(
    [
        *":#'\"-?[]{},&*!|>%@`~. \t\n\r\x85\u2028\u2029\ufeff\x7f\xa0",
        *("a", "Z", "0", "9", "가", "é", "🚀", "true", "null", "1.5", "2026-11-20", "---", "..."),
    ]
)
_TRICKY_TEXT = st.one_of(
    st.lists(_TRICKY, max_size=12).map("".join),
    st.text(alphabet="ab가 .,'-:#", max_size=16),  # mostly plain: the direct writer's share
)


def _both_writers(article: Article) -> tuple[str | None, str]:
    values = frontmatter.front_matter_values(article)
    return frontmatter.direct_front_matter(values), frontmatter.emitted_front_matter(values)


def test_the_direct_writer_writes_the_reference_and_typical_posts() -> None:
    seed = frontmatter.loads(seed_text())
    typical = replace(
        full_article("글로벌 유니콘으로 성장하는 AI 스타트업"),
        categories=("News", "AI"),
        excerpt="요약입니다. Second sentence, with a comma # and 'quotes'.",
    )
    for article in (seed, typical):
        direct, emitted = _both_writers(article)
        assert direct is not None, "typical posts must not need the slow emitter"
        assert direct == emitted


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_the_direct_writer_matches_the_emitter_or_declines(title: str) -> None:
    direct, emitted = _both_writers(full_article(title))
    assert direct is None or direct == emitted


@settings(max_examples=300, deadline=None)
@given(
    title=_TRICKY_TEXT,
    excerpt=_TRICKY_TEXT,
    feature=_TRICKY_TEXT,
    image=_TRICKY_TEXT,
    author=_TRICKY_TEXT,
    tags=st.lists(_TRICKY_TEXT, max_size=3),
    mention=_TRICKY_TEXT,
    micro=st.integers(0, 999_999),
)
def test_the_direct_writer_is_byte_equal_wherever_it_writes(
    title: str,
    excerpt: str,
    feature: str,
    image: str,
    author: str,
    tags: list[str],
    mention: str,
    micro: int,
) -> None:
    article = Article(
        title=title,
        categories=tuple(tags[:1]),
        excerpt=excerpt,
        feature_text=feature,
        image=image or None,
        body="",
        date=datetime(2026, 11, 20, 9, 30, 0, micro, tzinfo=SEOUL),
        source=author or None,
        author=author or None,
        tags=tuple(tags),
        also_reported_by=(Mention(mention, title),) if mention else (),
    )
    direct, emitted = _both_writers(article)
    assert direct is None or direct == emitted


@pytest.mark.parametrize(
    "field, text",
    [
        ("body", "<p>{% raise %}</p>"),
        ("body", "<p>{{ site.secret_api_token }}</p>"),
        ("title", "Templates: {% include missing.html %}"),
        ("excerpt", "{{ site | jsonify }}"),
    ],
)
def test_posts_holding_liquid_markers_are_not_run_through_liquid(field: str, text: str) -> None:
    article = replace(frontmatter.loads(seed_text()), **{field: text})
    written = frontmatter.dumps(article)
    front = written.split("---\n")[1]
    assert front.endswith("render_with_liquid: false\n")
    assert frontmatter.emitted_front_matter(frontmatter.front_matter_values(article)) == front
    assert frontmatter.loads(written) == article
    # Without markers, nothing is added (the reference stays byte for byte).
    assert "render_with_liquid" not in frontmatter.dumps(replace(article, **{field: "plain"}))
