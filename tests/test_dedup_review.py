"""``dedup review`` lists the recent folds of reports written apart, the lowest score
first, each beside the report it joined, and the merges of stories; not copies, not what
was split out, not what was stored before the time asked for."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from aggregator.config import parse_config
from aggregator.explain import review_lines
from aggregator.model import story_id
from aggregator.store import Store
from tests import test_story_merge
from tests.cli import run_cli
from tests.feedserver import FeedServer
from tests.test_same_event import FIRE_A, FIRE_B, OUTBREAK_A, OUTBREAK_B
from tests.test_story_merge import FLOOD, NOW, ROADS, SOURCES, by_guid, save

Told = tuple[str, str, str, str, datetime]

#: The wire's fire report as another outlet ran it: a copy, which folds by its n-grams.
FIRE_COPY: Told = (
    "ledger",
    "fire-copy",
    "Port Alder chemical plant blaze injures four",
    FIRE_A[3].replace("the city fire department said", "the fire department said"),
    FIRE_A[4] + timedelta(minutes=20),
)


def rss(items: list[Told]) -> str:
    """An RSS feed of ``items``, each linked to its outlet's site."""
    entries = "".join(
        f"<item><title>{escape(title)}</title><guid isPermaLink='false'>{guid}</guid>"
        f"<link>https://{source}.example/{guid}</link>"
        f"<pubDate>{format_datetime(date)}</pubDate>"
        f"<description>{escape(f'<p>{body}</p>')}</description></item>"
        for source, guid, title, body, date in items
    )
    return f"<rss version='2.0'><channel><title>t</title><link>https://example.org/</link>{entries}</channel></rss>"


def fetched(
    tmp_path: Path, feed_server: FeedServer, outlets: dict[str, list[Told]], more: str = ""
) -> Path:
    """A configuration whose sources are ``outlets``, each an RSS feed served over HTTP
    (and ``more`` of the file's sections), after one ``fetch --all``."""
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "site: {link: 'https://agg.example/'}\nfetch: {allow_private: [127.0.0.1]}\n"
        + more
        + "sources:\n"
        + "".join(
            f"  - {{id: {source}, name: {source.title()}, "
            f"url: '{feed_server.serve(f'/{source}.xml', rss(items))}'}}\n"
            for source, items in outlets.items()
        ),
        encoding="utf-8",
    )
    done = run_cli(config, "fetch", "--all")
    assert done.returncode == 0, done.stderr
    return config


def listed(output: str) -> list[tuple[float, str]]:
    """(score, article id) of each fold listed, in the order shown."""
    return [
        (float(score), article_id)
        for score, article_id in re.findall(r"^  (\d\.\d\d)  (\S+)  ", output, re.MULTILINE)
    ]


def test_review_lists_folds_of_reports_written_apart_least_certain_first(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    outlets = {
        "harbor": [FIRE_A, OUTBREAK_A],
        "meridian": [FIRE_B, OUTBREAK_B],
        "ledger": [FIRE_COPY],
    }
    config = fetched(tmp_path, feed_server, outlets)
    review = run_cli(config, "dedup", "review")
    assert review.returncode == 0, review.stderr
    out = review.stdout
    fire_b, outbreak_b = story_id("meridian", "fire-b"), story_id("meridian", "outbreak-b")
    assert "reports written apart folded into a story: 2 (the lowest score first)" in out
    folds = listed(out)
    assert {article_id for _, article_id in folds} == {fire_b, outbreak_b}
    scores = [score for score, _ in folds]
    assert scores == sorted(scores) and all(0.75 <= score <= 1 for score in scores)
    # Each beside the report it joined (the fire, the wire's report or its copy), both
    # headlines shown.
    joined_fire = out.split(f"  {fire_b}  Meridian: {FIRE_B[2]}\n")[1].splitlines()[0]
    assert joined_fire.strip() in {
        f"joined: {story_id('harbor', 'fire-a')}  Harbor: {FIRE_A[2]}",
        f"joined: {story_id('ledger', 'fire-copy')}  Ledger: {FIRE_COPY[2]}",
    }
    assert (
        f"  {outbreak_b}  Meridian: {OUTBREAK_B[2]}\n"
        f"        joined: {story_id('harbor', 'outbreak-a')}  Harbor: {OUTBREAK_A[2]}\n"
    ) in out
    # The copy folded by its wording: not what the review is for.
    copy = story_id("ledger", "fire-copy")
    assert "joined by similarity" in run_cli(config, "dedup", "explain", copy).stdout
    assert f"  {copy}  " not in out
    assert "stories merged into another: 0" in out
    assert "dedup split ID" in out

    least_certain = folds[0][1]
    capped = run_cli(config, "dedup", "review", "--limit", "1")
    assert "folded into a story: more than 1; the 1 lowest scores" in capped.stdout
    assert [article_id for _, article_id in listed(capped.stdout)] == [least_certain]

    # A fold the operator undid is no longer listed.
    assert run_cli(config, "dedup", "split", fire_b).returncode == 0
    after = run_cli(config, "dedup", "review").stdout
    assert [article_id for _, article_id in listed(after)] == [outbreak_b]


def test_review_rejects_a_window_or_limit_that_is_not_a_positive_count(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"sources:\n  - {{id: a, url: '{feed_server.url('/a.xml')}'}}\n", encoding="utf-8"
    )
    for option in ("--hours", "--limit"):
        refused = run_cli(config, "dedup", "review", option, "0")
        assert refused.returncode == 2
        assert option in refused.stderr


#: A store in a SQLite file, and one in PostgreSQL.
store_url = test_story_merge.store_url


def test_review_lists_merges_and_only_what_was_stored_since(store_url: str, tmp_path: Path) -> None:
    """Two halves of a report founded two stories; the whole report merged them. In a
    SQLite file and in PostgreSQL."""
    settings = parse_config(
        "storage: sqlite:///unused.db\nsources:\n"
        + "".join(f"  - {{id: {s}, url: 'https://{s}.example/rss'}}\n" for s in SOURCES),
        base_dir=tmp_path,
    )
    with Store.open(store_url) as store:
        store.sync_sources(settings.sources)
        save(store, "alpha", 1, FLOOD, 0.5)
        save(store, "beta", 1, ROADS, 1.0)
        save(store, "gamma", 1, f"{FLOOD} {ROADS}", 2.0)
        stored = by_guid(store)
        recent = "\n".join(review_lines(settings, store, NOW - timedelta(hours=1), 20))
        later = "\n".join(review_lines(settings, store, NOW + timedelta(seconds=1), 20))
    absorbed, bridge = stored["beta-1"].article.id, stored["gamma-1"].article.id
    assert "reports written apart folded into a story: 0" in recent
    assert "stories merged into another: 1 (the lowest score first)" in recent
    assert f"  {absorbed}  beta: Report 1 from beta" in recent
    assert f"told both: {bridge}  gamma: Report 1 from gamma" in recent
    assert absorbed not in later and "stories merged into another: 0" in later
