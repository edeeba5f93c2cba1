"""Which character encoding a fetched document is in, decided by its bytes, and the document
transcoded to UTF-8 so that the parsers never have to guess.

Servers and feeds get this wrong all the time: an HTTP charset left at a server default, an
XML declaration of ``euc-kr`` over bytes only CP949 can read, no declaration at all. Labels
are read the way browsers read them (the WHATWG Encoding standard): ``euc-kr`` and its
aliases mean CP949, ``gb2312``/``gbk`` GB18030, ``shift_jis`` Windows-31J, ``iso-8859-1``
and ``us-ascii`` windows-1252. Then the first of these that decodes the body cleanly wins:

1. a byte-order mark (UTF-8, UTF-16, UTF-32), or UTF-16/32 markup without one (XML 1.0
   appendix F): decisive;
2. the XML declaration, then the HTTP charset: multi-byte encodings only, whose clean
   decoding is evidence (a single-byte encoding decodes anything);
3. UTF-8;
4. CP949, when the text it gives is mostly common Hangul syllables (Korean feeds that
   declare nothing);
5. the single-byte encodings the declaration or the HTTP charset name.

A label the bytes contradict gets a warning. When nothing fits, the document is left as it
is (``encoding`` None) for feedparser's own detection, or for the JSON parser to refuse.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Decoded", "decide", "declared_encoding", "http_charset", "looks_korean"]


@dataclass(frozen=True, slots=True)
class Decoded:
    """A document's encoding as decided, and the document in UTF-8."""

    #: The Python codec the body was read with ("utf-8", "cp949", "utf-16-le", …); None
    #: when undecided, and ``body`` is then the original bytes, untouched.
    encoding: str | None
    #: UTF-8, without a byte-order mark; an XML declaration's encoding says utf-8.
    body: bytes
    #: Labels the bytes contradicted, guesses made: "character encoding: …".
    warnings: tuple[str, ...] = ()


_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*([^\s;]+)", re.IGNORECASE)
_XML_DECLARED_ENCODING = re.compile(rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)")
_XML_DECLARATION_ENCODING_VALUE = re.compile(r"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2")

# Byte-order marks first (UTF-32 LE before UTF-16 LE, whose mark is its prefix), then "<"
# followed by an ASCII character in UTF-32 and UTF-16 without one.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_WIDE_MARKUP = (
    (re.compile(rb"\x00\x00\x00<"), "utf-32-be"),
    (re.compile(rb"<\x00\x00\x00"), "utf-32-le"),
    (re.compile(rb"\x00<\x00[^\x00]"), "utf-16-be"),
    (re.compile(rb"<\x00[^\x00]\x00"), "utf-16-le"),
)

# Labels Python does not know, read as browsers read them.
_EXTRA_LABELS = {
    "cseuckr": "cp949",
    "csksc56011987": "cp949",
    "iso-ir-149": "cp949",
    "ks_c_5601-1989": "cp949",
    "windows-949": "cp949",
    "x-windows-949": "cp949",
    "csshiftjis": "cp932",
    "windows-31j": "cp932",
    "x-sjis": "cp932",
}
# Python codecs narrower than what the label means on the web: the superset is read.
_SUPERSETS = {
    "euc_kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "utf-8-sig": "utf-8",
}
# Python text codecs that are not character sets a document could be written in.
_NOT_CHARSETS = frozenset({"idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined"})
# The bytes windows-1252 leaves undefined; browsers (and ISO-8859-1) read them as C1 controls.
_CP1252_HOLES = {0xDC00 + byte: byte for byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
_CP1252_ESCAPED = re.compile("[" + "".join(map(chr, _CP1252_HOLES)) + "]")

_ASCII_SAMPLE = bytes(range(0x20, 0x7F)) + b"\t\n\r"

# The 2,350 Hangul syllables of KS X 1001 (EUC-KR rows 0xB0-0xC8): almost all of the Hangul
# in real Korean text. Windows-1252 text read as CP949 gives rarer syllables, if any.
_COMMON_HANGUL = re.compile(
    "["
    + bytes(
        b for lead in range(0xB0, 0xC9) for trail in range(0xA1, 0xFF) for b in (lead, trail)
    ).decode("euc-kr")
    + "]"
)

_KOREAN = "cp949"
_GUESSED_KOREAN = "character encoding: none declared and not UTF-8; read as cp949 (Korean)"


@dataclass(frozen=True, slots=True)
class _Label:
    """An encoding named by the document or its header."""

    #: Where it was found, for warnings: "the XML declaration", "the HTTP charset".
    where: str
    #: As written.
    name: str
    #: The Python codec it means (superset applied), or None when unknown.
    encoding: str | None


def decide(body: bytes, content_type: str | None) -> Decoded:
    """The encoding of ``body`` (a fetched document; ``content_type`` is its HTTP header,
    None for formats that allow no charset), and ``body`` in UTF-8; ``encoding`` None and
    ``body`` untouched when undecided. See the module docstring for the order."""
    charset = http_charset(content_type)
    header = _label("the HTTP charset", charset) if charset else None
    marked = _byte_order(body)
    if marked is not None:
        encoding, start = marked
        text = _decode(body[start:], encoding)
        if text is None:
            return Decoded(None, body)
        declared = _declared_label(text.encode("utf-8"))
        return _decoded(body, encoding, text, (declared, header), None)

    declared = _declared_label(body)
    named = [label.encoding for label in (declared, header) if label and label.encoding]
    # UTF-16, UTF-32, UTF-7 or EBCDIC cannot describe markup that is ASCII bytes.
    usable = [encoding for encoding in named if _ascii_compatible(encoding)]
    for encoding in _unique([*(e for e in usable if not _single_byte(e)), "utf-8"]):
        if (text := _decode(body, encoding)) is not None:
            return _decoded(body, encoding, text, (declared, header), None)
    text = _decode(body, _KOREAN)
    if text is not None and looks_korean(text):
        guess = None if named else _GUESSED_KOREAN
        return _decoded(body, _KOREAN, text, (declared, header), guess)
    for encoding in _unique(e for e in usable if _single_byte(e)):
        if (text := _decode(body, encoding)) is not None:
            return _decoded(body, encoding, text, (declared, header), None)
    return Decoded(None, body)


def http_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, unquoted."""
    found = _CHARSET_PARAM.search(content_type or "")
    return found.group(1).strip("\"'") if found else None


def declared_encoding(view: bytes) -> str | None:
    """The encoding an XML declaration names, read from an ASCII-compatible view."""
    found = _XML_DECLARED_ENCODING.match(view)
    return found.group(1).decode("ascii") if found else None


def looks_korean(text: str) -> bool:
    """Whether at least half of the non-ASCII characters are common Hangul syllables."""
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return non_ascii > 0 and 2 * len(_COMMON_HANGUL.findall(text)) >= non_ascii


def _decoded(
    body: bytes,
    encoding: str,
    text: str,
    labels: Iterable[_Label | None],
    guess: str | None,
) -> Decoded:
    warnings = [] if guess is None else [guess]
    for label in labels:
        if label is None:
            continue
        if label.encoding is None:
            warnings.append(
                f"character encoding: {label.where} names an unknown encoding "
                f"{label.name!r}; read as {encoding}"
            )
        elif label.encoding != encoding and not _reads_alike(body, label.encoding, text):
            warnings.append(
                f"character encoding: {label.where} says {label.name}, but the document "
                f"is not {label.name}; read as {encoding}"
            )
    utf8 = _XML_DECLARATION_ENCODING_VALUE.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8")
    return Decoded(encoding, utf8, tuple(warnings))


def _reads_alike(body: bytes, encoding: str, text: str) -> bool:
    """Whether the body read as ``encoding`` gives ``text`` too (a pure-ASCII document
    reads alike in any ASCII-compatible encoding; a BOM is not text)."""
    other = _decode(body, encoding)
    return other is not None and other.removeprefix("\ufeff") == text


def _byte_order(body: bytes) -> tuple[str, int] | None:
    """The encoding a byte-order mark (or wide markup) shows, and where the text starts."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if body.startswith(mark):
            return encoding, len(mark)
    for pattern, encoding in _WIDE_MARKUP:
        if pattern.match(body):
            return encoding, 0
    return None


def _declared_label(view: bytes) -> _Label | None:
    name = declared_encoding(view)
    return _label("the XML declaration", name) if name else None


def _label(where: str, name: str) -> _Label:
    return _Label(where, name, _encoding_of(name))


@functools.lru_cache(maxsize=64)
def _encoding_of(name: str) -> str | None:
    """The Python codec a label means on the web, or None when unknown."""
    label = name.strip().lower()
    if label in _EXTRA_LABELS:
        return _EXTRA_LABELS[label]
    try:
        python_name = codecs.lookup(label).name
    except LookupError:
        return None
    try:
        b"<".decode(python_name)
    except LookupError:  # a bytes-to-bytes codec: base64, zlib, …
        return None
    except UnicodeError:  # "<" alone is not UTF-16, say
        pass
    if python_name in _NOT_CHARSETS:
        return None
    return _SUPERSETS.get(python_name, python_name)


@functools.lru_cache(maxsize=64)
def _single_byte(encoding: str) -> bool:
    """Whether every byte is a character alone, so that decoding cleanly proves nothing."""
    for byte in range(256):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            if decoder.decode(bytes([byte]), final=False) == "":
                return False  # a lead byte, waiting for more
        except (UnicodeError, LookupError):
            continue  # a byte the encoding leaves undefined
    return True


@functools.lru_cache(maxsize=64)
def _ascii_compatible(encoding: str) -> bool:
    """Whether printable ASCII bytes read as themselves: not in UTF-16, UTF-32, EBCDIC, nor
    UTF-7 (which browsers do not support either)."""
    try:
        return _ASCII_SAMPLE.decode(encoding) == _ASCII_SAMPLE.decode("ascii")
    except (UnicodeError, LookupError):
        return False


def _decode(body: bytes, encoding: str) -> str | None:
    """The body as text, or None when it is not valid in ``encoding``."""
    try:
        if encoding == "cp1252":
            text = body.decode("cp1252", errors="surrogateescape")
            if _CP1252_ESCAPED.search(text):
                text = text.translate(_CP1252_HOLES)
            return text
        return body.decode(encoding)
    except (UnicodeError, LookupError):
        return None


def _unique(encodings: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(encodings))
