"""Posts from a hostile feed in a real Jekyll site: Debian's ``jekyll`` with the minima
theme builds them, and headless Chromium opens the built pages.

An item may hold Liquid (``{{ site.secret_api_token }}``, ``{% raise %}``, ``{% include
missing.html %}``, ``{{ site | jsonify }}``), Markdown links to ``javascript:`` and markup
that only becomes markup once its entities are decoded, in its title, author, summary,
categories and image. The build must succeed, print Liquid as text, leak nothing of the
site's configuration, and no script of the feed's may run in the browser. A control page
with a script of our own shows the browser probe would see one run.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import html

from tests.cli import run_cli
from tests.feedserver import running_server
from tests.live_site import installed
from tests.test_browser import dump_dom

#: Longest the build may take; Liquid run on the items took it to minutes.
BUILD_SECONDS = 300
SECRET = "SECRET-TOKEN-7f3a9c"
#: Attributes a browser follows or loads as a URL.
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "poster", "background", "cite", "srcset", "data"}
)
#: Every script of the feed's would mark the page it runs on with this attribute.
MARK = "data-pwned"


def mark(where: str) -> str:
    """Script that marks the page, saying which payload ran."""
    return f"document.documentElement.setAttribute('{MARK}','{where}')"


def onerror_image(where: str) -> str:
    return f'<img src="x" onerror="{mark(where)}">'


def hostile_feed() -> str:
    """RSS whose items carry Liquid, Markdown and entity-encoded markup everywhere."""
    liquid_body = (
        "<p>Token: {{ site.secret_api_token }}</p><p>{% raise %}</p>"
        "<p>{% include missing.html %}</p><p>" + "{{ site | jsonify }}" * 3 + "</p>"
    )
    markdown_body = (
        "<p>Read on.</p>\n"
        f"See [this report](javascript:{mark('markdown-link')}) now.\n\n"
        "Also [that one][r].\n\n"
        f"[r]: javascript:{mark('markdown-reference')}\n\n"
        '{: onmouseover="' + mark("markdown-attributes") + '"}\n'
        f"<p>{onerror_image('raw-image')}</p><script>{mark('raw-script')}</script>"
    )
    decoded_markup = escape(onerror_image("excerpt")) + " and " + escape("<script>")
    decoded_markup += escape(mark("excerpt-script")) + escape("</script>")
    items = [
        (
            "liquid",
            "Liquid {{ site.secret_api_token }} {% raise %} in a title",
            liquid_body,
            "Liquid {{ site.secret_api_token }}",
            "",
        ),
        ("markdown", "Markdown links to javascript", markdown_body, "Markdown", ""),
        (
            "entities",
            onerror_image("title") + " titled",
            f"<p>{decoded_markup}</p>",
            onerror_image("author"),
            '<enclosure url="https://img.example/a.jpg?q=&quot;onerror=&quot;'
            + mark("image")
            + '" type="image/jpeg" length="1"/>',
        ),
    ]
    entries = "".join(
        f"<item><title>{escape(title)}</title>"
        f"<link>https://outlet.example/news/{key}</link>"
        f"<guid isPermaLink='false'>{key}</guid>"
        "<pubDate>Fri, 20 Nov 2026 09:30:00 +0000</pubDate>"
        f"<dc:creator>{escape(author)}</dc:creator>"
        f"<category>{escape(onerror_image('category'))}</category>"
        f"<description>{escape(body)}</description>{extra}</item>"
        for key, title, body, author, extra in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>Hostile outlet</title><link>https://outlet.example/</link>"
        f"<description>d</description>{entries}</channel></rss>"
    )


def minima_site(directory: Path) -> Path:
    """An empty minima site with a secret in its configuration and excerpts on its home
    page, plus the control page; its ``_posts`` directory."""
    directory.mkdir()
    (directory / "_config.yml").write_text(
        "title: News\ntheme: minima\nplugins: [jekyll-feed, jekyll-seo-tag]\n"
        "defaults: [{scope: {path: '', type: posts}, values: {layout: post}}]\n"
        f"show_excerpts: true\nsecret_api_token: {SECRET}\n",
        encoding="utf-8",
    )
    (directory / "index.md").write_text("---\nlayout: home\n---\n", encoding="utf-8")
    # Themes that run front matter through Markdown (a hero's `feature_text`, excerpts on
    # archive pages, titles with inline Markdown).
    (directory / "markdownified.html").write_text(
        "---\nlayout: default\ntitle: Markdownified\n---\n{% for post in site.posts %}"
        '<h2 class="post">{{ post.title | markdownify }}</h2>{{ post.excerpt | markdownify }}'
        "{{ post.feature_text | markdownify }}<p>{{ post.author | markdownify }}</p>"
        "{% endfor %}\n",
        encoding="utf-8",
    )
    (directory / "control.html").write_text(
        f"<!doctype html><html><body>{onerror_image('control')}</body></html>\n",
        encoding="utf-8",
    )
    return directory / "_posts"


def write_config(directory: Path, feed_url: str, posts: Path) -> Path:
    config = directory / "feeds.yaml"
    config.write_text(
        "site: {title: News, link: 'https://news.example.org/', timezone: UTC}\n"
        "storage: sqlite:///data/aggregator.db\n"
        f"output: {{dir: public, posts_dir: '{posts}'}}\n"
        "fetch: {allow_private: [127.0.0.1]}\n"
        f"sources:\n  - {{id: hostile, url: '{feed_url}', categories: [News]}}\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def jekyll_binary() -> str:
    found = installed("jekyll", "jekyll")
    theme = subprocess.run(
        ["gem", "list", "--installed", "minima"], capture_output=True, text=True, timeout=60
    )
    if theme.returncode != 0:
        pytest.skip("the minima theme is not installed (Debian's jekyll-theme-minima)")
    return found


@pytest.fixture(scope="module")
def chromium_binary() -> str:
    return installed("chromium", "chromium")


@pytest.fixture(scope="module")
def built_site(jekyll_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The minima site built with the posts of one fetch of the hostile feed."""
    work = tmp_path_factory.mktemp("jekyll")
    posts = minima_site(work / "site")
    with running_server() as server:
        url = server.serve("/feed.xml", hostile_feed())
        fetched = run_cli(write_config(work, url, posts), "fetch", "--all")
    assert fetched.returncode == 0, fetched.stderr
    assert len(list(posts.glob("*.md"))) == 3, sorted(p.name for p in posts.iterdir())
    try:
        build = subprocess.run(
            [jekyll_binary, "build", "--source", str(work / "site")],
            cwd=work / "site",
            capture_output=True,
            text=True,
            timeout=BUILD_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"jekyll build took over {BUILD_SECONDS}s: Liquid in the posts was run")
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    return work / "site" / "_site"


def post_pages(site: Path) -> list[Path]:
    """The built posts (minima's permalinks hold the categories and the date)."""
    return sorted(p for p in site.rglob("*.html") if "2026" in p.relative_to(site).parts)


def test_the_site_builds_and_shows_liquid_as_text(built_site: Path) -> None:
    pages = post_pages(built_site)
    assert len(pages) == 3
    everything = "".join(p.read_text("utf-8") for p in built_site.rglob("*") if p.is_file())
    assert SECRET not in everything
    texts = {p: html.fromstring(p.read_bytes()).text_content() for p in pages}
    liquid = [p for p, text in texts.items() if "Token:" in text]
    assert len(liquid) == 1
    text = texts[liquid[0]]
    assert "{{ site.secret_api_token }}" in text
    assert "{% raise %}" in text and "{% include missing.html %}" in text
    assert text.count("{{ site | jsonify }}") == 3


def theme_pages(site: Path) -> list[Path]:
    return [site / "index.html", site / "markdownified.html", *post_pages(site)]


def test_no_page_links_to_javascript_or_carries_a_handler(built_site: Path) -> None:
    markdownified = html.fromstring((built_site / "markdownified.html").read_bytes())
    assert len(markdownified.find_class("post")) == 3, "the Markdown page lists every post"
    for page in theme_pages(built_site):
        tree = html.fromstring(page.read_bytes())
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            for name, value in element.attrib.items():
                assert not name.lower().startswith("on"), (page.name, name, value)
                if name.lower() in URL_ATTRIBUTES:
                    assert not value.strip().lower().startswith("javascript:"), (page, value)
            if element.tag == "script":
                assert element.get("type") == "application/ld+json", (page.name, element.text)


@pytest.fixture(scope="module")
def served_site(built_site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_no_script_of_the_feed_runs_in_chromium(
    chromium_binary: str, built_site: Path, served_site: str, tmp_path: Path
) -> None:
    control = dump_dom(chromium_binary, tmp_path / "control", served_site + "control.html")
    assert control.get(MARK) == "control", "the probe did not see the control script run"
    pages = theme_pages(built_site)
    for number, page in enumerate(pages):
        address = served_site + page.relative_to(built_site).as_posix()
        dom = dump_dom(chromium_binary, tmp_path / str(number), address)
        assert dom.get(MARK) is None, f"{dom.get(MARK)} ran on {address}"
        assert dom.findtext(".//title"), f"{address} did not load"
