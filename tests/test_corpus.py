"""feedparser's own test corpus (about 2,300 documents) through parse → normalize → publish.

Every document must come out of ``parse_feed`` as a ``ParsedFeed`` or a ``ParseFailure``
(never an exception); every entry of a ``ParsedFeed`` is normalized, and the articles are
rendered as RSS, Atom and JSON Feed, which must be well-formed (lxml, strict), read back by
feedparser with ``bozo == 0`` and the same number of items, and carry no active content.

The corpus is feedparser's sdist, for the installed feedparser version, downloaded once with
pip into ``.cache/feedparser-corpus/<version>/`` (git-ignored); without a route to the
package index the tests are skipped. The documents run one directory group per test, each
failure listed with its file, the stage it failed at and why.

The whole run is watched: a network connection or a file opened while a document is being
processed fails that document (and is refused), and a document that takes too long is
reported instead of hanging the suite.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import logging
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

import feedparser
import pytest
from lxml import etree
from lxml import html as lxml_html

from aggregator.model import Source, StoredArticle, Templates
from aggregator.normalize import entry_guid, normalize
from aggregator.parse import ParseFailure, parse_feed
from aggregator.syndication import ChannelMeta, render_atom, render_json_feed, render_rss

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_ROOT = REPO_ROOT / ".cache" / "feedparser-corpus"
FEEDPARSER_VERSION = importlib.metadata.version("feedparser")

#: Document extensions taken from the corpus. feedparser's are all ``.xml`` (the others are
#: here for future versions); the compressed bodies of its HTTP tests are fed in as they
#: are, as a server that forgot ``Content-Encoding`` would send them: binary junk that
#: must come back as a ``ParseFailure``.
DOCUMENT_SUFFIXES = frozenset({".xml", ".rdf", ".rss", ".atom", ".json", ".gz", ".z"})

#: The corpus's top-level directories, one test each. A document elsewhere fails
#: ``test_the_corpus_is_complete``, so a new directory in a later version is not skipped.
GROUPS = ("wellformed", "illformed", "encoding", "entities", "http", "compression")

FEED_URL = "http://127.0.0.1/feed.xml"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
#: Templates that use every field, so normalize's template paths run on hostile text too.
SOURCE = Source(
    id="corpus",
    url=FEED_URL,
    name="feedparser <corpus> & co",
    home="http://127.0.0.1/",
    categories=("Corpus",),
    templates=Templates(
        feature_text="## {source_name}\n{excerpt}",
        header='<p><img src="{image}" alt="{title}" /></p>',
        footer='<p>From <a href="{home}">{source_name}</a>: <a href="{link}">{title}</a></p>',
    ),
)
META = ChannelMeta(
    id="corpus",
    title="feedparser corpus",
    description="Every entry of feedparser's test documents",
    link="http://127.0.0.1/",
    language="en",
    feed_base="http://127.0.0.1/",
)

#: A header line in a test document's leading comment, as feedparser's runtests.py reads it.
_HEADER_LINE = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)

#: The whole corpus runs in about 5 s here; one document is never expected to take a second.
DOCUMENT_TIME_LIMIT = 10.0

#: Markup that published content must never carry.
_ACTIVE_TAGS = frozenset(
    {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
     "input", "button", "textarea", "select", "meta", "link", "base", "svg", "math"}
)  # fmt: skip
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "cite", "poster", "action", "formaction", "srcset", "background",
     "dynsrc", "lowsrc", "longdesc", "usemap", "xlink:href", "data"}
)  # fmt: skip
_PUBLISHABLE_URL = re.compile(r"(?:https?|mailto):", re.IGNORECASE)


# --- the corpus ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorpusDocument:
    """One test document: its path under ``tests/`` and the bytes a server would send."""

    path: PurePosixPath
    body: bytes
    #: The Content-Type its test serves it with (a ``Header:`` line), if it names one.
    content_type: str | None

    @property
    def group(self) -> str:
        return self.path.parts[0]


def _download_corpus(version: str) -> Path:
    """``tests/`` of feedparser's sdist, extracted under the cache (downloaded only once)."""
    target = CACHE_ROOT / version
    if (target / "tests").is_dir():
        return target / "tests"
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="download-", dir=CACHE_ROOT) as scratch:
        command = [
            sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
            "--no-input", "--disable-pip-version-check", f"feedparser=={version}",
            "-d", scratch,
        ]  # fmt: skip
        try:
            subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as e:
            output = getattr(e, "stderr", None) or getattr(e, "stdout", None) or str(e)
            last = " | ".join(str(output).strip().splitlines()[-3:])
            pytest.skip(
                f"feedparser {version}'s sdist (its test corpus) could not be downloaded "
                f"from the package index: {last}"
            )
        sdists = sorted(Path(scratch).glob("feedparser-*.tar.gz"))
        if not sdists:
            pytest.fail(f"pip downloaded no feedparser-*.tar.gz into {scratch}")
        staging = Path(scratch) / "extracted"
        _extract_tests(sdists[0], staging)
        try:
            # Whole or not at all: a run stopped half-way leaves no partial corpus behind.
            staging.rename(target)
        except OSError:
            if not (target / "tests").is_dir():  # not just a concurrent run that won
                raise
    return target / "tests"


def _extract_tests(sdist: Path, destination: Path) -> None:
    """Regular files under ``<name>-<version>/tests/`` into ``destination/tests/``; nothing
    else (no links, no devices, no path that leaves the destination)."""
    with tarfile.open(sdist, "r:gz") as archive:
        for member in archive.getmembers():
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or len(parts) < 3 or parts[1] != "tests":
                continue
            relative = PurePosixPath(*parts[1:])
            if relative.is_absolute() or ".." in relative.parts:
                continue
            source = archive.extractfile(member)
            if source is None:
                continue
            path = destination.joinpath(*relative.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            with source, path.open("wb") as sink:
                shutil.copyfileobj(source, sink)


def _content_type(body: bytes) -> str | None:
    for name, value in _HEADER_LINE.findall(body[:2048]):
        if name.strip().lower() == b"content-type":
            return value.decode("latin-1").strip()
    return None


@pytest.fixture(scope="session")
def corpus() -> list[CorpusDocument]:
    tests_dir = _download_corpus(FEEDPARSER_VERSION)
    documents = []
    for path in sorted(tests_dir.rglob("*")):
        if path.is_file() and path.suffix.lower() in DOCUMENT_SUFFIXES:
            body = path.read_bytes()
            relative = PurePosixPath(path.relative_to(tests_dir).as_posix())
            documents.append(CorpusDocument(relative, body, _content_type(body)))
    return documents


# --- running one document --------------------------------------------------------------------


@dataclass
class GroupResult:
    """What one directory group's documents came to."""

    documents: int = 0
    #: Runs: every document once with no Content-Type, again with its test's own if any.
    runs: int = 0
    parsed: int = 0
    failures_as_values: int = 0
    entries: int = 0
    seconds: float = 0.0
    #: "path [how]: stage: what went wrong", one per failed run.
    problems: list[str] = field(default_factory=list)


class _Trouble(Exception):
    """A document broke a rule of the run: a check, the watch or the time limit."""


class _Watch:
    """Refuses and records network and file access, and swallowed parser exceptions,
    while a document is being processed."""

    def __init__(self) -> None:
        self.active = False
        self.seen: list[str] = []
        self._module_suffixes = (".py", ".pyc", ".so", ".pyd")

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event.startswith("socket.") or event in {
            "urllib.Request",
            "http.client.connect",
            "ftplib.connect",
            "subprocess.Popen",
            "os.system",
        }:
            self.seen.append(f"{event}{args!r:.120}")
            raise _Trouble(f"refused {event} while processing a document")
        if event == "open" and not str(args[0]).endswith(self._module_suffixes):
            # Imports open module files (codecs load lazily); nothing else may be opened.
            self.seen.append(f"open({args[0]!r:.120})")
            raise _Trouble(f"refused opening {args[0]!r} while processing a document")

    @contextmanager
    def watching(self) -> Iterator[list[str]]:
        swallowed = _ExceptionLog()
        logger = logging.getLogger("aggregator")
        logger.addHandler(swallowed)
        self.seen = []
        self.active = True
        try:
            yield self.seen
        finally:
            self.active = False
            logger.removeHandler(swallowed)
        self.seen.extend(swallowed.messages)


class _ExceptionLog(logging.Handler):
    """Log records carrying an exception: a parser that caught a crash and turned it into
    a ``ParseFailure`` still crashed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.messages.append(f"logged exception {type(error).__name__}: {error}")


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupts a document that runs too long (Python-level loops, not C calls), where
    signals can be used: the main thread of a POSIX process."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _Trouble(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_STRICT_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _check_xml_feed(kind: str, document: bytes, expected_items: int) -> None:
    try:
        etree.fromstring(document, _STRICT_XML)
    except etree.XMLSyntaxError as e:
        raise _Trouble(f"{kind} is not well-formed XML: {e}") from e
    read_back = feedparser.parse(io.BytesIO(document))
    if read_back.bozo:
        raise _Trouble(f"feedparser reads the {kind} as bozo: {read_back.bozo_exception!r}")
    if len(read_back.entries) != expected_items:
        raise _Trouble(f"{kind} has {len(read_back.entries)} items, expected {expected_items}")


def _check_published_html(fragment: str) -> None:
    """No script, no handler, no style, no URL but http(s) and mailto."""
    if not fragment.strip():
        return
    tree = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.lower() in _ACTIVE_TAGS:
            raise _Trouble(f"published body has a <{element.tag}> element")
        for name, value in element.attrib.items():
            name = name.lower()
            if name.startswith("on") or name == "style":
                raise _Trouble(f"published body has a {name} attribute")
            if name in _URL_ATTRIBUTES and not _PUBLISHABLE_URL.match(value.strip()):
                raise _Trouble(f"published body has {name}={value[:80]!r}")


def _process(document: CorpusDocument, content_type: str | None, result: GroupResult) -> None:
    """One run of one document, through every stage; raises at the first problem."""
    parsed = parse_feed(document.body, url=FEED_URL, content_type=content_type)
    if isinstance(parsed, ParseFailure):
        result.failures_as_values += 1
        return
    result.parsed += 1
    stored = []
    for seq, entry in enumerate(parsed.entries):
        article = normalize(entry, SOURCE, base_url=parsed.base_url, now=NOW)
        _check_published_html(article.body)
        guid = entry_guid(entry, parsed.base_url)
        stored.append(StoredArticle(SOURCE.id, guid, article, first_seen=NOW, seq=seq))
    result.entries += len(stored)
    _check_xml_feed("RSS", render_rss(META, stored, NOW), len(stored))
    _check_xml_feed("Atom", render_atom(META, stored, NOW), len(stored))
    try:
        items = json.loads(render_json_feed(META, stored, NOW))["items"]
    except ValueError as e:
        raise _Trouble(f"JSON Feed does not load: {e}") from e
    if len(items) != len(stored):
        raise _Trouble(f"JSON Feed has {len(items)} items, expected {len(stored)}")


def _run_group(group: str, documents: list[CorpusDocument], watch: _Watch) -> GroupResult:
    result = GroupResult()
    started = time.perf_counter()
    for document in documents:
        if document.group != group:
            continue
        result.documents += 1
        # First with no Content-Type, then as its feedparser test serves it (if it says).
        for content_type in dict.fromkeys((None, document.content_type)):
            result.runs += 1
            how = f"Content-Type {content_type}" if content_type else "no Content-Type"
            try:
                with watch.watching() as seen, _time_limit(DOCUMENT_TIME_LIMIT):
                    _process(document, content_type, result)
            except Exception as e:  # every kind of failure is reported with its document
                result.problems.append(f"{document.path} [{how}]: {type(e).__name__}: {e}")
                continue
            if seen:
                result.problems.append(f"{document.path} [{how}]: " + "; ".join(seen))
    result.seconds = time.perf_counter() - started
    return result


@pytest.fixture(scope="session")
def watch() -> _Watch:
    watch = _Watch()
    sys.addaudithook(watch.audit)  # cannot be removed; inert while ``watch`` is inactive
    return watch


@pytest.fixture(scope="session")
def run_group(corpus: list[CorpusDocument], watch: _Watch) -> Callable[[str], GroupResult]:
    """Runs a group once per session (the totals test reuses the group tests' results)."""
    results: dict[str, GroupResult] = {}

    def run(group: str) -> GroupResult:
        if group not in results:
            results[group] = _run_group(group, corpus, watch)
        return results[group]

    return run


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("group", GROUPS)
def test_every_document_goes_through_parse_normalize_and_publish(
    group: str, run_group: Callable[[str], GroupResult]
) -> None:
    result = run_group(group)
    assert result.documents > 0, f"no documents in the corpus's {group}/ directory"
    assert not result.problems, (
        f"{len(result.problems)} of {result.runs} runs of {group}/ documents failed:\n"
        + "\n".join(result.problems)
    )


def test_the_corpus_is_complete(
    corpus: list[CorpusDocument],
    run_group: Callable[[str], GroupResult],
    record_property: Callable[[str, object], None],
) -> None:
    outside = sorted(str(d.path) for d in corpus if d.group not in GROUPS)
    assert not outside, f"documents in directories no test runs (add them to GROUPS): {outside}"
    # A broken download or extraction must not pass as a small, clean corpus.
    assert len(corpus) > 2000, f"only {len(corpus)} documents in feedparser's test corpus"

    results = [run_group(group) for group in GROUPS]
    totals = {
        "documents": sum(r.documents for r in results),
        "runs": sum(r.runs for r in results),
        "parsed": sum(r.parsed for r in results),
        "failures_as_values": sum(r.failures_as_values for r in results),
        "entries": sum(r.entries for r in results),
        "seconds": round(sum(r.seconds for r in results), 1),
    }
    for name, value in totals.items():
        record_property(f"corpus_{name}", value)
    print(
        f"feedparser {FEEDPARSER_VERSION} corpus:", ", ".join(f"{k} {v}" for k, v in totals.items())
    )
    assert totals["documents"] == len(corpus)
    # A parser that turned everything into failures-as-values would pass the group tests.
    assert totals["parsed"] > 0.9 * totals["runs"], "most of the corpus should parse"


def test_the_watch_reports_network_files_swallowed_errors_and_hangs(
    watch: _Watch, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The corpus run's guards work: each misbehaving parser is reported, none hangs."""
    secret = tmp_path / "secret.txt"
    secret.write_text("x")

    def connects(body: bytes, **_: object) -> ParseFailure:
        import socket

        socket.create_connection(("127.0.0.1", 9), timeout=5)
        return ParseFailure("unreachable")

    def reads_a_file(body: bytes, **_: object) -> ParseFailure:
        return ParseFailure(secret.read_text())

    def swallows(body: bytes, **_: object) -> ParseFailure:
        try:
            raise TypeError("a feedparser bug")
        except TypeError:
            logging.getLogger("aggregator.parse.xmlfeed").warning("failed", exc_info=True)
        return ParseFailure("the feed could not be parsed")

    def hangs(body: bytes, **_: object) -> ParseFailure:
        while True:
            pass

    monkeypatch.setattr(sys.modules[__name__], "DOCUMENT_TIME_LIMIT", 0.2)
    document = CorpusDocument(PurePosixPath("wellformed/x.xml"), b"<rss/>", None)
    for parser, expected in [
        (connects, "refused socket."),
        (reads_a_file, "refused opening"),
        (swallows, "logged exception TypeError: a feedparser bug"),
        (hangs, "took longer than 0.2 s"),
    ]:
        monkeypatch.setattr(sys.modules[__name__], "parse_feed", parser)
        result = _run_group("wellformed", [document], watch)
        assert len(result.problems) == 1 and expected in result.problems[0], parser.__name__
