"""``aggregator demo`` works offline and shows what the aggregator does best: the bundled
outlets' retellings folded into one story (one told three ways, Korean and English), the
explanation of one, how to split and how to browse; its ``feeds.yaml`` keeps working, and
a second run changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from aggregator import frontmatter
from tests.cli import AGGREGATOR, cli_env, run_cli
from tests.conftest import seed_article

SOURCES = ("adskorea", "hangang-ilbo", "wire-world", "tech-daily")


def demo(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGGREGATOR), "demo", "--dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(),
    )


def outputs(directory: Path) -> dict[str, tuple[int, bytes]]:
    """Every file the demo wrote but the store: (mtime in ns, bytes) by path."""
    return {
        str(path.relative_to(directory)): (path.stat().st_mtime_ns, path.read_bytes())
        for path in sorted(directory.rglob("*"))
        if path.is_file() and "data" not in path.relative_to(directory).parts
    }


def test_the_demo_folds_explains_and_says_how_to_split_and_browse(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    result = demo(directory)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for source in SOURCES:
        assert f"  {source}: " in out and "new articles" in out
    assert "the same story from several outlets, shown once (2 stories):" in out
    assert "told by adskorea, 한강일보, Tech Daily" in out  # Korean, three ways
    assert "told by Tech Daily, World Wire" in out  # English, two ways
    config = directory / "feeds.yaml"
    command = f"aggregator -c {config}"
    assert f"{command} dedup explain " in out and "3 articles; kept: adskorea" in out
    assert out.count("joined by similarity") == 2
    split = next(line for line in out.splitlines() if "dedup split" in line).split()[-1]
    assert f"{command} serve" in out and "http://127.0.0.1:8080/" in out

    everything = json.loads((directory / "public" / "feeds" / "all.json").read_bytes())
    folded = [i for i in everything["items"] if i["_aggregator"]["also_reported_by"]]
    assert sorted(len(i["_aggregator"]["also_reported_by"]) for i in folded) == [1, 2]
    # Nothing links to the server the demo used to start on a random port.
    assert "127.0.0.1" not in json.dumps(everything)

    reference = seed_article()
    posts = [frontmatter.loads(p.read_text("utf-8")) for p in (directory / "_posts").glob("*.md")]
    seed_posts = [post for post in posts if post.title == reference.title]
    assert len(seed_posts) == 1
    for key in ("title", "categories", "excerpt", "feature_text", "image", "body"):
        assert getattr(seed_posts[0], key) == getattr(reference, key), key
    assert [m.source for m in seed_posts[0].also_reported_by] == ["한강일보", "Tech Daily"]

    # The split it suggests works, and sticks.
    split_out = run_cli(config, "dedup", "split", split)
    assert split_out.returncode == 0, split_out.stderr


def test_a_second_demo_changes_nothing_and_its_configuration_keeps_working(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "demo"
    assert demo(directory).returncode == 0
    before = outputs(directory)
    again = demo(directory)
    assert again.returncode == 0, again.stderr
    assert "nothing due" in again.stdout and "(0 files changed)" in again.stdout
    assert outputs(directory) == before

    # The written feeds.yaml points at the copied sample feeds, not at a dead port.
    config = directory / "feeds.yaml"
    assert "127.0.0.1:" not in config.read_text(encoding="utf-8").split("server:")[0]
    assert run_cli(config, "check").returncode == 0
    fetched = run_cli(config, "fetch", "--all")
    assert fetched.returncode == 0, fetched.stderr
    assert "4 sources: 4 fetched" in fetched.stdout and " 0 new" in fetched.stdout
    assert os.path.exists(directory / "sample-feeds" / "hangang-ilbo.xml")
