"""Properties over arbitrary input: what a hostile feed or a mistyped feeds.yaml can send.

Normalizing never raises and never publishes markup a browser or a Jekyll theme would run;
canonical links are stable and carry no credentials; the feeds.yaml loader answers any
text with settings or a ``ConfigError``, never another exception.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator import frontmatter
from aggregator.config import ConfigError, parse_config
from aggregator.model import Article, Entry, Source
from aggregator.normalize import normalize
from aggregator.urls import canonical_url

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SOURCE = Source(
    id="wire", url="https://wire.example.com/feed", name="Wire", home="https://wire.example.com"
)

#: Pieces hostile markup is made of, mixed with any text.
PIECES = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "&lt;img src=x onerror=alert(1)&gt;",
        "<a href='javascript:alert(1)'>x</a>",
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        "<svg><g onload=alert(1)></g></svg>",
        '<p data-hx-on::before-request="alert(1)">x</p>',
        "[x](javascript:alert(1))",
        "{: onmouseover=alert(1)}",
        "{{ site.secret }}",
        "{% raise %}",
        "<div>" * 40,
        "</div>",
        "<",
        "&",
        "\x00",
        "\u2028",
        "한국어 기사",
    ]
)
HOSTILE_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=12).map("".join)
URLS = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda scheme, user, host, path: f"{scheme}://{user}{host}/{path}",
        st.sampled_from(["http", "https", "HTTPS", "javascript", "file"]),
        st.sampled_from(["", "user:pw@", "a@b@"]),
        st.sampled_from(["wire.example.com", "WIRE.example.com:443", "127.0.0.1", "[::1]"]),
        st.text(max_size=20),
    ),
)

_SCRIPT_URL = re.compile(
    r"(?:href|src|action|poster|cite)\s*=\s*[\"']?\s*(?:javascript|vbscript|data):", re.I
)
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_TAG = re.compile(r"<(?=[A-Za-z!/?])")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=HOSTILE_TEXT,
    summary=st.one_of(st.none(), HOSTILE_TEXT),
    content=st.one_of(st.none(), HOSTILE_TEXT),
    author=st.one_of(st.none(), HOSTILE_TEXT),
    link=st.one_of(st.none(), URLS),
)
def test_normalizing_anything_publishes_nothing_that_runs(
    title: str, summary: str | None, content: str | None, author: str | None, link: str | None
) -> None:
    entry = Entry(guid="g", link=link, title=title, summary=summary, content=content, author=author)
    article = normalize(entry, SOURCE, base_url="https://wire.example.com/news/", now=NOW)
    body = article.body.lower()
    assert "<script" not in body and not _SCRIPT_URL.search(html.unescape(article.body))
    assert not _HANDLER.search(article.body)
    assert not re.search(r"<[^>]*\sdata-hx", body)
    for trigger in ("](", "]:", "{:"):
        assert trigger not in article.body
    for text in (article.title, article.excerpt, article.author or ""):
        assert not _TAG.search(text), text
    for url in (article.canonical_url, article.image):
        if url:
            assert url.startswith(("http://", "https://")) and '"' not in url and "'" not in url


#: Every key a post's front matter may hold.
POST_KEYS = {
    "title", "categories", "excerpt", "feature_text", "image", "date", "source", "source_url",
    "canonical_url", "id", "author", "tags", "also_reported_by", "render_with_liquid",
}  # fmt: skip
#: What ends or opens YAML documents and block scalars, beside the hostile markup.
YAML_HOSTILE = st.sampled_from(["---\n", "\n---\n", "...\n", ": ", " #", "|\n", ">-\n", "\n\n"])
FRONT_TEXT = st.lists(st.one_of(PIECES, YAML_HOSTILE, st.text(max_size=20)), max_size=10).map(
    "".join
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=FRONT_TEXT,
    excerpt=FRONT_TEXT,
    feature=FRONT_TEXT,
    body=FRONT_TEXT,
    author=st.one_of(st.none(), FRONT_TEXT),
    tags=st.lists(FRONT_TEXT, max_size=3),
)
def test_a_post_of_hostile_text_reads_back_as_written_and_keeps_its_keys(
    title: str, excerpt: str, feature: str, body: str, author: str | None, tags: list[str]
) -> None:
    article = Article(
        title=title,
        categories=("News",),
        excerpt=excerpt,
        feature_text=feature,
        image=None,
        body=body.replace("\r", ""),
        author=author,
        tags=tuple(tags),
    )
    text = frontmatter.dumps(article)
    assert frontmatter.loads(text) == article
    front = yaml.safe_load(text[len("---\n") : text.index("\n---\n") + 1])
    assert isinstance(front, dict) and set(front) <= POST_KEYS, front
    assert ("render_with_liquid" in front) == any(marker in text for marker in ("{{", "{%")), (
        "Liquid markers without render_with_liquid: false"
    )


@settings(max_examples=300, deadline=None)
@given(URLS)
def test_canonical_links_are_stable_and_carry_no_credentials(url: str) -> None:
    canonical = canonical_url(url)
    if canonical is None:
        return
    assert canonical_url(canonical) == canonical
    assert "@" not in canonical.split("/")[2]
    assert canonical.startswith(("http://", "https://"))


YAML_PIECES = st.sampled_from(
    [
        "sources:\n",
        "  - {id: a, url: 'https://a.example/feed'}\n",
        "  - id: b\n    url: https://b.example/feed\n",
        "fetch: {interval: 3000000d, allow_private: [10.0.0.0/33]}\n",
        "retention: 0s\n",
        "&a [*a]\n",
        "x: &x [1, 2]\ny: [*x, *x]\n",
        "<<: *x\n",
        "site: !!python/object:os.system x\n",
        "channels:\n  - {id: all, limit: -1}\n",
        ": :\n",
        "\t\n",
        "'\n",
        "storage: postgres://u:pw@db/x\n",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(YAML_PIECES, st.text(max_size=15)), max_size=8).map("".join))
def test_any_feeds_yaml_loads_or_says_why(text: str) -> None:
    try:
        parse_config(text, base_dir=Path("/srv/aggregator"))
    except ConfigError as error:
        assert str(error)
