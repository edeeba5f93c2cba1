"""``aggregator demo`` works offline: bundled feeds served on 127.0.0.1, one pass, outputs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from aggregator import frontmatter
from tests.cli import AGGREGATOR
from tests.conftest import seed_article


def test_the_demo_fetches_every_sample_feed_and_publishes(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(AGGREGATOR), "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for source in ("adskorea", "wire-world", "tech-daily"):
        assert f"{source}: 5 new articles" in result.stdout
    assert str(tmp_path / "demo" / "demo-public" / "feeds" / "all.xml") in result.stdout

    posts = list((tmp_path / "demo" / "demo-posts").glob("*.md"))
    assert len(posts) == 15
    reference = seed_article()
    articles = [frontmatter.loads(p.read_text("utf-8")) for p in posts]
    seed_posts = [a for a in articles if a.title == reference.title]
    assert len(seed_posts) == 1
    for key in ("title", "categories", "excerpt", "feature_text", "image", "body"):
        assert getattr(seed_posts[0], key) == getattr(reference, key), key

    ai = json.loads((tmp_path / "demo" / "demo-public" / "feeds" / "ai.json").read_bytes())
    titles = [item["title"] for item in ai["items"]]
    assert reference.title in titles and 0 < len(titles) < 15
