"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 rendering: read back by feedparser and by xpath."""

from __future__ import annotations

import calendar
import dataclasses
import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import feedparser
import pytest
from lxml import etree

from aggregator.model import Article, Mention, StoredArticle, story_id
from aggregator.syndication import (
    FEED_FORMATS,
    FEED_MEDIA_TYPES,
    JSON_FEED_VERSION,
    ChannelMeta,
    clean_xml_text,
    feed_url,
    render_atom,
    render_json_feed,
    render_rss,
)

KST = timezone(timedelta(hours=9))
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
META = ChannelMeta(
    id="all",
    title="전체 뉴스",
    description="여러 언론사의 속보를 한곳에",
    link="https://news.example.org/",
    language="ko",
    feed_base="http://127.0.0.1:8080/",
)
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}
RFC_822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")


def stored(
    guid: str,
    *,
    title: str = "Title",
    body: str = "<p>Body</p>",
    excerpt: str = "Excerpt.",
    date: datetime | None = None,
    link: str | None = "auto",
    source_id: str = "adskorea",
    seq: int = 0,
    **fields: object,
) -> StoredArticle:
    article = Article(
        title=title,
        categories=fields.pop("categories", ("News",)),  # type: ignore[arg-type]
        excerpt=excerpt,
        feature_text="## feature",
        image=fields.pop("image", None),  # type: ignore[arg-type]
        body=body,
        date=date,
        canonical_url=f"https://news.example.com/{guid}" if link == "auto" else link,
        id=story_id(source_id, guid),
        **fields,  # type: ignore[arg-type]
    )
    return StoredArticle(
        source_id=source_id,
        guid=guid,
        article=article,
        first_seen=datetime(2024, 5, 1, 0, 0),
        seq=seq,
    )


KOREAN = stored(
    "k1",
    title="글로벌 유니콘으로 성장하는 초격차 AI 스타트업의 이야기",
    body='<p><img alt="속보" src="https://newsdao.kr/img.jpg" /></p><p>중소기업벤처부는…</p>',
    excerpt="중소기업벤처부가 AI 스타트업들의 글로벌 유니콘 기업 성장을 위해 지원한다.",
    date=datetime(2024, 5, 3, 9, 30, tzinfo=KST),
    categories=("News", "AI"),
    image="https://newsdao.kr/res/images/meta/newsdao_breakingnews.jpg",
    author="홍길동",
    source="adskorea",
    source_url="https://newsdao.kr/",
    also_reported_by=(Mention(source="연합뉴스", link="https://yna.example.kr/1"),),
)
ENGLISH = stored(
    "e1",
    title="Markets rally as rates hold",
    body="<p>Stocks rose on Thursday.</p>",
    excerpt="Stocks rose on Thursday.",
    date=datetime(2024, 5, 2, 15, 0),  # naive: UTC
    categories=("Business",),
    source="Example Wire",
    source_url="https://wire.example.com/",
    source_id="wire",
)
UNDATED = stored("u1", title="", excerpt="", body="<p>No date, no title</p>", link=None)
ITEMS = [KOREAN, ENGLISH, UNDATED]


def parse(data: bytes) -> feedparser.FeedParserDict:
    return feedparser.parse(io.BytesIO(data))


def xml(data: bytes) -> etree._Element:
    # A strict parser: any well-formedness problem fails the test.
    return etree.fromstring(data, etree.XMLParser(recover=False, resolve_entities=False))


def utc_seconds(struct: object) -> int:
    return calendar.timegm(struct)  # type: ignore[arg-type]


# --- RSS 2.0 ---------------------------------------------------------------------------------


def test_rss_round_trips_through_feedparser() -> None:
    parsed = parse(render_rss(META, ITEMS, NOW))

    assert parsed.bozo == 0
    assert parsed.version == "rss20"
    assert parsed.feed.title == "전체 뉴스"
    assert parsed.feed.link == "https://news.example.org/"
    assert [e.id for e in parsed.entries] == [
        f"urn:aggregator:all.xml:{s.article.id}" for s in ITEMS
    ]
    assert [e.aggregator_story for e in parsed.entries] == [s.article.id for s in ITEMS]

    korean, english, undated = parsed.entries
    assert korean.title == KOREAN.article.title
    assert korean.link == "https://news.example.com/k1"
    assert korean.guidislink is False
    assert korean.content[0].value == KOREAN.article.body
    assert korean.summary == KOREAN.article.excerpt
    assert [t.term for t in korean.tags] == ["News", "AI"]
    assert korean.author == "홍길동"
    assert korean.source == {"href": "https://newsdao.kr/", "title": "adskorea"}
    assert korean.media_content[0]["url"] == KOREAN.article.image
    assert korean.media_content[0]["type"] == "image/jpeg"
    assert RFC_822.match(korean.published)
    assert utc_seconds(korean.published_parsed) == int(KOREAN.article.date.timestamp())

    # A naive date is UTC.
    assert english.published == "Thu, 02 May 2024 15:00:00 +0000"
    assert "author" not in english

    # No date: no pubDate; no link: none invented, but the guid stays.
    assert "published" not in undated
    assert "link" not in undated
    assert undated.id == f"urn:aggregator:all.xml:{UNDATED.article.id}"
    assert undated.title == "(untitled)"


def test_rss_required_elements() -> None:
    root = xml(render_rss(META, ITEMS, NOW))

    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    assert root.xpath("/rss/channel/title/text()") == ["전체 뉴스"]
    assert root.xpath("/rss/channel/link/text()") == ["https://news.example.org/"]
    assert root.xpath("/rss/channel/description/text()") == ["여러 언론사의 속보를 한곳에"]
    assert root.xpath("/rss/channel/language/text()") == ["ko"]
    assert root.xpath("/rss/channel/atom:link[@rel='self']/@href", namespaces=NS) == [
        "http://127.0.0.1:8080/feeds/all.xml"
    ]
    # The newest item's date, not the clock: same input, same bytes.
    assert root.xpath("/rss/channel/lastBuildDate/text()") == ["Fri, 03 May 2024 09:30:00 +0900"]
    items = root.xpath("/rss/channel/item")
    assert len(items) == 3
    for item in items:
        assert item.xpath("guid/@isPermaLink") == ["false"]
        assert item.xpath("title/text()")
    assert items[0].xpath("dc:creator/text()", namespaces=NS) == ["홍길동"]
    assert items[0].xpath("content:encoded/text()", namespaces=NS) == [KOREAN.article.body]
    assert items[0].xpath("source/@url") == ["https://newsdao.kr/"]


def test_rss_description_is_the_excerpt_as_html() -> None:
    item = stored("x", excerpt="a < b & <b>not bold</b>")
    parsed = parse(render_rss(META, [item], NOW))
    assert parsed.bozo == 0
    # RSS descriptions are HTML: the plain-text excerpt is escaped, never turned into markup.
    assert parsed.entries[0].summary == "a &lt; b &amp; &lt;b&gt;not bold&lt;/b&gt;"


# --- Atom 1.0 --------------------------------------------------------------------------------


def test_atom_round_trips_through_feedparser() -> None:
    parsed = parse(render_atom(META, ITEMS, NOW))

    assert parsed.bozo == 0
    assert parsed.version == "atom10"
    assert parsed.feed.id == "http://127.0.0.1:8080/feeds/all.atom"
    assert parsed.feed.title == "전체 뉴스 (Atom)"  # beside the RSS copy in a reader's list
    assert [e.id for e in parsed.entries] == [
        f"urn:aggregator:all.atom:{s.article.id}" for s in ITEMS
    ]
    assert [e.aggregator_story for e in parsed.entries] == [s.article.id for s in ITEMS]

    korean, english, undated = parsed.entries
    assert korean.title == KOREAN.article.title
    assert korean.link == "https://news.example.com/k1"
    assert [(link.rel, link.href) for link in korean.links] == [
        ("alternate", "https://news.example.com/k1"),
        ("related", "https://yna.example.kr/1"),
    ]
    assert korean.content[0].type == "text/html"
    assert korean.content[0].value == KOREAN.article.body
    assert korean.summary == KOREAN.article.excerpt
    assert [t.term for t in korean.tags] == ["News", "AI"]
    assert korean.author == "홍길동"
    assert korean.media_content[0]["url"] == KOREAN.article.image
    assert korean.published == "2024-05-03T09:30:00+09:00"
    assert utc_seconds(korean.updated_parsed) == int(KOREAN.article.date.timestamp())

    assert english.updated == "2024-05-02T15:00:00+00:00"
    assert english.author == "Example Wire"  # no author: the outlet

    # No date: updated is when it was first stored (stable), and there is no published.
    assert undated.updated == "2024-05-01T00:00:00+00:00"
    assert "published" not in undated
    # (feedparser puts the id in .link when there is none, so look at the links themselves.)
    assert undated.get("links", []) == []


def test_atom_sources_carry_the_id_and_updated_a_feed_must() -> None:
    # feedgen writes a source's title and link only: the W3C validator warned on every
    # entry ("Missing source element: id", "updated").
    root = xml(render_atom(META, ITEMS, NOW))
    sources = root.xpath("//atom:entry/atom:source", namespaces=NS)
    assert sources
    for source in sources:
        link = source.xpath("atom:link/@href", namespaces=NS)
        assert source.xpath("atom:id/text()", namespaces=NS) == link
        (updated,) = source.xpath("atom:updated/text()", namespaces=NS)
        entry_updated = source.xpath("../atom:updated/text()", namespaces=NS)
        assert [updated] == entry_updated


def test_atom_required_elements() -> None:
    root = xml(render_atom(META, ITEMS, NOW))

    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert root.xpath("/atom:feed/atom:id/text()", namespaces=NS) == [
        "http://127.0.0.1:8080/feeds/all.atom"
    ]
    assert root.xpath("/atom:feed/atom:title/text()", namespaces=NS) == ["전체 뉴스 (Atom)"]
    updated = root.xpath("/atom:feed/atom:updated/text()", namespaces=NS)
    assert updated == ["2024-05-03T09:30:00+09:00"]
    assert root.xpath("/atom:feed/atom:link[@rel='self']/@href", namespaces=NS) == [
        "http://127.0.0.1:8080/feeds/all.atom"
    ]
    assert root.xpath("/atom:feed/atom:link[@rel='alternate']/@href", namespaces=NS) == [
        "https://news.example.org/"
    ]
    assert root.xpath("/atom:feed/atom:author/atom:name/text()", namespaces=NS) == ["전체 뉴스"]
    entries = root.xpath("/atom:feed/atom:entry", namespaces=NS)
    assert len(entries) == 3
    for entry in entries:
        assert len(entry.xpath("atom:id", namespaces=NS)) == 1
        assert entry.xpath("atom:title/text()", namespaces=NS)
        (stamp,) = entry.xpath("atom:updated/text()", namespaces=NS)
        assert RFC_3339.match(stamp)
        # At most one alternate link (RFC 4287 §4.1.1).
        assert len(entry.xpath("atom:link[@rel='alternate']", namespaces=NS)) <= 1
        assert entry.xpath("atom:content/@type", namespaces=NS) == ["html"]


# --- JSON Feed 1.1 ---------------------------------------------------------------------------


def test_json_feed_required_keys_and_types() -> None:
    document = json.loads(render_json_feed(META, ITEMS, NOW))

    assert document["version"] == JSON_FEED_VERSION
    assert document["title"] == "전체 뉴스 (JSON Feed)"
    assert document["home_page_url"] == "https://news.example.org/"
    assert document["feed_url"] == "http://127.0.0.1:8080/feeds/all.json"
    assert document["language"] == "ko"
    assert isinstance(document["items"], list)
    assert [item["id"] for item in document["items"]] == [
        f"urn:aggregator:all.json:{s.article.id}" for s in ITEMS
    ]
    assert [item["_aggregator"]["story"] for item in document["items"]] == [
        s.article.id for s in ITEMS
    ]
    for item in document["items"]:
        assert isinstance(item["id"], str)
        assert isinstance(item["content_html"], str)
        assert RFC_3339.match(item["date_modified"])
        assert all(isinstance(author["name"], str) for author in item.get("authors", []))

    korean, english, undated = document["items"]
    assert korean["url"] == "https://news.example.com/k1"
    assert korean["title"] == KOREAN.article.title
    assert korean["content_html"] == KOREAN.article.body
    assert korean["summary"] == KOREAN.article.excerpt
    assert korean["image"] == KOREAN.article.image
    assert korean["date_published"] == "2024-05-03T09:30:00+09:00"
    assert datetime.fromisoformat(korean["date_published"]) == KOREAN.article.date
    assert korean["authors"] == [{"name": "홍길동"}]
    assert korean["tags"] == ["News", "AI"]
    assert korean["_aggregator"] == {
        "story": KOREAN.article.id,
        "source": {"name": "adskorea", "url": "https://newsdao.kr/"},
        "also_reported_by": [{"source": "연합뉴스", "link": "https://yna.example.kr/1"}],
    }
    assert english["date_published"] == "2024-05-02T15:00:00+00:00"
    assert "url" not in undated
    assert "date_published" not in undated
    assert undated["_aggregator"] == {"story": UNDATED.article.id, "also_reported_by": []}


# --- every format ----------------------------------------------------------------------------

HOSTILE = stored(
    "h1",
    title="<script>alert('x')</script> \x00bad\x0b\x1f title\ufffe",
    body="<p>before ]]> after\x00\x08 \ud800 &amp; done</p>",
    excerpt="excerpt \x0c with ]]> and <b>",
    categories=("AI\x01", "<b>tag</b>"),
    author="Eve\x1b",
    source="Evil\x00 Outlet",
    source_url="https://evil.example/",
    image="javascript:alert(1)",
    link="javascript:alert(1)",
    also_reported_by=(Mention(source="x", link="data:text/html,hi"),),
)


@pytest.mark.parametrize("extension", ["xml", "atom"])
def test_hostile_input_stays_well_formed(extension: str) -> None:
    data = FEED_FORMATS[extension](META, [HOSTILE], NOW)

    root = xml(data)  # raises on any ill-formedness
    assert parse(data).bozo == 0
    assert root.xpath("//*[local-name()='script']") == []
    assert b"<script>" not in data
    titles = [t for t in root.xpath("//*[local-name()='title']/text()") if "alert" in t]
    assert titles == ["<script>alert('x')</script> bad title"]
    text = data.decode("utf-8")
    assert "javascript:" not in text
    assert "data:text" not in text
    # ]]> in the body survives as text; it cannot end a CDATA section that does not exist.
    bodies = root.xpath("//*[local-name()='encoded' or local-name()='content']/text()")
    assert bodies == ["<p>before ]]> after  &amp; done</p>"]


def test_hostile_input_in_json_feed() -> None:
    data = render_json_feed(META, [HOSTILE], NOW)
    (item,) = json.loads(data)["items"]
    assert item["title"] == "<script>alert('x')</script> bad title"
    assert item["content_html"] == "<p>before ]]> after  &amp; done</p>"
    assert "url" not in item
    assert "image" not in item
    assert item["_aggregator"]["also_reported_by"] == []


@pytest.mark.parametrize("extension", ["xml", "atom"])
def test_empty_channel_is_a_valid_feed(extension: str) -> None:
    data = FEED_FORMATS[extension](META, [], NOW)
    parsed = parse(data)
    assert parsed.bozo == 0
    assert parsed.entries == []
    root = xml(data)
    if extension == "xml":
        assert root.xpath("/rss/channel/title/text()") == ["전체 뉴스"]
        assert root.xpath("/rss/channel/lastBuildDate/text()") == [
            "Sat, 01 Jun 2024 12:00:00 +0000"
        ]
    else:
        assert root.xpath("/atom:feed/atom:updated/text()", namespaces=NS) == [
            "2024-06-01T12:00:00+00:00"
        ]


def test_empty_json_feed() -> None:
    document = json.loads(render_json_feed(META, [], NOW))
    assert document["items"] == []
    assert document["version"] == JSON_FEED_VERSION


@pytest.mark.parametrize("extension", sorted(FEED_FORMATS))
def test_a_story_in_two_channels_has_an_id_in_each(extension: str) -> None:
    # newsboat keeps one item per guid across every feed it follows: with the story id as
    # the guid, a story in `all` and `world` showed in only one of them.
    world = dataclasses.replace(META, id="world", title="World")
    ids = []
    for meta in (META, world):
        data = FEED_FORMATS[extension](meta, [KOREAN], NOW)
        if extension == "json":
            (item,) = json.loads(data)["items"]
            ids.append((item["id"], item["_aggregator"]["story"]))
        else:
            (entry,) = parse(data).entries
            ids.append((entry.id, entry.aggregator_story))
    (all_id, all_story), (world_id, world_story) = ids
    assert all_id != world_id
    assert all_story == world_story == KOREAN.article.id


@pytest.mark.parametrize("extension", sorted(FEED_FORMATS))
def test_rendering_is_deterministic(extension: str) -> None:
    render = FEED_FORMATS[extension]
    assert render(META, ITEMS, NOW) == render(META, ITEMS, NOW + timedelta(hours=1))


@pytest.mark.parametrize("extension", sorted(FEED_FORMATS))
def test_items_keep_the_given_order(extension: str) -> None:
    reordered = [UNDATED, ENGLISH, KOREAN]
    data = FEED_FORMATS[extension](META, reordered, NOW)
    if extension == "json":
        ids = [item["_aggregator"]["story"] for item in json.loads(data)["items"]]
    else:
        ids = [e.aggregator_story for e in parse(data).entries]
    assert ids == [s.article.id for s in reordered]


def test_empty_channel_description_falls_back_to_title() -> None:
    meta = ChannelMeta("ai", "AI 뉴스", "", "https://news.example.org/", "ko", "http://h/")
    root = xml(render_rss(meta, [], NOW))
    assert root.xpath("/rss/channel/description/text()") == ["AI 뉴스"]
    assert feed_url(meta, "atom") == "http://h/feeds/ai.atom"


def test_long_excerpt_makes_a_title_cut_at_a_word() -> None:
    words = "인공지능 " * 40
    parsed = parse(render_rss(META, [stored("t", title="  ", excerpt=words)], NOW))
    title = parsed.entries[0].title
    assert title.endswith("…")
    assert len(title) <= 81
    assert title.removesuffix("…").split(" ") == ["인공지능"] * len(title.split(" "))


def test_formats_and_media_types_agree() -> None:
    assert set(FEED_FORMATS) == set(FEED_MEDIA_TYPES) == {"xml", "atom", "json"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain 한국어", "plain 한국어"),
        ("tab\tnew\nline\rok", "tab\tnew\nline\rok"),
        ("\x00\x01\x08\x0b\x0c\x0e\x1f", ""),
        ("a\ufffeb\uffffc", "abc"),
        ("lone \ud800 surrogate \udfff", "lone  surrogate "),
        ("emoji 📰 stays", "emoji 📰 stays"),
    ],
)
def test_clean_xml_text(text: str, expected: str) -> None:
    assert clean_xml_text(text) == expected


def test_item_dates_are_written_in_the_sites_zone_with_its_offset() -> None:
    # Each source's own offset (or UTC) reached the feed page a browser shows, while every
    # other page gave the site's time.
    seoul = dataclasses.replace(META, timezone="Asia/Seoul")
    rss = xml(render_rss(seoul, [ENGLISH], NOW))
    assert rss.xpath("//item/pubDate/text()") == ["Fri, 03 May 2024 00:00:00 +0900"]
    (item,) = json.loads(render_json_feed(seoul, [ENGLISH], NOW))["items"]
    assert item["date_published"] == "2024-05-03T00:00:00+09:00"
    atom = xml(render_atom(seoul, [ENGLISH], NOW))
    assert atom.xpath("//atom:entry/atom:published/text()", namespaces=NS) == [
        "2024-05-03T00:00:00+09:00"
    ]
    # The same instant as without a zone.
    assert parse(render_rss(seoul, [ENGLISH], NOW)).entries[0].published_parsed == (
        parse(render_rss(META, [ENGLISH], NOW)).entries[0].published_parsed
    )
