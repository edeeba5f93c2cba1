"""A real browser on the served site: headless Chromium (Debian's, installed when missing)
loads the index page and the feeds from ``aggregator serve``.

The index page must announce the channels (``<link rel="alternate">``), show the subscribe
links and the latest articles, and render on a phone-sized window; a feed opened in the
browser must come out as a readable HTML page through ``feed.xsl``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import subprocess
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import feedparser
import httpx
import pytest
from lxml import etree, html

from aggregator.feed_style import (
    FEED_XSL,
    STYLESHEET_HREF,
    STYLESHEET_PATH,
    XML_MEDIA_TYPE,
    browser_media_type,
    with_stylesheet,
)
from aggregator.index_page import render_index
from aggregator.syndication import FeedRenderer, render_atom, render_rss
from tests.live_site import LiveSite, installed, korean_font, running_site
from tests.test_syndication import HOSTILE, ITEMS, META, NOW

#: Longest a single Chromium run may take (start, load, dump or screenshot, exit).
CHROMIUM_SECONDS = 90
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The channel's title in each format's copy.
FORMAT_TITLES = {"xml": "전체 뉴스", "atom": "전체 뉴스 (Atom)"}
#: What Chromium sends when it navigates to a page.
CHROME_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
#: What feedparser sends.
FEEDPARSER_ACCEPT = (
    "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,"
    "application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


@pytest.fixture(scope="module")
def chromium_binary() -> str:
    return installed("chromium", "chromium")


@pytest.fixture(scope="module")
def hangul() -> None:
    """A font with Hangul, so screenshots show the Korean titles."""
    korean_font()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with running_site(tmp_path_factory.mktemp("site")) as running:
        yield running


def chromium(binary: str, profile: Path, *arguments: str) -> str:
    """Run headless Chromium with a fresh profile; its standard output. The whole process
    group is killed if it takes longer than ``CHROMIUM_SECONDS`` (and after it exits, so
    no helper process outlives the test)."""
    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", *arguments],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "LANG": "C.UTF-8"},
    )
    try:
        stdout, stderr = process.communicate(timeout=CHROMIUM_SECONDS)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.communicate()
        pytest.fail(f"chromium {' '.join(arguments)} took over {CHROMIUM_SECONDS}s")
    finally:
        _kill_group(process.pid)
    message = stderr.decode("utf-8", "replace")[-2000:]
    assert process.returncode == 0, f"chromium exited {process.returncode}:\n{message}"
    return stdout.decode("utf-8")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def dump_dom(binary: str, tmp_path: Path, url: str) -> html.HtmlElement:
    dom = chromium(binary, tmp_path / "profile", "--dump-dom", url)
    assert dom.strip(), f"chromium dumped nothing for {url}"
    return html.fromstring(dom)


def test_the_index_page_announces_the_channels_and_lists_the_articles(
    chromium_binary: str, site: LiveSite, tmp_path: Path
) -> None:
    page = dump_dom(chromium_binary, tmp_path, site.base)

    announced = {
        (link.get("type"), link.get("href")) for link in page.xpath("//head/link[@rel='alternate']")
    }
    for channel in site.channels:
        assert ("application/rss+xml", f"feeds/{channel}.xml") in announced
        assert ("application/atom+xml", f"feeds/{channel}.atom") in announced
        assert ("application/feed+json", f"feeds/{channel}.json") in announced
    visible = {(a.text_content(), a.get("href")) for a in page.xpath("//body//a")}
    for channel in site.channels:
        for extension, label in (("xml", "RSS"), ("atom", "Atom"), ("json", "JSON Feed")):
            assert (label, f"feeds/{channel}.{extension}") in visible
    listed = [a.text_content() for a in page.xpath("//ul[@class='articles']/li/a")]
    assert listed == list(site.titles)


@pytest.mark.usefixtures("hangul")
def test_the_index_page_renders_on_a_phone_sized_window(
    chromium_binary: str, site: LiveSite, tmp_path: Path
) -> None:
    shot = tmp_path / "index.png"
    chromium(
        chromium_binary,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=412,915",
        site.base,
    )
    assert shot.exists(), "chromium wrote no screenshot"
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10 * 1024, f"a {len(data)}-byte screenshot is too small to show the page"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (412, 915)


@pytest.mark.parametrize("extension", ["xml", "atom"])
def test_a_feed_opened_in_the_browser_is_a_readable_page(
    chromium_binary: str, site: LiveSite, tmp_path: Path, extension: str
) -> None:
    url = site.url(f"feeds/all.{extension}")
    served_as = httpx.get(url, headers={"Accept": CHROME_ACCEPT}).headers["content-type"]
    assert served_as == XML_MEDIA_TYPE, (
        f"{url} is served to browsers as {served_as}, which Chromium shows as plain text: "
        "the server should answer them with feed_style.browser_media_type"
    )
    page = dump_dom(chromium_binary, tmp_path, url)

    assert page.tag == "html"  # transformed: not the XML tree view
    assert page.xpath("//rss | //feed | //channel | //entry") == []
    # The Atom copy names its format, so a reader's list tells the two apart.
    assert page.xpath("normalize-space(//h1)") == FORMAT_TITLES[extension]
    assert "여러 언론사의 속보를 한곳에" in page.text_content()
    items = page.xpath("//ol[@class='items']/li")
    titles = [li.xpath("normalize-space(.//h2/a)") for li in items]
    assert titles == list(site.titles)
    links = [li.xpath("string(.//h2/a/@href)") for li in items]
    assert all(link.startswith("https://") for link in links)
    dates = [li.xpath("normalize-space(.//time)") for li in items]
    assert all("2026" in date for date in dates)
    # The summary is shown as text, not as markup to be parsed again.
    assert "자세한 내용은 본문에서." in items[0].text_content()


# --- the stylesheet, without a browser -------------------------------------------------------


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_feeds_name_the_stylesheet_right_after_the_xml_declaration(render: FeedRenderer) -> None:
    data = render(META, ITEMS, NOW)
    declaration, instruction, root = data.split(b"\n", 2)
    assert declaration == b"<?xml version='1.0' encoding='UTF-8'?>"
    assert instruction == b'<?xml-stylesheet type="text/xsl" href="../feed.xsl"?>'
    assert root.startswith((b"<rss ", b"<feed "))
    assert feedparser.parse(data).bozo == 0
    assert etree.fromstring(data).getprevious().target == "xml-stylesheet"


def test_with_stylesheet_on_a_document_without_a_declaration() -> None:
    assert with_stylesheet(b"<rss/>", "s.xsl") == (
        b'<?xml-stylesheet type="text/xsl" href="s.xsl"?>\n<rss/>'
    )


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_the_stylesheet_makes_a_page_of_the_channel_and_its_items(render: FeedRenderer) -> None:
    transform = etree.XSLT(etree.fromstring(FEED_XSL))
    page = html.fromstring(str(transform(etree.fromstring(render(META, ITEMS, NOW)))))

    title = FORMAT_TITLES["atom" if render is render_atom else "xml"]
    assert page.xpath("string(//title)") == f"{title} (feed)"
    assert page.xpath("normalize-space(//h1)") == title
    assert page.get("lang") == "ko"
    items = page.xpath("//ol[@class='items']/li")
    assert [li.xpath("normalize-space(.//h2)") for li in items] == [
        "글로벌 유니콘으로 성장하는 초격차 AI 스타트업의 이야기",
        "Markets rally as rates hold",
        "(untitled)",
    ]
    assert items[0].xpath(".//h2/a/@href") == ["https://news.example.com/k1"]
    assert items[2].xpath(".//h2/a") == []  # no link, no anchor
    assert "2024" in items[0].xpath("normalize-space(.//time)")
    assert "중소기업벤처부가" in items[0].xpath("normalize-space(.//*[@class='summary'])")
    # Self-contained: nothing is loaded from anywhere.
    assert page.xpath("//script | //link | //img | //iframe | //@src") == []


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_hostile_text_stays_text_on_the_page(render: FeedRenderer) -> None:
    transform = etree.XSLT(etree.fromstring(FEED_XSL))
    serialized = str(transform(etree.fromstring(render(META, [HOSTILE], NOW))))
    page = html.fromstring(serialized)
    assert page.xpath("//script | //*[@onerror] | //*[@onclick]") == []
    assert "javascript:" not in serialized
    assert "<script>alert('x')</script> bad title" in page.xpath("normalize-space(//h2)")


def test_the_stylesheet_is_published_at_the_root_the_feeds_point_to() -> None:
    assert STYLESHEET_PATH == "feed.xsl"
    assert STYLESHEET_HREF == "../feed.xsl"  # from feeds/<channel>.<ext>
    root = etree.fromstring(FEED_XSL)
    assert root.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (CHROME_ACCEPT, XML_MEDIA_TYPE),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", XML_MEDIA_TYPE),
        ("application/xhtml+xml", XML_MEDIA_TYPE),
        (FEEDPARSER_ACCEPT, "application/rss+xml; charset=utf-8"),
        ("*/*", "application/rss+xml; charset=utf-8"),
        ("text/html;q=0, application/rss+xml", "application/rss+xml; charset=utf-8"),
        ("text/html;q=bad", "application/rss+xml; charset=utf-8"),
        (None, "application/rss+xml; charset=utf-8"),
    ],
)
def test_browsers_get_feeds_as_xml_they_render_and_readers_the_feed_type(
    accept: str | None, expected: str
) -> None:
    assert browser_media_type("application/rss+xml; charset=utf-8", accept) == expected


def test_only_rss_and_atom_are_answered_as_xml_to_browsers() -> None:
    atom = "application/atom+xml; charset=utf-8"
    assert browser_media_type(atom, CHROME_ACCEPT) == XML_MEDIA_TYPE
    for other in ("application/feed+json; charset=utf-8", "text/html; charset=utf-8"):
        assert browser_media_type(other, CHROME_ACCEPT) == other


def test_korean_breaks_between_words_on_both_pages() -> None:
    # Korean is set with breaks between words (word-break: keep-all); a browser's default
    # broke titles mid-word on a phone.
    page = render_index("뉴스", "", (), (), UTC, NOW, language="ko").decode()
    transform = etree.XSLT(etree.fromstring(FEED_XSL))
    feed_page = str(transform(etree.fromstring(render_rss(META, ITEMS, NOW))))
    for styled in (page, feed_page):
        (style,) = html.fromstring(styled).xpath("//style/text()")
        body = style.split("body{", 1)[1].split("}", 1)[0]
        assert "word-break:keep-all" in body and "overflow-wrap:anywhere" in body
