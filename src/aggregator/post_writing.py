"""Writing one front-matter post per story into ``posts_dir``.

A complete write names every story afresh; an incremental one writes only the stories
changed since the ledger's mark (``post_ledger``), looking up just their names, so it costs
what changed whatever the number of posts. Nothing in ``posts_dir`` but the posts the
ledger lists is ever touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator import frontmatter
from aggregator.atomic_files import remove_stale_temporaries, write_atomic
from aggregator.model import StoredArticle
from aggregator.post_ledger import Entry, PostLedger

#: Bump when the post writer's output changes, so every post is rewritten once.
POSTS_FORMAT = "1"
#: Where posts are written before being renamed into place: a scratch directory keeps a
#: search for a killed writer's leftovers from listing every post.
SCRATCH_DIR = ".aggregator-tmp"


@dataclass(frozen=True, slots=True)
class PostsToWrite:
    """The posts a publish writes: every story's (``complete``), or only the stories that
    changed since the ledger's mark; ``mark`` is the store's change number they cover."""

    items: Sequence[StoredArticle]
    complete: bool = True
    mark: int | None = None
    #: Stories merged into another (``Store.merged_since``): their posts go.
    absorbed: Collection[str] = ()


def written_for(tz: ZoneInfo) -> str:
    """What posts are written for: a change means writing every post again."""
    return f"{POSTS_FORMAT} {tz.key}"


def covers(ledger: PostLedger, tz: ZoneInfo) -> bool:
    """Whether only the stories changed since the ledger's mark need writing."""
    return ledger.mark is not None and ledger.written_for == written_for(tz)


def write_posts(
    posts_dir: Path,
    posts: PostsToWrite | Sequence[StoredArticle],
    tz: ZoneInfo,
    ledger: PostLedger | None = None,
) -> tuple[int, int]:
    """One front-matter post per story; returns (written, removed).

    A complete write names every story afresh (``assign_post_filenames``). Otherwise only
    the given stories are written: each keeps its name while it is still the one its date
    and title give, and a new name is never one another story (or a file we did not
    write) holds. A renamed story's old post is removed, and so is the post of a story
    merged into another (``posts.absorbed``); a story no longer stored (pruned) keeps its
    post."""
    if not isinstance(posts, PostsToWrite):
        posts = PostsToWrite(posts)
    if ledger is None:
        with PostLedger.open(posts_dir) as opened:
            return write_posts(posts_dir, posts, tz, opened)
    scratch = posts_dir / SCRATCH_DIR
    # Leftovers of a killed writer: in the scratch directory, and (from versions that
    # wrote temporaries beside the posts) in posts_dir, looked at on complete writes only.
    remove_stale_temporaries(scratch, *([posts_dir] if posts.complete else []))
    by_story = {_story(stored): stored for stored in posts.items}
    absorbed = set(posts.absorbed) - by_story.keys()
    if posts.complete:
        previous = ledger.entries()
        names = frontmatter.assign_post_filenames(posts.items, tz)
    else:
        recorded_for = ledger.names_of([*by_story, *absorbed])
        names = _names_beside(ledger, recorded_for, posts.items, posts_dir, tz)
        previous = ledger.entries(
            {*names.values(), *(n for held in recorded_for.values() for n in held)}
        )
    new_names = {name: story for story, name in names.items() if name not in previous}
    if new_names:
        # Claim the new names before writing them: killed halfway, a post still belongs
        # to the ledger, and is removed if its story is renamed later.
        ledger.update({name: Entry("", -1, story) for name, story in new_names.items()})
    current: dict[str, Entry] = {}
    written = 0
    for story, name in names.items():
        article = by_story[story].article
        if article.date is not None:  # posts carry their date in the site's time zone
            article = replace(article, date=article.date.astimezone(tz))
        # The ledger remembers each post by a digest of its article's values, so an
        # unchanged article costs neither a YAML dump nor a file read on later publishes.
        # With its size: a post left short or empty by a power cut (posts are not fsynced)
        # is written again.
        digest = hashlib.sha256(f"{POSTS_FORMAT}{article!r}".encode()).hexdigest()
        path = posts_dir / name
        recorded = previous.get(name)
        if recorded is not None and (recorded.digest, recorded.size) == (digest, _size(path)):
            current[name] = Entry(digest, recorded.size, story)
            continue
        data = frontmatter.dumps(article).encode()
        current[name] = Entry(digest, len(data), story)
        written += write_atomic(path, data, durable=False, scratch=scratch)
    dropped: list[str] = []
    removed = 0
    for name, entry in previous.items():
        if name in current:
            continue
        # A story among these under another name was renamed: its old post goes. So do
        # a merged story's and, in a complete write, a post no story is recorded for (an
        # older manifest's). A story not among these (unchanged, or pruned from the
        # store) keeps its post.
        if entry.story is None:
            goes = posts.complete
        else:
            goes = entry.story in names or entry.story in absorbed
        if goes:
            dropped.append(name)
            if Path(name).name == name:  # only plain file names inside posts_dir
                (posts_dir / name).unlink(missing_ok=True)
                removed += 1
        elif posts.complete:
            current[name] = entry
    rewrite = posts.complete and current != previous
    ledger.update(
        current if rewrite else {n: e for n, e in current.items() if previous.get(n) != e},
        dropped,
        mark=posts.mark,
        written_for=written_for(tz),
        replace_all=rewrite,
    )
    return written, removed


def _story(stored: StoredArticle) -> str:
    return stored.article.id or stored.guid


def _names_beside(
    ledger: PostLedger,
    recorded_for: dict[str, list[str]],
    items: Sequence[StoredArticle],
    posts_dir: Path,
    tz: ZoneInfo,
) -> dict[str, str]:
    """Story id → post file name for ``items``, beside the posts the ledger lists."""
    names: dict[str, str] = {}
    pending: list[tuple[str, str, str]] = []
    for stored in sorted(items, key=lambda s: s.seq):
        story = _story(stored)
        plain = frontmatter.post_filename(stored.article, tz, stored.first_seen)
        suffixed = frontmatter.post_filename(
            stored.article, tz, stored.first_seen, suffix=f"-{story[:8]}"
        )
        held = recorded_for.get(story, [])
        keep = next((name for name in held if name in (plain, suffixed)), None)
        if keep is not None:
            names[story] = keep  # still right: it keeps its name
        else:
            pending.append((story, plain, suffixed))
    held_by = ledger.holders(plain for _, plain, _ in pending)  # casefolded name → story
    for story, plain, suffixed in pending:
        holder = held_by.get(plain.casefold())
        # A name nobody in the ledger holds may still be a file someone else put there.
        free = holder == story or (holder is None and not (posts_dir / plain).exists())
        name = plain if free else suffixed
        held_by[name.casefold()] = story
        names[story] = name
    return names


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
