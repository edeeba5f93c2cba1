"""OPML 2.0 export and (hostile-input-safe) import."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from aggregator.model import Source
from aggregator.opml import OpmlOutline, parse_opml, plan_import, render_opml

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SOURCES = [
    Source(
        id="adskorea",
        url="https://newsdao.kr/rss",
        name="adskorea",
        home="https://newsdao.kr",
        categories=("News", "속보"),
    ),
    Source(
        id="tricky",
        url="https://example.com/feed?a=1&b=2",
        name='Tom & "Jerry" <News>\x00',
        home="https://example.com/",
    ),
]


def test_render_is_opml_2() -> None:
    data = render_opml("뉴스 모음", SOURCES, NOW)
    root = etree.fromstring(data)

    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert root.xpath("/opml/head/title/text()") == ["뉴스 모음"]
    assert root.xpath("/opml/head/dateCreated/text()") == ["Sat, 01 Jun 2024 12:00:00 +0000"]
    first, second = root.xpath("/opml/body/outline")
    assert dict(first.attrib) == {
        "type": "rss",
        "text": "adskorea",
        "title": "adskorea",
        "xmlUrl": "https://newsdao.kr/rss",
        "htmlUrl": "https://newsdao.kr",
        "category": "News,속보",
    }
    # Escaped by the serializer, not glued: the values come back exactly (minus the NUL).
    assert second.get("text") == 'Tom & "Jerry" <News>'
    assert second.get("xmlUrl") == "https://example.com/feed?a=1&b=2"
    assert second.get("category") is None


def test_render_then_parse_round_trips() -> None:
    outlines = parse_opml(render_opml("뉴스 모음", SOURCES, NOW))
    assert outlines == [
        OpmlOutline(
            text="adskorea",
            xml_url="https://newsdao.kr/rss",
            html_url="https://newsdao.kr",
            categories=("News", "속보"),
        ),
        OpmlOutline(
            text='Tom & "Jerry" <News>',
            xml_url="https://example.com/feed?a=1&b=2",
            html_url="https://example.com/",
            categories=(),
        ),
    ]


def test_render_with_no_sources() -> None:
    assert parse_opml(render_opml("empty", [], NOW)) == []


def test_parse_flattens_folders_into_categories() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Reader export</title></head>
  <body>
    <outline text="Tech">
      <outline text="AI" title="AI">
        <outline type="rss" text="Model News" xmlurl="https://ai.example/feed"
                 category="/Research/ML, Deep"/>
      </outline>
      <outline type="rss" title="Gadgets" xmlUrl=" https://gadgets.example/rss "
               htmlUrl="https://gadgets.example/"/>
    </outline>
    <outline type="rss" xmlUrl="https://bare.example/atom"/>
    <outline text="Empty folder"/>
  </body>
</opml>"""
    assert parse_opml(data) == [
        OpmlOutline(
            "Model News", "https://ai.example/feed", None, ("Tech", "AI", "Research/ML", "Deep")
        ),
        OpmlOutline(
            "Gadgets", "https://gadgets.example/rss", "https://gadgets.example/", ("Tech",)
        ),
        OpmlOutline("https://bare.example/atom", "https://bare.example/atom", None, ()),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "malformed OPML"),
        (b"<opml><body><outline></body></opml>", "malformed OPML"),
        (b"\xff\xfe not xml", "malformed OPML"),
        (b"<rss version='2.0'><channel/></rss>", "root element is <rss>"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
    ],
)
def test_parse_rejects_malformed_input(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_opml(data)


def test_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER", encoding="utf-8")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY e SYSTEM "{secret.as_uri()}">]>
<opml version="2.0"><head><title>&e;</title></head>
<body><outline type="rss" text="x" xmlUrl="https://a.example/feed"/>&e;</body></opml>
""".encode()
    with pytest.raises(ValueError, match="declares XML entities") as caught:
        parse_opml(data)
    assert "TOP-SECRET-MARKER" not in str(caught.value)


def test_etc_passwd_entity_is_refused() -> None:
    data = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&e;" xmlUrl="https://a.example/"/></body></opml>"""
    with pytest.raises(ValueError) as caught:
        parse_opml(data)
    assert "root:" not in str(caught.value)


def test_external_parameter_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "dtd.txt"
    secret.write_text('<!ENTITY leak "TOP-SECRET-MARKER">', encoding="utf-8")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>
<opml version="2.0"><body><outline text="&leak;" xmlUrl="https://a.example/"/></body></opml>
""".encode()
    with pytest.raises(ValueError) as caught:
        parse_opml(data)
    assert "TOP-SECRET-MARKER" not in str(caught.value)


def test_entity_bomb_is_refused() -> None:
    data = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<opml version="2.0"><body><outline text="&d;" xmlUrl="https://a.example/"/></body></opml>"""
    with pytest.raises(ValueError):
        parse_opml(data)


def test_billion_laughs_is_refused_before_expansion() -> None:
    levels = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    ]
    data = (
        f'<?xml version="1.0"?><!DOCTYPE opml [{"".join(levels)}]>'
        '<opml version="2.0"><body><outline text="&l9;" xmlUrl="https://a.example/"/></body>'
        "</opml>"
    )
    for encoding in ("utf-8", "utf-16"):
        with pytest.raises(ValueError, match="declares XML entities"):
            parse_opml(
                data.replace('version="1.0"', f'version="1.0" encoding="{encoding}"', 1).encode(
                    encoding
                )
            )


def test_a_doctype_without_entities_is_fine() -> None:
    data = b"""<?xml version="1.0"?>
<!DOCTYPE opml SYSTEM "http://example.invalid/opml.dtd">
<opml version="2.0"><body><outline text="x" xmlUrl="https://a.example/"/></body></opml>"""
    assert parse_opml(data) == [OpmlOutline("x", "https://a.example/", None, ())]


def test_an_imported_name_is_plain_text() -> None:
    outlines = parse_opml(
        b'<opml version="2.0"><body><outline type="rss" text="&lt;script&gt;x&lt;/script&gt;'
        b'News &lt;img src=x onerror=alert(1)&gt;" xmlUrl="https://n.example/feed"/>'
        b'<outline type="rss" text="&lt;b&gt;&lt;/b&gt;" xmlUrl="https://m.example/feed"/>'
        b"</body></opml>"
    )
    plan = plan_import(outlines, [])
    assert [entry["name"] for entry in plan.new] == ["News", "b-b"]
