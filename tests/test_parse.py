"""Tests for aggregator.parse: one hand-written document per format in tests/data/parse/,
with the entries it must yield; failures as values; the XML attack documents."""

from __future__ import annotations

import codecs
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
from aggregator.parse.encoding import Decoded, decide, looks_korean
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
KOREAN_UNDECLARED = KOREAN_RSS.split("\n", 1)[1]
# '똠', '쀍' and '햏' are outside EUC-KR proper (KS X 1001): only CP949 has them.
UHC_RSS = KOREAN_RSS.replace("한국 뉴스", "똠방각하 뉴스").replace("요약입니다", "쀍 햏 요약")
UHC_TITLE = "똠방각하 뉴스"
UHC_SUMMARY = "쀍 햏 요약"
ENTRY_TITLE = "속보: 인공지능 & 반도체"
NOT_DECLARED = "character encoding: none declared and not UTF-8; read as cp949 (Korean)"


def korean(body: bytes, content_type: str | None = None) -> ParsedFeed:
    feed = parse_feed(body, url="https://k.example.kr/rss", content_type=content_type)
    assert isinstance(feed, ParsedFeed), feed
    return feed


def assert_korean_text(
    feed: ParsedFeed, title: str = "한국 뉴스", summary: str = "요약입니다"
) -> None:
    assert feed.title == title
    (entry,) = feed.entries
    assert entry.title == ENTRY_TITLE
    assert entry.summary == summary
    assert entry.link == "https://k.example.kr/news/1"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(KOREAN_RSS.encode("euc-kr"), None, id="declared"),
        # text/xml without a charset: the declaration decides (RFC 7303), no warning.
        pytest.param(KOREAN_RSS.encode("euc-kr"), "text/xml", id="text-xml-no-charset"),
        pytest.param(
            KOREAN_UNDECLARED.encode("euc-kr"),
            "application/rss+xml; charset=EUC-KR",
            id="http-charset-only",
        ),
    ],
)
def test_euc_kr_hangul_is_decoded(body: bytes, content_type: str | None) -> None:
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # the fixture really is EUC-KR bytes
    feed = korean(body, content_type)
    assert_korean_text(feed)
    assert feed.warnings == ()


def test_euc_kr_fixture_with_cp949_only_syllables() -> None:
    body = (DATA / "korean_euckr_uhc.xml").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("euc-kr")  # what Python's EUC-KR codec (and feedparser) cannot read
    feed = korean(body)
    assert feed.title == "똠방각하 뉴스"
    assert feed.warnings == ()
    (entry,) = feed.entries
    assert entry.title == "햏자의 쀍 속보 & 똠양꿍"
    assert entry.summary == "요약: 똠방각하가 햏했다"


@pytest.mark.parametrize("label", ["euc-kr", "EUC-KR", "ks_c_5601-1987", "cp949", "x-windows-949"])
@pytest.mark.parametrize("content_type", [None, "text/xml", "application/rss+xml"])
def test_euc_kr_labels_read_as_cp949(label: str, content_type: str | None) -> None:
    # As browsers do (WHATWG Encoding): every EUC-KR label means CP949, its superset.
    body = UHC_RSS.replace("euc-kr", label).encode("cp949")
    feed = korean(body, content_type)
    assert_korean_text(feed, UHC_TITLE, UHC_SUMMARY)
    assert feed.warnings == ()


@pytest.mark.parametrize("label", ["euc-kr", "ks_c_5601-1987", "x-windows-949"])
def test_euc_kr_http_charset_reads_as_cp949(label: str) -> None:
    body = UHC_RSS.split("\n", 1)[1].encode("cp949")
    feed = korean(body, f"application/rss+xml; charset={label}")
    assert_korean_text(feed, UHC_TITLE, UHC_SUMMARY)
    assert feed.warnings == ()


@pytest.mark.parametrize("content_type", [None, "text/xml", "application/xml", "text/html"])
def test_undeclared_cp949_is_detected(content_type: str | None) -> None:
    body = UHC_RSS.split("\n", 1)[1].encode("cp949")
    feed = korean(body, content_type)
    assert_korean_text(feed, UHC_TITLE, UHC_SUMMARY)
    assert feed.warnings == (NOT_DECLARED,)


def test_undeclared_cp949_fixture() -> None:
    feed = korean((DATA / "korean_undeclared_cp949.xml").read_bytes())
    assert feed.title == "똠방각하 뉴스"
    assert [e.title for e in feed.entries] == ["햏자의 쀍 속보 & 똠양꿍"]
    assert feed.warnings == (NOT_DECLARED,)


@pytest.mark.parametrize(
    ("title", "encoding"),
    [
        # Windows-1252 whose bytes happen to pair up as CP949: "’" + a letter is a rare
        # Hangul syllable, never one of the common ones.
        ("it’s don’t", "cp1252"),
        ("Café Zürich", "latin-1"),
    ],
)
def test_undeclared_non_korean_keeps_feedparsers_fallbacks(title: str, encoding: str) -> None:
    body = f"<rss version='2.0'><channel><title>{title}</title></channel></rss>"
    feed = korean(body.encode(encoding))
    assert feed.title == title
    assert feed.warnings == (
        "character encoding: document declared as utf-8, but parsed as windows-1252",
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/xml; charset=utf-8",
        "application/rss+xml; charset=iso-8859-1",
        "text/xml; charset=UTF-8",
    ],
)
def test_wrong_http_charset_is_overridden_with_a_warning(content_type: str) -> None:
    body = UHC_RSS.encode("cp949")
    feed = korean(body, content_type)
    assert_korean_text(feed, UHC_TITLE, UHC_SUMMARY)
    charset = content_type.rsplit("=", 1)[1]
    assert feed.warnings == (
        f"character encoding: the HTTP charset says {charset}, but the document is not "
        f"{charset}; read as cp949",
    )


def test_wrong_http_charset_over_undeclared_cp949() -> None:
    feed = korean(UHC_RSS.split("\n", 1)[1].encode("cp949"), "text/xml; charset=utf-8")
    assert_korean_text(feed, UHC_TITLE, UHC_SUMMARY)
    assert feed.warnings == (
        "character encoding: the HTTP charset says utf-8, but the document is not utf-8; "
        "read as cp949",
    )


@pytest.mark.parametrize("header", ["euc-kr", "ks_c_5601-1987", "iso-8859-1"])
def test_utf8_document_under_a_wrong_http_charset_is_utf8(header: str) -> None:
    body = UHC_RSS.replace("euc-kr", "UTF-8").encode("utf-8")
    feed = korean(body, f"text/xml; charset={header}")
    assert_korean_text(feed, UHC_TITLE, UHC_SUMMARY)
    assert feed.warnings == (
        f"character encoding: the HTTP charset says {header}, but the document is not "
        f"{header}; read as utf-8",
    )


def test_undeclared_document_without_content_type_is_utf8() -> None:
    feed = korean(KOREAN_UNDECLARED.encode("utf-8"))
    assert_korean_text(feed)
    assert feed.warnings == ()


@pytest.mark.parametrize(
    ("mark", "encoding", "declared"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF8, "utf-8", None),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_LE, "utf-16-le", None),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16BE"),
        (codecs.BOM_UTF16_BE, "utf-16-be", None),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    ],
)
def test_byte_order_marks(mark: bytes, encoding: str, declared: str | None) -> None:
    text = KOREAN_RSS.replace("euc-kr", declared) if declared else KOREAN_UNDECLARED
    feed = korean(mark + text.encode(encoding))
    assert_korean_text(feed)
    assert feed.warnings == ()


def test_byte_order_mark_wins_over_the_http_charset() -> None:
    body = codecs.BOM_UTF8 + KOREAN_UNDECLARED.encode("utf-8")
    feed = korean(body, "text/xml; charset=euc-kr")
    assert_korean_text(feed)
    assert feed.warnings == (
        "character encoding: the HTTP charset says euc-kr, but the document is not euc-kr; "
        "read as utf-8",
    )


def test_utf16_document() -> None:
    body = KOREAN_RSS.replace("euc-kr", "utf-16").encode("utf-16")
    assert_korean_text(korean(body))


def test_utf16_without_a_byte_order_mark() -> None:
    # XML 1.0 appendix F: "<?" in UTF-16 shows the encoding without a mark.
    body = KOREAN_RSS.replace("euc-kr", "UTF-16LE").encode("utf-16-le")
    assert_korean_text(korean(body))


def test_json_feed_in_cp949_is_read_with_a_warning() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": UHC_TITLE,
        "items": [{"id": "1", "title": ENTRY_TITLE, "summary": UHC_SUMMARY}],
    }
    body = json.dumps(document, ensure_ascii=False).encode("cp949")
    feed = korean(body, "application/feed+json")
    assert feed.title == UHC_TITLE
    (entry,) = feed.entries
    assert (entry.title, entry.summary) == ("속보: 인공지능 &amp; 반도체", UHC_SUMMARY)
    assert feed.warnings == ("character encoding: a JSON Feed must be UTF-8; read as cp949",)


def test_json_feed_in_latin1_is_still_refused() -> None:
    body = '{"version": "https://jsonfeed.org/version/1.1", "title": "Café Zürich"}'
    assert failure(body.encode("latin-1"), "application/json") == "not valid UTF-8 at byte 61"


def test_json_feed_ignores_an_http_charset() -> None:
    body = json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": UHC_TITLE, "items": []},
        ensure_ascii=False,
    ).encode("utf-8")
    feed = korean(body, "application/json; charset=euc-kr")
    assert (feed.title, feed.warnings) == (UHC_TITLE, ())


# --- encoding.decide: the encoding decision alone ----------------------------------------


def test_decide_utf8_keeps_the_text() -> None:
    body = KOREAN_UNDECLARED.encode("utf-8")
    assert decide(body, None) == Decoded("utf-8", body)
    assert decide(body, "application/rss+xml; charset=utf-8") == Decoded("utf-8", body)


def test_decide_transcodes_and_rewrites_the_declaration() -> None:
    decided = decide(UHC_RSS.encode("cp949"), None)
    assert decided.encoding == "cp949"
    assert decided.body == UHC_RSS.replace('encoding="euc-kr"', 'encoding="utf-8"').encode()
    assert decided.warnings == ()


def test_decide_strips_a_byte_order_mark() -> None:
    text = KOREAN_RSS.replace("euc-kr", "utf-16")
    decided = decide(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), None)
    assert decided == Decoded("utf-16-le", text.replace("utf-16", "utf-8").encode())
    assert decide(codecs.BOM_UTF8 + b"<rss/>", None) == Decoded("utf-8", b"<rss/>")


def test_decide_pure_ascii_agrees_with_every_ascii_label() -> None:
    body = b"<?xml version='1.0' encoding='iso-8859-1'?><rss/>"
    decided = decide(body, "text/xml; charset=euc-kr")
    assert decided.warnings == ()
    assert decided.body == b"<?xml version='1.0' encoding='utf-8'?><rss/>"


def test_decide_ignores_a_wide_label_on_ascii_markup() -> None:
    body = '<?xml version="1.0" encoding="utf-16"?><rss><title>한국</title></rss>'.encode()
    decided = decide(body, None)
    assert decided.encoding == "utf-8"
    assert decided.warnings == (
        "character encoding: the XML declaration says utf-16, but the document is not "
        "utf-16; read as utf-8",
    )


@pytest.mark.parametrize("label", ["base64", "rot13", "zlib", "undefined", "unicode_escape"])
def test_decide_codecs_that_are_not_charsets_are_unknown(label: str) -> None:
    body = f"<?xml version='1.0' encoding='{label}'?><rss>\\u003c 한국</rss>".encode()
    decided = decide(body, f"text/xml; charset={label}")
    assert decided.encoding == "utf-8"
    assert decided.body.decode().endswith("<rss>\\u003c 한국</rss>")
    assert len(decided.warnings) == 2


def test_decide_unknown_label() -> None:
    decided = decide("<rss>한국</rss>".encode(), "text/xml; charset=x-no-such-thing")
    assert decided.encoding == "utf-8"
    assert decided.warnings == (
        "character encoding: the HTTP charset names an unknown encoding 'x-no-such-thing'; "
        "read as utf-8",
    )


@pytest.mark.parametrize(
    ("label", "text", "encoding"),
    [
        ("Shift_JIS", "日本語①", "cp932"),  # ① is a Windows-31J (NEC) extension
        ("gb2312", "中文€", "gb18030"),
        ("iso-8859-1", "don’t “quote”", "cp1252"),
        ("us-ascii", "it’s", "cp1252"),
    ],
)
def test_decide_reads_labels_as_browsers_do(label: str, text: str, encoding: str) -> None:
    body = f"<?xml version='1.0' encoding='{label}'?><rss>{text}</rss>".encode(encoding)
    decided = decide(body, None)
    assert (decided.encoding, decided.warnings) == (encoding, ())
    assert decided.body.decode() == f"<?xml version='1.0' encoding='utf-8'?><rss>{text}</rss>"


def test_decide_windows_1252_undefined_bytes_are_c1_controls() -> None:
    decided = decide(b"<rss>\x81\x93x\x94</rss>", "text/xml; charset=windows-1252")
    assert decided.body.decode() == "<rss>\x81“x”</rss>"


def test_decide_single_byte_label_yields_to_valid_utf8() -> None:
    body = "<rss>Café</rss>".encode()
    decided = decide(body, "text/xml; charset=iso-8859-1")
    assert (decided.encoding, decided.body) == ("utf-8", body)


@pytest.mark.parametrize(
    "body",
    [
        codecs.BOM_UTF8 + b"<rss>\xff</rss>",
        codecs.BOM_UTF16_LE + b"<\x00r",  # odd length
        "<rss>Café</rss>".encode("latin-1"),
    ],
)
def test_decide_leaves_what_it_cannot_read_to_feedparser(body: bytes) -> None:
    decided = decide(body, None)
    assert decided == Decoded(None, body)


def test_looks_korean() -> None:
    assert looks_korean("<rss>한국 뉴스 — 똠</rss>")
    assert not looks_korean("<rss>ascii only</rss>")
    # Windows-1252 smart quotes read as CP949 are rare syllables, not text.
    assert not looks_korean("it’s don’t".encode("cp1252").decode("cp949"))


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=100).map(
            lambda t: ('<?xml version="1.0" encoding="euc-kr"?>' + t).encode("utf-8")
        ),
        st.sampled_from([codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b""]).flatmap(
            lambda mark: st.binary(max_size=100).map(lambda b: mark + b)
        ),
    ),
    st.sampled_from([None, "text/xml; charset=euc-kr", "text/xml; charset=utf-16", "a; charset=?"]),
)  # fmt: skip
def test_decide_gives_utf8_or_leaves_the_body(body: bytes, content_type: str | None) -> None:
    decided = decide(body, content_type)
    if decided.encoding is None:
        assert decided.body is body
    else:
        assert not decided.body.startswith(codecs.BOM_UTF8)
        decided.body.decode("utf-8")


# --- A big feed --------------------------------------------------------------------------


def big_rss(items: int) -> bytes:
    """An RSS 2.0 feed of ``items`` items of about 1 KB each."""
    body = ("한국어 기사 본문입니다. Some English too. " * 30)[:400]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Big</title>'
        + "".join(
            f"<item><title>기사 {i}: 속보 &amp; 분석</title>"
            f"<link>https://k.example.kr/news/{i}</link>"
            f"<guid>https://k.example.kr/news/{i}</guid>"
            f"<pubDate>Tue, 02 Jan 2024 10:00:00 +0900</pubDate>"
            f"<description>{body}</description></item>\n"
            for i in range(items)
        )
        + "</channel></rss>"
    ).encode("utf-8")


def test_a_feed_of_3000_items() -> None:
    body = big_rss(3000)
    assert 2_500_000 < len(body) < 3_500_000
    feed = korean(body)
    assert len(feed.entries) == 3000
    assert feed.entries[-1].title == "기사 2999: 속보 & 분석"
    assert feed.warnings == ()


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
