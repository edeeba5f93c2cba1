"""Writing every output to disk: channel feeds, OPML, the index page, and posts.

Each file is written to a temporary name in its directory and renamed over the old one,
so a reader (or a crash) never sees half a file; a file whose bytes did not change is
left alone, so its modification time and HTTP validators stay put. Posts are tracked in a
manifest, so a post whose article changed name is removed and nothing else in
``posts_dir`` is ever touched.

A process killed while writing leaves its temporary file behind; temporary names say which
process wrote them (``.<name>.<random>.<pid>-<token>.aggregator.tmp``), so every publish
first removes those whose writer is gone (``remove_stale_temporaries``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator import frontmatter
from aggregator.channels import select
from aggregator.config import Settings
from aggregator.feed_style import FEED_XSL, STYLESHEET_PATH
from aggregator.index_page import render_index
from aggregator.model import SourceState, StoredArticle
from aggregator.opml import render_opml
from aggregator.processes import process_alive
from aggregator.syndication import FEED_FORMATS, ChannelMeta

log = logging.getLogger(__name__)

POSTS_MANIFEST = ".aggregator-posts.tsv"
#: Where the manifest was kept, as JSON, before it had marks; read once, then removed.
LEGACY_POSTS_MANIFEST = ".aggregator-posts.json"
#: Bump when the post writer's output changes, so every post is rewritten once.
POSTS_FORMAT = "1"
INDEX_LATEST = 30


@dataclass(frozen=True, slots=True)
class PublishResult:
    #: Files under output.dir whose bytes changed, relative paths.
    changed: tuple[str, ...]
    channels: int
    posts_written: int
    posts_removed: int
    #: Every file of output.dir by relative path, as written (what the server holds).
    files: Mapping[str, bytes] = field(default_factory=dict)
    #: Stories published.
    stories: int = 0


#: Ends the name of every temporary file ``write_atomic`` makes.
TEMP_SUFFIX = ".aggregator.tmp"
#: A temporary file older than this is a leftover, whoever wrote it: a write takes
#: milliseconds.
STALE_TEMP_SECONDS = 600.0
#: Tells this process's temporary files from those of an earlier process that had the same
#: pid (in a container, the service is often pid 1 at every start).
_PROCESS_TOKEN = secrets.token_hex(4)
_TEMP_NAME = re.compile(r"\..+\.(?P<pid>\d+)-(?P<token>[0-9a-f]{8})" + re.escape(TEMP_SUFFIX))
#: Temporary files this process is writing right now (threads may publish too).
_writing: set[str] = set()
_writing_lock = threading.Lock()


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """Replace ``path`` with ``data`` atomically; False (and no write) if already equal.

    The data goes to a temporary file in the same directory, then is renamed over
    ``path``: a reader, or a killed process, sees the old file or the new one. ``durable``
    flushes it to disk before the rename, so a power cut cannot leave an empty file under
    the name; posts skip it (an fsync per post was a third of writing them), since a post
    is rewritten from the store whenever its file is missing or differs in size.
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=f".{os.getpid()}-{_PROCESS_TOKEN}{TEMP_SUFFIX}",
    )
    with _writing_lock:
        _writing.add(temporary)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        with _writing_lock:
            _writing.discard(temporary)
    return True


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def remove_stale_temporaries(
    *directories: Path, older_than: float = STALE_TEMP_SECONDS, now: float | None = None
) -> list[Path]:
    """Remove the temporary files ``write_atomic`` left in ``directories`` (not below) when
    its process was killed mid-write; returns what was removed.

    A temporary file is left alone while its writer may still be writing it: this process
    (unless it is no longer writing it), or another live process (``fetch`` from cron beside
    ``run``), unless it is older than ``older_than`` seconds. Nothing but names made by
    ``write_atomic`` is ever touched.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    for directory in directories:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            match = _TEMP_NAME.fullmatch(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            try:
                age = now - entry.stat(follow_symlinks=False).st_mtime
                if _in_use(entry.path, int(match["pid"]), match["token"], age, older_than):
                    continue
                os.unlink(entry.path)
            except FileNotFoundError:  # renamed or removed by its writer meanwhile
                continue
            removed.append(Path(entry.path))
    if removed:
        log.info(
            "removed %d temporary files left by an interrupted write: %s",
            len(removed),
            ", ".join(str(path) for path in removed[:5]) + (", ..." if len(removed) > 5 else ""),
        )
    return removed


def _in_use(path: str, pid: int, token: str, age: float, older_than: float) -> bool:
    if pid == os.getpid():
        if token != _PROCESS_TOKEN:
            return False  # an earlier process that had our pid
        with _writing_lock:
            return path in _writing
    return age <= older_than and process_alive(pid)


def channel_meta(settings: Settings, channel_id: str, title: str, description: str) -> ChannelMeta:
    site = settings.site
    base = site.link if site.link.endswith("/") else site.link + "/"
    return ChannelMeta(
        id=channel_id,
        title=title,
        description=description or site.description or title,
        link=base,
        language=site.language,
        feed_base=base,
        hub=settings.publish.websub_hub,
    )


@dataclass(frozen=True, slots=True)
class Selection:
    """What the feeds and the index page show: each channel's items (filtered, newest
    first, cut to its limit) and the latest items of all."""

    channels: Mapping[str, Sequence[StoredArticle]]
    latest: Sequence[StoredArticle]


def latest_items(items: Iterable[StoredArticle]) -> list[StoredArticle]:
    """The index page's items: the ``INDEX_LATEST`` newest."""
    by_recency = sorted(items, key=lambda s: (s.article.date or s.first_seen, s.seq))
    return by_recency[::-1][:INDEX_LATEST]


def select_all(settings: Settings, items: Sequence[StoredArticle]) -> Selection:
    """The selection over every kept item, in memory."""
    return Selection(
        {channel.id: select(channel, items) for channel in settings.channels},
        latest_items(items),
    )


def render_site(
    settings: Settings,
    articles: Sequence[StoredArticle] | Selection,
    now: datetime,
    states: Mapping[str, SourceState] | None = None,
    notice: str | None = None,
) -> dict[str, bytes]:
    """Every file of ``output.dir`` by relative path; pure, so the server can hold it too.
    ``articles`` is every kept item, or what a ``Selection`` already chose of them.
    ``notice`` is shown on the index page (a refused edit of feeds.yaml)."""
    chosen = articles if isinstance(articles, Selection) else select_all(settings, articles)
    files: dict[str, bytes] = {}
    for channel in settings.channels:
        items = chosen.channels.get(channel.id, [])
        meta = channel_meta(settings, channel.id, channel.title, channel.description)
        for extension, render in FEED_FORMATS.items():
            files[f"feeds/{channel.id}.{extension}"] = render(meta, items, now)
    files[STYLESHEET_PATH] = FEED_XSL  # what RSS and Atom ask browsers to render them with
    latest = list(chosen.latest)
    # Dated by what they show, not by the clock, so an unchanged site is byte-identical.
    newest = latest[0].article.date or latest[0].first_seen if latest else None
    updated = newest or _modified(settings.path) or now
    files["opml.xml"] = render_opml(settings.site.title, settings.sources, updated)
    files["index.html"] = render_index(
        settings.site.title,
        settings.site.description,
        settings.channels,
        latest,
        ZoneInfo(settings.site.timezone),
        updated,
        settings.site.language,
        [
            (source, (states or {}).get(source.id) or SourceState(source.id))
            for source in settings.sources
        ]
        if states is not None
        else (),
        notice=notice,
    )
    return files


def _modified(path: Path | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC) if path else None
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class PostsToWrite:
    """The posts a publish writes: every story's (``complete``), or only the stories that
    changed since the manifest's mark; ``mark`` is the store's change number they cover."""

    items: Sequence[StoredArticle]
    complete: bool = True
    mark: int | None = None
    #: The manifest as already read; read again from ``posts_dir`` when None.
    previous: PostsManifest | None = None


def publish(
    settings: Settings,
    articles: Sequence[StoredArticle] | Selection,
    now: datetime,
    states: Mapping[str, SourceState] | None = None,
    notice: str | None = None,
    posts: PostsToWrite | None = None,
    stories: int | None = None,
) -> PublishResult:
    """Write the feeds, OPML, index page (with the sources' health when ``states`` is
    given) and posts. ``articles`` is every kept item (whose posts are all written unless
    ``posts`` says otherwise), or a ``Selection`` with ``posts`` and the number of
    ``stories`` given apart."""
    out = settings.output.dir
    files = render_site(settings, articles, now, states, notice)
    remove_stale_temporaries(
        out,
        *sorted({(out / relative).parent for relative in files} - {out}),
        *([settings.output.posts_dir] if settings.output.posts_dir is not None else []),
    )
    changed = tuple(
        relative for relative, data in files.items() if write_atomic(out / relative, data)
    )
    if posts is None:
        assert not isinstance(articles, Selection), "a Selection needs its posts given"
        posts = PostsToWrite(articles)
    if stories is None:
        stories = len(posts.items)
    written = removed = 0
    if settings.output.posts_dir is not None:
        written, removed = write_posts(
            settings.output.posts_dir, posts, ZoneInfo(settings.site.timezone)
        )
    return PublishResult(changed, len(settings.channels), written, removed, files, stories)


@dataclass(frozen=True, slots=True)
class PostsManifest:
    """What ``posts_dir``'s manifest says: each post's digest, size and story by file name,
    the store change number the posts cover, and what the posts were written for (the
    writer's format and the time zone; a difference means writing every post again)."""

    posts: dict[str, tuple[str, int, str | None]]
    mark: int | None = None
    written_for: str = ""

    def covers(self, tz: ZoneInfo) -> bool:
        """Whether only stories changed since ``mark`` need writing."""
        return self.mark is not None and self.written_for == _written_for(tz)


def _written_for(tz: ZoneInfo) -> str:
    return f"{POSTS_FORMAT} {tz.key}"


def read_posts_manifest(posts_dir: Path) -> PostsManifest:
    """The manifest as written last; an empty one when missing or unreadable.

    The manifest is a header line (JSON: the mark and what the posts were written for)
    and then one line per post, "name<TAB>digest<TAB>size<TAB>story": cheap to read and
    write whatever the number of posts. A manifest from before (``LEGACY_POSTS_MANIFEST``,
    JSON name → "digest size") reads with no mark and no stories."""
    try:
        lines = (posts_dir / POSTS_MANIFEST).read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        return _read_legacy_manifest(posts_dir / LEGACY_POSTS_MANIFEST)
    except (OSError, ValueError):
        return PostsManifest({})
    try:
        header = json.loads(lines[0])
    except ValueError:
        return PostsManifest({})
    if not isinstance(header, dict):
        return PostsManifest({})
    posts: dict[str, tuple[str, int, str | None]] = {}
    for line in lines[1:]:
        fields = line.split("\t")
        if len(fields) == 4 and fields[2].lstrip("-").isdigit():
            posts[fields[0]] = (fields[1], int(fields[2]), fields[3] or None)
    mark = header.get("mark")
    return PostsManifest(
        posts, mark if isinstance(mark, int) else None, str(header.get("written_for", ""))
    )


def _read_legacy_manifest(path: Path) -> PostsManifest:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return PostsManifest({})
    posts: dict[str, tuple[str, int, str | None]] = {}
    for name, value in (raw if isinstance(raw, dict) else {}).items():
        fields = str(value).split(" ")
        size = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else -1
        posts[name] = (fields[0], size, None)
    return PostsManifest(posts)


def _write_manifest(posts_dir: Path, manifest: PostsManifest) -> None:
    header = json.dumps({"mark": manifest.mark, "written_for": manifest.written_for})
    lines = [
        f"{name}\t{digest}\t{size}\t{story or ''}"
        for name, (digest, size, story) in manifest.posts.items()
        if "\t" not in name and "\n" not in name
    ]
    write_atomic(posts_dir / POSTS_MANIFEST, "\n".join([header, *lines]).encode())
    (posts_dir / LEGACY_POSTS_MANIFEST).unlink(missing_ok=True)


def write_posts(
    posts_dir: Path, posts: PostsToWrite | Sequence[StoredArticle], tz: ZoneInfo
) -> tuple[int, int]:
    """One front-matter post per story; returns (written, removed).

    A complete write names every story afresh (``assign_post_filenames``). Otherwise only
    the given stories are written: each keeps its name while it is still the one its date
    and title give, and a new name is never one another story holds. A renamed story's
    old post is removed; a story no longer stored (pruned) keeps its post."""
    if not isinstance(posts, PostsToWrite):
        posts = PostsToWrite(posts)
    posts_dir.mkdir(parents=True, exist_ok=True)
    previous = posts.previous if posts.previous is not None else read_posts_manifest(posts_dir)
    by_id = {stored.article.id or stored.guid: stored for stored in posts.items}
    if posts.complete:
        names = frontmatter.assign_post_filenames(posts.items, tz)
    else:
        names = _names_beside(previous, posts.items, tz)
    new_names = {name for name in names.values() if name not in previous.posts}
    if new_names:
        # Claim the new names before writing them: killed halfway, a post still belongs
        # to the manifest, and is removed if its article is renamed later.
        claimed = dict(previous.posts)
        for story, name in names.items():
            if name in new_names:
                claimed[name] = ("", -1, story)
        _write_manifest(posts_dir, replace(previous, posts=claimed))
    current: dict[str, tuple[str, int, str | None]] = {}
    written = 0
    for story, name in names.items():
        article = by_id[story].article
        if article.date is not None:  # posts carry their date in the site's time zone
            article = replace(article, date=article.date.astimezone(tz))
        # The manifest remembers each post by a digest of its article's values, so an
        # unchanged article costs neither a YAML dump nor a file read on later publishes.
        # With its size: a post left short or empty by a power cut (posts are not fsynced)
        # is written again.
        digest = hashlib.sha256(f"{POSTS_FORMAT}{article!r}".encode()).hexdigest()
        path = posts_dir / name
        recorded = previous.posts.get(name)
        if recorded is not None and recorded[:2] == (digest, _size(path)):
            current[name] = (digest, recorded[1], story)
            continue
        data = frontmatter.dumps(article).encode()
        current[name] = (digest, len(data), story)
        written += write_atomic(path, data, durable=False)
    removed = 0
    for name, (digest, size, story) in previous.posts.items():
        if name in current:
            continue
        # A story among these under another name was renamed: its old post goes. So does,
        # in a complete write, a post no story is recorded for (an older manifest's). A
        # story not among these (unchanged, or pruned from the store) keeps its post.
        stale = story in names if story is not None else posts.complete
        if not stale:
            current[name] = (digest, size, story)
        elif Path(name).name == name:  # only plain file names inside posts_dir
            (posts_dir / name).unlink(missing_ok=True)
            removed += 1
    _write_manifest(posts_dir, PostsManifest(current, posts.mark, _written_for(tz)))
    return written, removed


def _names_beside(
    previous: PostsManifest, items: Sequence[StoredArticle], tz: ZoneInfo
) -> dict[str, str]:
    """Story id → post file name for ``items``, beside the posts ``previous`` lists."""
    held_by: dict[str, str] = {}  # casefolded name → story
    named: dict[str, str] = {}  # story → its current name
    for name, (_, _, story) in previous.posts.items():
        held_by[name.casefold()] = story or ""
        if story:
            named[story] = name
    names: dict[str, str] = {}
    pending: list[tuple[StoredArticle, str, str]] = []
    for stored in sorted(items, key=lambda s: s.seq):
        story = stored.article.id or stored.guid
        plain = frontmatter.post_filename(stored.article, tz, stored.first_seen)
        suffixed = frontmatter.post_filename(
            stored.article, tz, stored.first_seen, suffix=f"-{story[:8]}"
        )
        if named.get(story) in (plain, suffixed):
            names[story] = named[story]  # still right: it keeps its name
        else:
            pending.append((stored, plain, suffixed))
    for stored, plain, suffixed in pending:
        story = stored.article.id or stored.guid
        name = plain if held_by.get(plain.casefold(), story) == story else suffixed
        held_by[name.casefold()] = story
        names[story] = name
    return names
