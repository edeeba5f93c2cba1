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
from collections.abc import Mapping, Sequence
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
from aggregator.syndication import FEED_FORMATS, ChannelMeta

log = logging.getLogger(__name__)

POSTS_MANIFEST = ".aggregator-posts.json"
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
    return age <= older_than and _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


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


def render_site(
    settings: Settings,
    articles: Sequence[StoredArticle],
    now: datetime,
    states: Mapping[str, SourceState] | None = None,
    notice: str | None = None,
) -> dict[str, bytes]:
    """Every file of ``output.dir`` by relative path; pure, so the server can hold it too.
    ``notice`` is shown on the index page (a refused edit of feeds.yaml)."""
    files: dict[str, bytes] = {}
    for channel in settings.channels:
        items = select(channel, articles)
        meta = channel_meta(settings, channel.id, channel.title, channel.description)
        for extension, render in FEED_FORMATS.items():
            files[f"feeds/{channel.id}.{extension}"] = render(meta, items, now)
    files[STYLESHEET_PATH] = FEED_XSL  # what RSS and Atom ask browsers to render them with
    by_recency = sorted(articles, key=lambda s: (s.article.date or s.first_seen, s.seq))
    latest = by_recency[::-1][:INDEX_LATEST]
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


def publish(
    settings: Settings,
    articles: Sequence[StoredArticle],
    now: datetime,
    states: Mapping[str, SourceState] | None = None,
    notice: str | None = None,
) -> PublishResult:
    """Write the feeds, OPML, index page (with the sources' health when ``states`` is
    given) and posts for ``articles``."""
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
    written = removed = 0
    if settings.output.posts_dir is not None:
        written, removed = write_posts(
            settings.output.posts_dir, articles, ZoneInfo(settings.site.timezone)
        )
    return PublishResult(changed, len(settings.channels), written, removed, files, len(articles))


def write_posts(
    posts_dir: Path, articles: Sequence[StoredArticle], tz: ZoneInfo
) -> tuple[int, int]:
    """One front-matter post per article; returns (written, removed)."""
    posts_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = posts_dir / POSTS_MANIFEST
    try:
        previous: dict[str, str] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        previous = {}
    by_id = {stored.article.id or stored.guid: stored for stored in articles}
    names = frontmatter.assign_post_filenames(articles, tz)
    new_names = {name for name in names.values() if name not in previous}
    if new_names:
        # Claim the new names before writing them: killed halfway, a post still belongs
        # to the manifest, and is removed if its article is renamed later.
        claimed = previous | dict.fromkeys(new_names, "")
        write_atomic(manifest_path, json.dumps(claimed, ensure_ascii=False, indent=0).encode())
    current: dict[str, str] = {}
    written = 0
    for article_id, name in names.items():
        article = by_id[article_id].article
        if article.date is not None:  # posts carry their date in the site's time zone
            article = replace(article, date=article.date.astimezone(tz))
        # The manifest remembers each post by a digest of its article's values, so an
        # unchanged article costs neither a YAML dump nor a file read on later publishes.
        # With its size: a post left short or empty by a power cut (posts are not fsynced)
        # is written again.
        digest = hashlib.sha256(f"{POSTS_FORMAT}{article!r}".encode()).hexdigest()
        path = posts_dir / name
        recorded = previous.get(name, "").split(" ")
        if recorded[0] == digest and len(recorded) == 2 and _size(path) == int(recorded[1]):
            current[name] = previous[name]
            continue
        data = frontmatter.dumps(article).encode()
        current[name] = f"{digest} {len(data)}"
        written += write_atomic(path, data, durable=False)
    removed = 0
    for name in previous.keys() - current.keys():
        # Only names this manifest recorded, and only plain file names inside posts_dir.
        if Path(name).name == name:
            (posts_dir / name).unlink(missing_ok=True)
            removed += 1
    write_atomic(manifest_path, json.dumps(current, ensure_ascii=False, indent=0).encode())
    return written, removed
