"""HTML from sources made safe to republish, and plain text taken out of it.

Sanitizing is nh3's (the Rust ``ammonia`` allow-list sanitizer): no script, no event
handler, no ``javascript:`` URL gets through, whatever the markup's tricks. While it walks
the attributes, relative links and image sources are made absolute against the entry's
base URL, so a published item works wherever it is read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3

from aggregator.urls import absolute_url

_URL_ATTRIBUTES = frozenset({"href", "src", "cite", "poster"})
_TAGS = nh3.ALLOWED_TAGS | {"video", "audio", "source", "picture"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
#: Elements removed with all they contain: script and style (nh3's default), and those
#: whose content HTML parsers read as raw text that browsers never show. Kept, an iframe's
#: fallback would be published as escaped markup ("&lt;b&gt;…") and read as literal tags
#: in titles and excerpts.
_DROPPED_WITH_CONTENT = {"script", "style", "iframe", "noembed", "noframes"}
#: Block-level boundaries become spaces in plain text, so "<p>a</p><p>b</p>" reads "a b".
_BLOCK_BOUNDARY = re.compile(
    r"<(?=/?(?:p|div|br|hr|h[1-6]|li|ul|ol|tr|td|th|blockquote|pre|figure|figcaption|"
    r"section|article|header|footer|table|dd|dt)\b)",
    re.IGNORECASE,
)
_BLOCK_START = re.compile(f"(?={_BLOCK_BOUNDARY.pattern})", re.IGNORECASE)
_IMG_SRC = re.compile(r'<img\b[^>]*?\ssrc="([^"]+)"', re.IGNORECASE)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_WHITESPACE = re.compile(r"\s+")
#: data-* prefixes script libraries read as behaviour: htmx, Alpine, Stimulus, Turbo,
#: Bootstrap, Knockout, Vue, Angular, SvelteKit, Unpoly, and inline handlers.
_SCRIPTED_DATA = (
    "data-hx-",
    "data-x-",
    "data-on",
    "data-controller",
    "data-action",
    "data-target",
    "data-turbo",
    "data-bs-",
    "data-toggle",
    "data-bind",
    "data-v-",
    "data-ng-",
    "data-sveltekit",
    "data-up-",
)
_INERT_VALUE = re.compile(r"[\w .,%-]{0,64}")
#: Deepest element nesting kept (``limit_nesting``).
MAX_DEPTH = 256
_TAG = re.compile(r"<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)[^<>]*?(?P<self>/?)>")
#: Not counted: elements without content, and those a parser closes by itself when the
#: next one opens (a page of unclosed <p> or <li> is not deep).
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "dt",
        "dd",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "tfoot",
        "option",
        "optgroup",
        "rp",
        "rt",
        "colgroup",
        "caption",
    ]
)


def _url_rewriter(base_url: str | None) -> Callable[[str, str, str], str | None]:
    def rewrite(element: str, attribute: str, value: str) -> str | None:
        if attribute.startswith("data-"):
            return value if _inert_data(attribute, value) else None
        if attribute not in _URL_ATTRIBUTES:
            return value
        if value.strip().lower().startswith("mailto:"):
            return value.strip()
        # Anything that does not resolve to an http(s) URL is dropped.
        return absolute_url(value, base_url)

    return rewrite


def _inert_data(name: str, value: str) -> bool:
    """Whether a ``data-*`` attribute is one no script library acts on: not under a
    prefix such libraries read (htmx's ``data-hx-on``, Alpine's ``data-x-``, …) and with a
    plain token for a value (no URL, selector, expression or markup). Editors' styling
    marks (``data-ke-size="size26"``) stay."""
    return not name.startswith(_SCRIPTED_DATA) and _INERT_VALUE.fullmatch(value) is not None


def limit_nesting(fragment: str, depth: int = MAX_DEPTH) -> str:
    """``fragment`` with the tags nested deeper than ``depth`` removed (their text stays).

    An HTML parser's cost grows with the square of the nesting (100,000 nested ``div``
    took minutes); no article nests more than a few dozen deep. Counted over a plain scan
    of tags, which is enough to bound the parser's work: the parser still decides what
    the markup means."""
    if fragment.count("<") <= depth:
        return fragment
    pieces: list[str] = []
    level = 0
    last = 0
    for match in _TAG.finditer(fragment):
        closing, name, self_closing = match["close"], match["name"].lower(), match["self"]
        if name in _VOID or self_closing:
            continue
        if closing:
            drop = level > depth
            level = max(level - 1, 0)
        else:
            level += 1
            drop = level > depth
        if drop:
            pieces.append(fragment[last : match.start()])
            last = match.end()
    pieces.append(fragment[last:])
    return "".join(pieces)


def sanitize_html(fragment: str, base_url: str | None = None) -> str:
    """``fragment`` with only safe markup left and every URL absolute."""
    if not fragment:
        return ""
    return nh3.clean(
        limit_nesting(_CONTROL.sub("", fragment)),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        # data-* only when inert (``_inert_data``): htmx, Alpine and the like run them
        # as code on pages that load those libraries.
        generic_attribute_prefixes={"data-"},
        attribute_filter=_url_rewriter(base_url),
    ).strip()


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: tags (and the content of script, style, iframe …)
    removed, entities decoded, whitespace folded to single spaces."""
    if not fragment:
        return ""
    if "<" not in fragment and "&" not in fragment:
        return fold_whitespace(_CONTROL.sub("", fragment))
    stripped = nh3.clean(
        _BLOCK_BOUNDARY.sub(" <", limit_nesting(_CONTROL.sub("", fragment))),
        tags=set(),
        clean_content_tags=_DROPPED_WITH_CONTENT,
    )
    return fold_whitespace(html.unescape(stripped))


def html_paragraphs(fragment: str) -> list[str]:
    """The plain text of each block (paragraph, list item, heading …) of an HTML
    fragment, in order, empty ones left out."""
    if not fragment or "<" not in fragment:
        return [text] if (text := html_to_text(fragment)) else []
    blocks = _BLOCK_START.split(limit_nesting(_CONTROL.sub("", fragment)))
    return [text for block in blocks if (text := html_to_text(block))]


#: What a browser would take for a tag once entities are decoded: "<img src=x onerror=…>",
#: "</b>", "<!--", and an unclosed "<img …" (it would swallow what a page puts after it).
#: "a < b" and "x<3" are not tags.
_TAG_IN_TEXT = re.compile(r"<(?=[A-Za-z!/?])[^<>]*>?")


def plain_text(fragment: str) -> str:
    """``html_to_text`` with no tag left in the text either: "&lt;img onerror=…&gt;" is
    text after decoding, and themes and readers print titles, excerpts and authors as
    HTML. What is not a tag ("a < b", "x<3") stays."""
    return fold_whitespace(_TAG_IN_TEXT.sub(" ", html_to_text(fragment)))


#: Markdown that a Jekyll site's converter (kramdown) would act on in a post's HTML body:
#: inline links "[x](javascript:…)", link definitions "[x]: javascript:…" and attribute
#: lists "{: onmouseover=…}". A character reference renders the same in HTML and is
#: nothing to Markdown.
_MARKDOWN_TRIGGERS = {"](": "]&#40;", "]:": "]&#58;", "{:": "&#123;:"}
_MARKDOWN_TRIGGER = re.compile("|".join(re.escape(t) for t in _MARKDOWN_TRIGGERS))


def inert_markdown(html_text: str) -> str:
    """``html_text`` rendering the same as HTML, with nothing Markdown would turn into a
    link or an attribute."""
    return _MARKDOWN_TRIGGER.sub(lambda m: _MARKDOWN_TRIGGERS[m.group(0)], html_text)


_MARKDOWN_RESTORED = {inert: trigger for trigger, inert in _MARKDOWN_TRIGGERS.items()}
_INERT_TRIGGER = re.compile("|".join(re.escape(t) for t in _MARKDOWN_RESTORED))


def restored_markdown(text: str) -> str:
    """``text`` as it was before ``inert_markdown``, for plain text read back from a post."""
    return _INERT_TRIGGER.sub(lambda m: _MARKDOWN_RESTORED[m.group(0)], text)


def fold_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def first_image(sanitized: str) -> str | None:
    """The ``src`` of the first ``<img>`` in sanitized HTML (already absolute)."""
    match = _IMG_SRC.search(sanitized)
    return html.unescape(match.group(1)) if match else None
