"""Publishing to disk: atomic replacement, unchanged files left alone, posts tracked."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from aggregator import frontmatter, syndication
from aggregator import publish as publish_module
from aggregator.atomic_files import write_atomic
from aggregator.config import parse_config
from aggregator.model import Article, SourceState, StoredArticle
from aggregator.post_ledger import JSON_MANIFEST, LEDGER_NAME, TSV_MANIFEST, PostLedger
from aggregator.publish import publish

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
CONFIG = """
site: {title: Test, link: "https://news.example.org/", timezone: Asia/Seoul}
sources:
  - {id: wire, url: "https://wire.example.com/feed"}
channels:
  - {id: all, title: All}
  - {id: ai, title: AI, keywords: [AI]}
"""


def stored(seq: int, title: str, day: int) -> StoredArticle:
    article = Article(
        title=title,
        categories=("World",),
        excerpt=f"{title}. More.",
        feature_text=f"## Wire\n{title}",
        image=None,
        body=f"<p>{title}</p>",
        date=datetime(2026, 11, day, 3, tzinfo=UTC),
        source="Wire",
        canonical_url=f"https://wire.example.com/{seq}",
        id=f"{seq:016x}",
    )
    return StoredArticle("wire", f"g{seq}", article, NOW, seq)


def settings(tmp_path: Path, posts: bool = True):  # type: ignore[no-untyped-def]
    text = CONFIG + ("" if posts else "output: {posts_dir: null}\n")
    return parse_config(text, base_dir=tmp_path)


def test_publish_writes_every_output_and_then_nothing_when_unchanged(tmp_path: Path) -> None:
    config = settings(tmp_path)
    articles = [stored(1, "AI chips ship", 20), stored(2, "Rain expected", 21)]
    first = publish(config, articles, NOW)
    assert sorted(first.changed) == [
        "feed.xsl",
        "feeds/ai.atom", "feeds/ai.json", "feeds/ai.xml",
        "feeds/all.atom", "feeds/all.json", "feeds/all.xml",
        "index.html", "opml.xml",
    ]  # fmt: skip
    assert first.posts_written == 2
    ai = feedparser.parse((tmp_path / "public" / "feeds" / "ai.xml").read_bytes())
    assert [e.title for e in ai.entries] == ["AI chips ship"]

    later = datetime(2026, 11, 26, tzinfo=UTC)
    again = publish(config, articles, later)
    assert again.changed == () and again.posts_written == 0 and again.posts_removed == 0
    leftovers = [p for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []


def test_posts_follow_their_articles_and_foreign_files_are_left_alone(tmp_path: Path) -> None:
    config = settings(tmp_path)
    posts = tmp_path / "_posts"
    posts.mkdir()
    (posts / "2020-01-01-hand-written.md").write_text("---\ntitle: mine\n---\n", "utf-8")
    article = stored(1, "First title", 20)
    publish(config, [article], NOW)
    # 03:00 UTC is noon in Seoul: the post is dated in the site's time zone.
    assert (posts / "2026-11-20-first-title.md").exists()
    post = frontmatter.loads((posts / "2026-11-20-first-title.md").read_text("utf-8"))
    assert post.date is not None and post.date.isoformat() == "2026-11-20T12:00:00+09:00"

    renamed = dataclasses.replace(
        article, article=dataclasses.replace(article.article, title="Better title")
    )
    result = publish(config, [renamed], NOW)
    assert result.posts_written == 1 and result.posts_removed == 1
    names = sorted(p.name for p in posts.iterdir() if p.is_file())
    assert names == [LEDGER_NAME, "2020-01-01-hand-written.md", "2026-11-20-better-title.md"]


def test_posts_can_be_disabled(tmp_path: Path) -> None:
    result = publish(settings(tmp_path, posts=False), [stored(1, "x", 20)], NOW)
    assert result.posts_written == 0
    assert not (tmp_path / "_posts").exists()


def test_write_atomic_replaces_and_reports_changes(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.xml"
    assert write_atomic(target, b"one") is True
    inode = target.stat().st_ino
    assert write_atomic(target, b"one") is False
    assert target.stat().st_ino == inode  # untouched
    assert write_atomic(target, b"two") is True
    assert target.read_bytes() == b"two" and target.stat().st_ino != inode
    assert [p.name for p in target.parent.iterdir()] == ["file.xml"]


def test_the_index_page_shows_each_sources_health(tmp_path: Path) -> None:
    config = settings(tmp_path)
    failing = SourceState(
        "wire", last_status="error", error_count=3, last_error="HTTP 500 Internal Server Error"
    )
    publish(config, [stored(1, "AI chips ship", 20)], NOW, {"wire": failing})
    page = (tmp_path / "public" / "index.html").read_text("utf-8")
    assert "failing (3)" in page and "HTTP 500 Internal Server Error" in page
    assert '<link rel="alternate" type="application/rss+xml"' in page
    assert 'href="feeds/ai.atom"' in page and "AI chips ship" in page


def test_the_index_page_says_when_it_last_changed(tmp_path: Path) -> None:
    # "Updated" was the newest story's date, though a later fetch changed the sources'
    # health below it.
    config = settings(tmp_path)
    story = stored(1, "AI chips ship", 20)
    fetched_at = story.first_seen + timedelta(days=2, hours=3)
    checked = SourceState("wire", last_fetch=fetched_at, last_success=fetched_at, last_status="ok")
    publish(config, [story], NOW, {"wire": checked})
    page = (tmp_path / "public" / "index.html").read_text("utf-8")
    shown = fetched_at.astimezone(config.site.tz)
    assert f"Updated {shown:%Y-%m-%d %H:%M %Z}" in page
    # Nothing new, no new fetch: the same page.
    publish(config, [story], NOW + timedelta(hours=5), {"wire": checked})
    assert (tmp_path / "public" / "index.html").read_text("utf-8") == page


def test_a_manifest_from_before_marks_is_read_once_and_replaced(tmp_path: Path) -> None:
    config = settings(tmp_path)
    articles = [stored(1, "AI chips ship", 20), stored(2, "Rain expected", 21)]
    publish(config, articles, NOW)
    posts = tmp_path / "_posts"
    with PostLedger.open(posts) as ledger:
        current = ledger.entries()
    # The JSON manifest of earlier versions: name -> "digest size".
    legacy = {name: f"{entry.digest} {entry.size}" for name, entry in current.items()}
    (posts / JSON_MANIFEST).write_text(json.dumps(legacy), "utf-8")
    (posts / LEDGER_NAME).unlink()

    again = publish(config, articles, NOW)
    assert (again.posts_written, again.posts_removed) == (0, 0)  # the digests were known
    assert not (posts / JSON_MANIFEST).exists()
    with PostLedger.open(posts) as ledger:
        assert ledger.entries() == current


def test_a_tab_separated_manifest_is_taken_over_with_its_mark(tmp_path: Path) -> None:
    config = settings(tmp_path)
    articles = [stored(1, "AI chips ship", 20), stored(2, "Rain expected", 21)]
    publish(config, articles, NOW)
    posts = tmp_path / "_posts"
    with PostLedger.open(posts) as ledger:
        current, written_for = ledger.entries(), ledger.written_for
    lines = [json.dumps({"mark": 41, "written_for": written_for})] + [
        f"{name}\t{entry.digest}\t{entry.size}\t{entry.story}" for name, entry in current.items()
    ]
    (posts / TSV_MANIFEST).write_text("\n".join(lines), "utf-8")
    (posts / LEDGER_NAME).unlink()

    with PostLedger.open(posts) as ledger:
        assert (ledger.mark, ledger.written_for) == (41, written_for)
        assert ledger.entries() == current
    assert not (posts / TSV_MANIFEST).exists()
    again = publish(config, articles, NOW)
    assert (again.posts_written, again.posts_removed) == (0, 0)


@pytest.mark.parametrize(
    "error, shown",
    [
        (
            "could not connect: [Errno 111] Connect call failed ('10.0.0.7', 5432)",
            "could not connect",
        ),
        (
            "could not connect: refused to connect to 127.0.0.2: it is a private address "
            "(127.0.0.2); fetch.allow_private allows it",
            "refused: a private address (see fetch.allow_private)",
        ),
        ("ReadError: [Errno 104] Connection reset by peer (10.0.0.7:5432)", "connection failed"),
        ("timed out after 20s", "timed out after 20s"),
        ("HTTP 404 Not Found", "HTTP 404 Not Found"),
    ],
)
def test_the_index_page_names_a_failure_without_the_networks_details(
    tmp_path: Path, error: str, shown: str
) -> None:
    # One subscribed feed pointing at internal ports could otherwise map which are open.
    failing = SourceState("wire", last_status="error", error_count=1, last_error=error)
    publish(settings(tmp_path), [stored(1, "AI chips ship", 20)], NOW, {"wire": failing})
    page = (tmp_path / "public" / "index.html").read_text("utf-8")
    assert f'<span class="meta">{shown}</span>' in page
    assert "10.0.0.7" not in page and "Errno" not in page and "5432" not in page


def test_a_password_in_a_source_url_is_published_nowhere(tmp_path: Path) -> None:
    config = parse_config(
        CONFIG.replace(
            "https://wire.example.com/feed", "https://reader:s3cret@wire.example.com:8443/feed"
        ),
        base_dir=tmp_path,
    )
    [source] = config.sources
    assert source.url == "https://reader:s3cret@wire.example.com:8443/feed"  # fetched with it
    assert source.home == "https://wire.example.com:8443"
    # What an article carries from its source (normalize gives it the source's home).
    item = stored(1, "AI chips ship", 20)
    item = dataclasses.replace(
        item, article=dataclasses.replace(item.article, source_url=source.home)
    )
    publish(config, [item], NOW)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and ".aggregator" not in str(p)]
    assert any(p.name == "opml.xml" for p in written)
    leaked = [str(p.relative_to(tmp_path)) for p in written if b"s3cret" in p.read_bytes()]
    assert leaked == []
    assert b"https://wire.example.com:8443" in (tmp_path / "public" / "opml.xml").read_bytes()


def test_a_channel_whose_items_did_not_change_is_not_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = settings(tmp_path)
    articles = [stored(1, "AI chips ship", 20)]
    publish(config, articles, NOW)
    rendered: list[str] = []
    counting = {
        extension: (
            lambda meta, items, now, render=render: (
                rendered.append(meta.id) or render(meta, items, now)
            )
        )
        for extension, render in syndication.FEED_FORMATS.items()
    }
    monkeypatch.setattr(publish_module, "FEED_FORMATS", counting)
    # A story only "all" shows: "ai" is taken back from the files the last publish wrote.
    again = publish(config, [*articles, stored(2, "Rain expected", 21)], NOW)
    assert rendered == ["all"] * 3
    assert sorted(again.changed) == [
        *(f"feeds/all.{extension}" for extension in ("atom", "json", "xml")),
        "index.html",
        "opml.xml",  # dated by the newest story
    ]
    assert again.files["feeds/ai.xml"] == (tmp_path / "public/feeds/ai.xml").read_bytes()
    # A file changed on disk since (its size no longer the one recorded) is rendered again.
    (tmp_path / "public/feeds/ai.json").write_bytes(b"{}")
    rendered.clear()
    publish(config, [*articles, stored(2, "Rain expected", 21)], NOW)
    assert rendered == ["ai"] * 3
