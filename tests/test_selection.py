"""Publishing reads only what it shows, and shows exactly what reading everything would:
channels and the index page selected page by page from the stories table, posts written
for the stories changed since the last publish."""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator import pipeline, selection
from aggregator.config import parse_config
from aggregator.model import Article, story_id
from aggregator.post_ledger import PostLedger
from aggregator.publish import publish, select_all
from aggregator.store import Store
from aggregator.stories import kept_items

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SOURCES = ("alpha", "beta", "gamma")
CONFIG = """\
site: {{title: T, link: 'https://news.example/', timezone: Asia/Seoul}}
storage: sqlite:///{db}
output: {{dir: public, posts_dir: _posts}}
sources:
  - {{id: alpha, url: 'https://alpha.example/rss'}}
  - {{id: beta, url: 'https://beta.example/rss'}}
  - {{id: gamma, url: 'https://gamma.example/rss'}}
channels:
  - {{id: all, title: All, limit: 12}}
  - {{id: ai, title: AI, keywords: [AI], limit: 4}}
  - {{id: beta, title: Beta, sources: [beta], limit: 3}}
  - {{id: pair, title: Pair, sources: [gamma, alpha], categories: [World], limit: 4}}
  - {{id: sports, title: Sports, categories: [Sports], limit: 5}}
"""


def article(rng: random.Random, source: str, n: int, url: int) -> tuple[str, Article]:
    guid = f"{source}-{n}"
    dated = rng.random() > 0.15
    return guid, Article(
        title=f"{rng.choice(['AI', 'Rates', 'Storm', 'Cup'])} story {n} from {source}",
        categories=(rng.choice(["Sports", "World", "Tech"]),),
        excerpt=f"Excerpt {n}.",
        feature_text=f"Excerpt {n}.",
        image=None,
        body=f"<p>Body {n} of {source}.</p>",
        # Whole hours over a few days: equal dates across stories happen often.
        date=NOW - timedelta(hours=rng.randrange(0, 72)) if dated else None,
        source=source.title(),
        source_url=f"https://{source}.example/",
        # A shared URL folds retellings from other sources into one story.
        canonical_url=f"https://wire.example/{url}",
        id=story_id(source, guid),
    )


def fill(store: Store, rng: random.Random, count: int, start: int = 0) -> None:
    for source in SOURCES:
        batch = [
            article(rng, source, n, rng.randrange(0, count * 2))
            for n in range(start, start + count)
        ]
        store.save_articles(source, batch, NOW - timedelta(minutes=rng.randrange(0, 600)))


@pytest.mark.parametrize("seed", range(6))
def test_paged_selection_is_what_selecting_over_everything_gives(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selection, "PAGE", 7)  # many pages, and stops between them
    settings = parse_config(CONFIG.format(db=tmp_path / "db.sqlite"), base_dir=tmp_path)
    rng = random.Random(seed)
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        fill(store, rng, 40)
        rank = pipeline.source_rank(settings)
        everything = kept_items(store.articles(), rank)
        assert len(everything) < 120  # stories were folded
        assert store.story_count() == len(everything)
        expected = select_all(settings, everything)
        read: list[tuple[str, ...]] = []
        newest_stories = store.newest_stories

        def recorded(limit: int, offset: int = 0, sources: Collection[str] = ()) -> Any:
            read.append(tuple(sorted(sources)))
            return newest_stories(limit, offset, sources)

        monkeypatch.setattr(store, "newest_stories", recorded)
        paged = selection.select_from_store(settings, store, rank)
        assert dict(paged.channels) == dict(expected.channels)
        # The source-limited channels page through their sources' stories only.
        assert {("beta",), ("alpha", "gamma")} <= set(read)
        assert list(paged.latest) == list(expected.latest)
        assert all(paged.channels[c.id] for c in settings.channels)


def test_posts_follow_changes_and_match_a_complete_publish(tmp_path: Path) -> None:
    settings = parse_config(CONFIG.format(db=tmp_path / "db.sqlite"), base_dir=tmp_path)
    rng = random.Random(7)
    posts_dir = settings.output.posts_dir
    assert posts_dir is not None
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        fill(store, rng, 30)
        first = pipeline.publish_all(settings, store, NOW)
        assert first.posts_written == first.stories == store.story_count()
        with PostLedger.open(posts_dir) as ledger:
            mark = ledger.mark
        assert mark == store.change_mark()

        # Nothing changed: no post is even looked at.
        again = pipeline.publish_all(settings, store, NOW)
        assert (again.posts_written, again.posts_removed, again.changed) == (0, 0, ())

        # New stories, retellings of stored ones, and a story whose title was edited.
        fill(store, rng, 10, start=30)
        stored = store.articles()[0]
        edited = (
            stored.guid,
            Article(**{**_fields(stored.article), "title": "A new headline entirely"}),
        )
        store.save_articles(stored.source_id, [edited], NOW)
        changed = set(store.stories_changed_since(mark or 0))
        before = posts_in(posts_dir)
        result = pipeline.publish_all(settings, store, NOW)
        assert 0 < result.posts_written <= len(changed)
        assert result.posts_removed >= 1  # the edited headline's old post
        after = posts_in(posts_dir)
        with PostLedger.open(posts_dir) as ledger:
            recorded = ledger.entries()
        untouched = {name for name, entry in recorded.items() if entry.story not in changed}
        assert untouched and all(after[name] == before[name] for name in untouched)

        # The same posts, byte for byte, as writing every story into an empty directory.
        fresh = tmp_path / "fresh"
        reference = parse_config(CONFIG.format(db=tmp_path / "db.sqlite"), base_dir=fresh)
        fresh.mkdir()
        publish(reference, kept_items(store.articles(), pipeline.source_rank(settings)), NOW)
        assert after == posts_in(fresh / "_posts")


def posts_in(posts_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in posts_dir.glob("*.md")}


def _fields(value: Article) -> dict[str, object]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def test_pruned_stories_leave_the_channels_and_keep_their_posts(tmp_path: Path) -> None:
    settings = parse_config(CONFIG.format(db=tmp_path / "db.sqlite"), base_dir=tmp_path)
    posts_dir = settings.output.posts_dir
    assert posts_dir is not None and settings.retention == timedelta(days=90)
    rng = random.Random(3)
    long_ago = NOW - timedelta(days=120)
    with Store.open(settings.storage) as store:
        store.sync_sources(settings.sources)
        old = [article(rng, "alpha", n, 1000 + n) for n in range(100, 105)]
        old = [
            (guid, _replace(a, date=long_ago - timedelta(hours=n)))
            for n, (guid, a) in enumerate(old)
        ]
        store.save_articles("alpha", old, long_ago)
        fill(store, rng, 5)
        pipeline.publish_all(settings, store, NOW)
        posts_before = posts_in(posts_dir)

        assert pipeline.prune(settings, store, NOW) == 5
        result = pipeline.publish_all(settings, store, NOW)
        assert (result.posts_written, result.posts_removed) == (0, 0)
        assert posts_in(posts_dir) == posts_before
        shown = {
            a.article.id
            for items in selection.select_from_store(
                settings, store, pipeline.source_rank(settings)
            ).channels.values()
            for a in items
        }
        assert not shown & {a.id for _, a in old}
        assert pipeline.prune(settings, store, NOW) == 0


def _replace(value: Article, **changes: object) -> Article:
    return Article(**{**_fields(value), **changes})  # type: ignore[arg-type]
