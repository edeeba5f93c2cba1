"""Entry → Article: the reference, the image rule, excerpts, titles, templates, ids."""

from __future__ import annotations

import dataclasses
import html
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.model import Entry, Source, Templates, story_id
from aggregator.normalize import cut_text, entry_guid, is_wanted, normalize
from aggregator.sanitize import MAX_DEPTH, html_to_text, limit_nesting, sanitize_html
from tests.conftest import ADSKOREA, seed_article, seed_content

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BASE = "https://newsdao.kr/rss"


def seed_entry() -> Entry:
    reference = seed_article()
    return Entry(
        guid="newsdao-2026-11-20-ai-startup-levelup",
        link="https://newsdao.kr/news/ai-startup-levelup?utm_source=rss",
        title=reference.title,
        summary=reference.excerpt,
        content=seed_content(),
        published=datetime(2026, 11, 20, 0, 30, tzinfo=UTC),
        tags=("AI", "AI", "<b>스타트업</b>"),
    )


def test_the_reference_item_normalizes_to_the_reference_article() -> None:
    reference = seed_article()
    article = normalize(seed_entry(), ADSKOREA, base_url=BASE, now=NOW)
    for key in ("title", "categories", "excerpt", "feature_text", "image", "body"):
        assert getattr(article, key) == getattr(reference, key), key
    assert article.canonical_url == "https://newsdao.kr/news/ai-startup-levelup"
    assert article.id == story_id("adskorea", "newsdao-2026-11-20-ai-startup-levelup")
    assert article.source == "adskorea" and article.source_url == "https://newsdao.kr"
    assert article.date == datetime(2026, 11, 20, 0, 30, tzinfo=UTC)
    assert article.tags == ("AI", "스타트업")


def test_normalizing_is_deterministic() -> None:
    first = normalize(seed_entry(), ADSKOREA, base_url=BASE, now=NOW)
    again = normalize(seed_entry(), ADSKOREA, base_url=BASE, now=NOW + timedelta(hours=5))
    assert first == again


def plain_source(**changes: object) -> Source:
    source = Source(
        id="wire", url="https://wire.example.com/feed", name="Wire", home="https://wire.example.com"
    )
    return dataclasses.replace(source, **changes)  # type: ignore[arg-type]


def entry(**fields: object) -> Entry:
    values: dict[str, object] = {"guid": "g1", "link": "https://wire.example.com/a", "title": "T"}
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


def test_titles_are_plain_one_line_text() -> None:
    raw = "  <b>Markets</b> &amp; rates:\n\t&quot;higher&quot; &#8212; again\x00  "
    article = normalize(entry(title=raw), plain_source(), base_url=BASE, now=NOW)
    assert article.title == 'Markets & rates: "higher" — again'


def test_an_empty_title_is_taken_from_the_excerpt() -> None:
    words = "Quake hits the coast overnight and residents move to higher ground " * 3
    article = normalize(entry(title=" ", summary=words), plain_source(), base_url=BASE, now=NOW)
    assert article.title.startswith("Quake hits the coast overnight")
    assert len(article.title) <= 80 and article.title.endswith("…")


@pytest.mark.parametrize(
    ("images", "content", "default", "expected"),
    [
        (
            ("https://cdn.example/m.jpg", "https://cdn.example/t.jpg"),
            '<img src="/c.png">',
            "https://d/x.jpg",
            "https://cdn.example/m.jpg",
        ),
        (("javascript:alert(1)", "/thumb.jpg"), "", None, "https://wire.example.com/thumb.jpg"),
        (
            (),
            '<p>x <img src="/inline.png" alt=""></p>',
            "https://d.example/x.jpg",
            "https://wire.example.com/inline.png",
        ),
        ((), "<p>no image</p>", "https://d.example/x.jpg", "https://d.example/x.jpg"),
        ((), "<p>no image</p>", None, None),
    ],
)
def test_the_image_rule(
    images: tuple[str, ...], content: str, default: str | None, expected: str | None
) -> None:
    article = normalize(
        entry(images=images, content=content),
        plain_source(default_image=default),
        base_url="https://wire.example.com/feed",
        now=NOW,
    )
    assert article.image == expected


def test_body_is_sanitized_and_links_made_absolute() -> None:
    hostile = (
        '<p onclick="steal()">Hi <a href="/more" onmouseover="x()">more</a>'
        '<a href="javascript:alert(1)">js</a><script>alert(1)</script>'
        '<img src="data:image/png;base64,AAAA"><iframe src="https://evil.example"></iframe>'
        "<style>p{}</style></p>"
    )
    article = normalize(
        entry(content=hostile), plain_source(), base_url="https://wire.example.com/feed", now=NOW
    )
    body = article.body
    for bad in (
        "onclick",
        "onmouseover",
        "javascript:",
        "<script",
        "alert(1)",
        "data:",
        "<iframe",
        "<style",
    ):
        assert bad not in body
    assert 'href="https://wire.example.com/more"' in body


def test_fallback_content_browsers_never_show_is_dropped_not_shown_as_markup() -> None:
    # feedparser's corpus (sanitize/*_iframe.xml): an iframe's content is raw text to an
    # HTML parser, so it used to come out as "&lt;b&gt;description&lt;/b&gt;" in the body
    # and as literal "<b>description</b>" in the title and excerpt.
    fallback = (
        'safe<iframe src="http://example.com/"> <b>description</b></iframe>'
        "<noembed><b>no</b></noembed><noframes><i>frames</i></noframes>"
    )
    article = normalize(
        entry(title=fallback, summary=fallback, content=fallback),
        plain_source(),
        base_url="https://wire.example.com/feed",
        now=NOW,
    )
    assert (article.title, article.excerpt, article.body) == ("safe", "safe", "safe")


def test_template_values_are_escaped_in_html_but_not_in_markdown() -> None:
    source = plain_source(
        name='A&B "News"',
        templates=Templates(
            feature_text="## {source_name}\n{excerpt}",
            header="<p>{title}</p>",
            footer="<p>{source_name}</p>",
        ),
    )
    article = normalize(entry(title='"Q" & A', summary="1 < 2"), source, base_url=BASE, now=NOW)
    assert article.feature_text == '## A&B "News"\n1 < 2'
    assert article.body.startswith("<p>&quot;Q&quot; &amp; A</p>")
    assert article.body.endswith("<p>A&amp;B &quot;News&quot;</p>")


def test_an_image_header_is_left_out_when_there_is_no_image() -> None:
    source = plain_source(
        templates=Templates(header='<p><img src="{image}"></p>', footer="<p>end</p>")
    )
    article = normalize(entry(content="<p>body</p>"), source, base_url=BASE, now=NOW)
    assert article.body == "<p>body</p>\n<p>end</p>"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short one.", 50, "Short one."),
        (
            "First sentence here. Second sentence is longer than the limit.",
            40,
            "First sentence here.",
        ),
        ("첫 문장입니다. 둘째 문장은 제한보다 깁니다 정말로 깁니다.", 14, "첫 문장입니다."),
        ("one two three four five six seven eight nine ten", 20, "one two three four…"),
        ("x" * 50, 10, "x" * 9 + "…"),
    ],
)
def test_excerpts_are_cut_at_a_sentence_or_word_boundary(
    text: str, limit: int, expected: str
) -> None:
    cut = cut_text(text, limit)
    assert cut == expected
    assert len(cut) <= limit


def test_excerpt_falls_back_to_the_body_text() -> None:
    article = normalize(
        entry(content="<h2>Head</h2><p>First.</p><p>Second.</p>"),
        plain_source(),
        base_url=BASE,
        now=NOW,
    )
    assert article.excerpt == "Head First. Second."


def test_dates_missing_or_in_the_future_become_now() -> None:
    future = normalize(
        entry(published=NOW + timedelta(days=3)), plain_source(), base_url=BASE, now=NOW
    )
    missing = normalize(entry(), plain_source(), base_url=BASE, now=NOW)
    assert future.date == NOW and missing.date == NOW


def test_guids_fall_back_to_the_link_then_a_content_hash() -> None:
    assert entry_guid(entry(guid="  abc "), BASE) == "abc"
    assert (
        entry_guid(entry(guid=None, link="/a?utm_medium=x"), "https://w.example/")
        == "https://w.example/a"
    )
    derived = entry_guid(entry(guid=None, link=None, title="Same"), BASE)
    assert derived == entry_guid(entry(guid=None, link=None, title="Same"), BASE)
    assert derived != entry_guid(entry(guid=None, link=None, title="Other"), BASE)


def test_include_and_exclude_filters() -> None:
    article = normalize(
        entry(title="AI chips ship", summary="Sales rise."), plain_source(), base_url=BASE, now=NOW
    )
    assert is_wanted(article, plain_source())
    assert is_wanted(article, plain_source(include=("(?i)ai\\b",)))
    assert not is_wanted(article, plain_source(include=("weather",)))
    assert not is_wanted(article, plain_source(exclude=("Sales",)))


@pytest.mark.parametrize(
    "attribute",
    [
        'data-hx-on::before-request="alert(1)"',
        'data-hx-get="/steal"',
        'data-hx-trigger="load"',
        "data-x-init=\"fetch('/x')\"",
        'data-bs-toggle="collapse"',
        'data-action="click->x#y"',
        'data-src="https://tracker.example/p.gif"',
        'data-title="&lt;img src=x onerror=alert(1)&gt;"',
        'data-note="{{7*7}}"',
    ],
)
def test_data_attributes_a_script_library_would_act_on_are_dropped(attribute: str) -> None:
    # On a page that loads htmx, data-hx-on::… runs script; Alpine, Stimulus, Bootstrap
    # read theirs the same way, and a URL or markup in any data-* is some script's input.
    html = f'<p {attribute} title="t"><a href="/next">next</a></p>'
    cleaned = sanitize_html(html, "https://outlet.example/news/")
    assert cleaned == (
        '<p title="t"><a href="https://outlet.example/next" rel="noopener noreferrer">next</a></p>'
    )


def test_inert_data_attributes_stay() -> None:
    # Editors mark styles this way (the reference article's data-ke-size="size26").
    html = '<h2 data-ke-size="size26">Title</h2><p data-align="center left">x</p>'
    assert sanitize_html(html) == html


def test_deep_nesting_costs_linear_work_and_keeps_the_text() -> None:
    # 100,000 nested elements took minutes in the HTML parser; beyond MAX_DEPTH the tags
    # go and the text stays.
    deep = "<div><b>" * 50_000 + "the text" + "</b></div>" * 50_000
    assert limit_nesting(deep).count("<") == 2 * MAX_DEPTH
    assert "the text" in sanitize_html(deep)
    assert html_to_text(deep) == "the text"
    # Unclosed paragraphs and list items are not depth: a long page keeps every one.
    flat = "<div>" + "<p>para" * 1000 + "</div>"
    assert limit_nesting(flat) == flat
    assert sanitize_html(flat).count("<p>") == 1000


def test_plain_text_fields_hold_no_markup_even_decoded_from_entities() -> None:
    # "&lt;img …&gt;" decodes to a tag: themes print titles, excerpts and authors raw, and
    # readers that treat RSS titles as HTML ran it.
    hostile = "&lt;img src=x onerror=alert(1)&gt;"
    article = normalize(
        entry(
            title=f"&lt;script&gt;alert(1)&lt;/script&gt;Budget passes {hostile}",
            summary=f"<p>Lawmakers voted {hostile} 3 &lt; 5 and x&lt;3 hold.</p>",
            author=f"Kim {hostile}",
            tags=(f"Politics{hostile}",),
        ),
        plain_source(),
        base_url=BASE,
        now=NOW,
    )
    for text in (article.title, article.excerpt, article.author or "", *article.tags):
        assert "<img" not in text and "<script" not in text and "onerror=alert(1)>" not in text
    assert article.title == "alert(1) Budget passes"  # a removed tag leaves a space
    assert article.excerpt == "Lawmakers voted 3 < 5 and x<3 hold."
    assert article.author == "Kim"


def test_a_body_holds_no_markdown_that_a_jekyll_site_would_turn_into_script() -> None:
    # kramdown reads posts: "[x](javascript:…)" in body text became a javascript: link.
    body = (
        "Click [here](javascript:alert(1)) or [there][t].\n\n[t]: javascript:alert(2)\n\n"
        '<p>Hover me</p>\n{: onmouseover="alert(3)"}'
    )
    article = normalize(entry(content=body), plain_source(), base_url=BASE, now=NOW)
    for trigger in ("](", "]:", "{:"):
        assert trigger not in article.body
    # The same text once a browser decodes it.
    assert html.unescape(article.body).count("[here](javascript:alert(1))") == 1


def test_urls_in_front_matter_are_percent_encoded_where_they_would_break_out() -> None:
    # Written unencoded, a quote in an image URL ended the theme's src="…" attribute.
    article = normalize(
        entry(
            link='https://wire.example.com/a"onmouseover="alert(1)',
            images=("https://wire.example.com/i.jpg' onerror='alert(1)",),
        ),
        plain_source(),
        base_url=BASE,
        now=NOW,
    )
    assert article.image == "https://wire.example.com/i.jpg%27%20onerror=%27alert(1)"
    assert article.canonical_url is not None
    assert '"' not in article.canonical_url and "%22onmouseover=%22" in article.canonical_url
    # Letters of any script stay readable.
    korean = normalize(
        entry(link="https://wire.example.com/뉴스/1"), plain_source(), base_url=BASE, now=NOW
    )
    assert korean.canonical_url == "https://wire.example.com/뉴스/1"


def test_a_source_name_holds_no_markup() -> None:
    # An imported OPML outline named "&lt;script&gt;…" became the source's name, published
    # as a title in every feed's source and in each post's front matter.
    hostile = plain_source(name="<script>alert(1)</script>Wire <img src=x onerror=alert(2)>")
    article = normalize(entry(), hostile, base_url=BASE, now=NOW)
    assert article.source == "Wire"
