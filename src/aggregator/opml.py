"""Sources to and from OPML 2.0 (http://opml.org/spec2.opml), the subscription-list format
every feed reader imports and exports.

Pure: ``render_opml`` turns sources into bytes, ``parse_opml`` turns bytes into flat
``OpmlOutline`` values (folders become categories). Parsing treats the document as hostile:
no entity is ever resolved from outside, no network is touched, and a document that
declares entities at all is refused (as defusedxml does) rather than half-trusted.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from lxml import etree

from .address_guard import is_public
from .channels import as_utc
from .model import Source
from .sanitize import plain_text
from .syndication import clean_xml_text
from .urls import without_credentials

OPML_DOCS = "http://opml.org/spec2.opml"

#: "<!ENTITY" as it appears in the encodings an OPML file realistically comes in.
_ENTITY_MARKERS = tuple("<!ENTITY".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    """One subscription read from an OPML document."""

    #: The outline's ``text`` (else ``title``, else the feed URL): the outlet's name.
    text: str
    xml_url: str
    html_url: str | None
    #: Enclosing folders, outermost first, then the outline's own ``category`` values.
    categories: tuple[str, ...] = ()


def render_opml(title: str, sources: Sequence[Source], now: datetime) -> bytes:
    """The sources as an OPML 2.0 document, one ``<outline type="rss">`` each, in order."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = clean_xml_text(title)
    # OPML dates are RFC 822; email.utils formats them without touching the locale.
    etree.SubElement(head, "dateCreated").text = format_datetime(as_utc(now))
    etree.SubElement(head, "docs").text = OPML_DOCS
    body = etree.SubElement(root, "body")
    for source in sources:
        name = clean_xml_text(source.name)
        outline = etree.SubElement(body, "outline")
        outline.set("type", "rss")
        outline.set("text", name)
        outline.set("title", name)
        outline.set("xmlUrl", clean_xml_text(without_credentials(source.url)))
        if source.home:
            outline.set("htmlUrl", clean_xml_text(without_credentials(source.home)))
        # The attribute is comma-separated, so a comma inside a category cannot survive.
        categories = [clean_xml_text(c).replace(",", " ").strip() for c in source.categories]
        if any(categories):
            outline.set("category", ",".join(c for c in categories if c))
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not safe to share between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        remove_comments=True,
    )


def parse_opml(data: bytes) -> list[OpmlOutline]:
    """The subscriptions in an OPML document, nested outlines flattened in document order.

    An outline with an ``xmlUrl`` is a subscription; one without is a folder whose name
    becomes a category of everything inside it. Raises ``ValueError`` saying what is wrong
    when the document is not well-formed, is not OPML, or declares entities.
    """
    # Refuse entity declarations before parsing too: libxml2 expands internal entities in
    # attribute values even with resolve_entities=False, so a bomb would be built first.
    if any(marker in data for marker in _ENTITY_MARKERS):
        raise _entities_refused()
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as e:
        raise ValueError(f"malformed OPML: {e}") from e
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None and any(True for _ in docinfo.internalDTD.iterentities()):
        raise _entities_refused()  # declared in an encoding the byte scan does not cover
    if etree.QName(root).localname != "opml":
        raise ValueError(f"not an OPML document: the root element is <{root.tag}>, not <opml>")
    body = _child(root, "body")
    if body is None:
        raise ValueError("not an OPML document: <opml> has no <body>")
    return list(_walk(body, ()))


def _entities_refused() -> ValueError:
    return ValueError(
        "refusing OPML that declares XML entities (<!ENTITY ...>): "
        "subscription lists never need them, and they can read local files"
    )


def _walk(parent: etree._Element, folders: tuple[str, ...]) -> Iterator[OpmlOutline]:
    for outline in parent:
        if not isinstance(outline.tag, str) or etree.QName(outline).localname != "outline":
            continue
        attributes = _attributes(outline)
        label = (attributes.get("text") or attributes.get("title") or "").strip()
        xml_url = (attributes.get("xmlurl") or "").strip()
        if xml_url:
            own = tuple(_split_categories(attributes.get("category", "")))
            yield OpmlOutline(
                text=label or xml_url,
                xml_url=xml_url,
                html_url=(attributes.get("htmlurl") or "").strip() or None,
                categories=_unique(folders + own),
            )
            # Outlines under a subscription are unusual; keep them, in the same folders.
            yield from _walk(outline, folders)
        else:
            yield from _walk(outline, (*folders, label) if label else folders)


def _attributes(element: etree._Element) -> dict[str, str]:
    # Exporters disagree on case (xmlUrl, xmlurl, XMLURL); the names are unambiguous.
    return {str(k).lower(): str(v) for k, v in element.attrib.items()}


def _child(element: etree._Element, localname: str) -> etree._Element | None:
    for child in element:
        if isinstance(child.tag, str) and etree.QName(child).localname == localname:
            return child
    return None


def _split_categories(value: str) -> Iterator[str]:
    # OPML 2.0: comma-separated, each optionally a slash-delimited path ("/Tech/AI").
    for part in value.split(","):
        if category := part.strip().strip("/").strip():
            yield category


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing an OPML document would do to the configured sources."""

    #: New sources as feeds.yaml entries (id, url, name, home, categories).
    new: tuple[dict[str, object], ...]
    #: (outline, id of the configured source already fetching that URL).
    duplicates: tuple[tuple[OpmlOutline, str], ...]
    #: (outline, why it is not added): local files and private addresses.
    refused: tuple[tuple[OpmlOutline, str], ...] = ()


def plan_import(
    outlines: Sequence[OpmlOutline], sources: Sequence[Source], allow_private: bool = False
) -> ImportPlan:
    """New entries for outlines whose feed URL is not configured yet, with fresh ids that
    never reuse an existing one; outlines already configured are reported, not added.
    An OPML file is someone else's list: a ``file://`` URL, or one naming this machine or
    a private network, is refused unless ``allow_private``."""
    by_url = {source.url: source.id for source in sources}
    taken = {source.id for source in sources}
    new: list[dict[str, object]] = []
    duplicates: list[tuple[OpmlOutline, str]] = []
    refused: list[tuple[OpmlOutline, str]] = []
    for outline in outlines:
        if not allow_private and (reason := _local_reason(outline.xml_url)) is not None:
            refused.append((outline, reason))
            continue
        if outline.xml_url in by_url:
            duplicates.append((outline, by_url[outline.xml_url]))
            continue
        source_id = _fresh_id(outline, taken)
        taken.add(source_id)
        by_url[outline.xml_url] = source_id
        # Someone else's text: a name is plain text ("&lt;script&gt;" is no name).
        name = plain_text(outline.text) or source_id
        entry: dict[str, object] = {"id": source_id, "url": outline.xml_url, "name": name}
        if outline.html_url:
            entry["home"] = outline.html_url
        if outline.categories:
            entry["categories"] = list(outline.categories)
        new.append(entry)
    return ImportPlan(tuple(new), tuple(duplicates), tuple(refused))


def _local_reason(url: str) -> str | None:
    """Why ``url`` reaches this machine or a private network, or None. Names are judged
    without resolving them (fetching checks every address it connects to)."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "file":
        return "a local file"
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "this machine"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return None if is_public(address) else f"a private address ({host})"


def _fresh_id(outline: OpmlOutline, taken: set[str]) -> str:
    ascii_name = re.sub(r"[^a-z0-9]+", "-", outline.text.lower()).strip("-")[:40].strip("-")
    # Else the host, without "www." (never the whole netloc: it may hold a password).
    host = (urlsplit(outline.xml_url).hostname or "").removeprefix("www.")
    base = ascii_name or re.sub(r"[^a-z0-9]+", "-", host)
    base = base.strip("-") or "source"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
