"""``aggregator opml export`` and ``opml import FILE`` against real files."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.config.additions import append_sources
from tests.cli import run_cli

CONFIG = """# my feeds: comments and order must survive an import
site:
  title: 뉴스 모음
sources:
  - id: yonhap        # the wire
    url: https://www.yna.co.kr/rss/news.xml
    name: 연합뉴스

  # more to come
channels:
  - {id: all, title: All}
"""

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>reader export</title></head><body>
<outline text="World">
  <outline type="rss" text="BBC News" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml" htmlUrl="https://www.bbc.co.uk/news"/>
  <outline type="rss" text="연합뉴스" xmlUrl="https://www.yna.co.kr/rss/news.xml"/>
</outline>
<outline type="rss" text="한겨레" xmlUrl="https://www.hani.co.kr/rss/"/>
<outline type="rss" text="BBC News" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
</body></opml>
"""


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(config, *args, timeout=60)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_import_adds_new_sources_keeps_the_file_and_reports_duplicates(config: Path) -> None:
    opml = config.parent / "subscriptions.opml"
    opml.write_text(OPML, encoding="utf-8")
    result = run(config, "opml", "import", str(opml))
    assert result.returncode == 0, result.stderr
    assert "already a source: https://www.yna.co.kr/rss/news.xml (as yonhap)" in result.stdout
    assert result.stdout.strip().endswith("3 new sources, 1 already configured")

    text = config.read_text(encoding="utf-8")
    assert text.startswith(CONFIG.split("  # more to come")[0])  # untouched above
    assert "# my feeds: comments and order must survive an import" in text
    assert "  # more to come\n" in text and "channels:" in text
    settings = load_config(config)
    by_id = {source.id: source for source in settings.sources}
    assert list(by_id) == ["yonhap", "bbc-news", "hani-co-kr", "bbc-news-2"]
    assert by_id["bbc-news"].categories == ("World",)
    assert by_id["bbc-news"].home == "https://www.bbc.co.uk/news"
    assert (
        by_id["hani-co-kr"].name == "한겨레"
        and by_id["hani-co-kr"].url == "https://www.hani.co.kr/rss/"
    )

    again = run(config, "opml", "import", str(opml))
    assert again.returncode == 0 and again.stdout.strip().endswith(
        "0 new sources, 4 already configured"
    )


def test_dry_run_changes_nothing_and_bad_opml_is_refused(config: Path) -> None:
    opml = config.parent / "subscriptions.opml"
    opml.write_text(OPML, encoding="utf-8")
    dry = run(config, "opml", "import", "--dry-run", str(opml))
    assert dry.returncode == 0 and "would add: bbc-news" in dry.stdout
    assert config.read_text(encoding="utf-8") == CONFIG
    opml.write_text("<opml><body><outline", encoding="utf-8")
    bad = run(config, "opml", "import", str(opml))
    assert bad.returncode == 2 and "malformed OPML" in bad.stderr
    assert config.read_text(encoding="utf-8") == CONFIG


def test_export_round_trips_through_import(config: Path, tmp_path: Path) -> None:
    exported = run(config, "opml", "export")
    assert exported.returncode == 0, exported.stderr
    assert 'xmlUrl="https://www.yna.co.kr/rss/news.xml"' in exported.stdout
    other = tmp_path / "other.yaml"
    other.write_text("sources:\n  - {id: x, url: 'https://x.example/feed'}\n", encoding="utf-8")
    opml = tmp_path / "export.opml"
    opml.write_text(exported.stdout, encoding="utf-8")
    assert run(other, "opml", "import", str(opml)).returncode == 0
    assert [s.url for s in load_config(other).sources] == [
        "https://x.example/feed",
        "https://www.yna.co.kr/rss/news.xml",
    ]


def test_append_sources_needs_a_block_list() -> None:
    with pytest.raises(ValueError, match="inline"):
        append_sources("sources: [{id: a, url: 'https://a.example'}]\n", [{"id": "b"}])
    with pytest.raises(ValueError, match="no top-level"):
        append_sources("site: {}\n", [{"id": "b"}])
    assert append_sources("sources:\n  - id: a", [{"id": "b", "url": "u"}]) == (
        "sources:\n  - id: a\n  - id: b\n    url: u\n"
    )


def test_import_keeps_the_configs_permissions_and_its_symbolic_link(tmp_path: Path) -> None:
    # A feeds.yaml holding a database password is 0600, often a link into a secrets dir.
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    real = secrets / "feeds.yaml"
    real.write_text(CONFIG, encoding="utf-8")
    real.chmod(0o600)
    link = tmp_path / "feeds.yaml"
    link.symlink_to(real)
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(OPML, encoding="utf-8")

    result = run(link, "opml", "import", str(opml))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and link.resolve() == real
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert "bbc-news" in real.read_text(encoding="utf-8")
    assert [p.name for p in secrets.iterdir()] == ["feeds.yaml"]  # no temporary left


LOCAL_OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>shared list</title></head><body>
<outline type="rss" text="Notes" xmlUrl="file:///home/me/private-notes"/>
<outline type="rss" text="Router" xmlUrl="http://192.168.1.1/status.xml"/>
<outline type="rss" text="Mapped" xmlUrl="http://[::ffff:127.0.0.2]/feed"/>
<outline type="rss" text="Local" xmlUrl="http://localhost:8080/feed"/>
<outline type="rss" text="Metadata" xmlUrl="http://169.254.169.254/latest/meta-data/"/>
<outline type="rss" text="BBC News" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml"/>
</body></opml>
"""


def test_import_refuses_local_files_and_private_addresses_unless_allowed(config: Path) -> None:
    # An OPML file is someone else's list: a file:// source published a private notes
    # directory, an internal URL let the list's author map the network.
    opml = config.parent / "shared.opml"
    opml.write_text(LOCAL_OPML, encoding="utf-8")
    result = run(config, "opml", "import", str(opml))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("1 new sources, 0 already configured, 5 refused")
    assert "refused: file:///home/me/private-notes is a local file" in result.stderr
    assert "refused: http://192.168.1.1/status.xml is a private address" in result.stderr
    assert "--allow-private adds it" in result.stderr
    urls = [source.url for source in load_config(config).sources]
    assert urls == ["https://www.yna.co.kr/rss/news.xml", "https://feeds.bbci.co.uk/news/rss.xml"]

    allowed = run(config, "opml", "import", "--allow-private", str(opml))
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip().endswith("5 new sources, 1 already configured")
    assert len(load_config(config).sources) == 7


def test_appended_sources_follow_the_files_own_list_style() -> None:
    # They came in another style: block lists under each entry, no blank line between.
    spaced = "sources:\n  - id: a\n    url: u\n    categories: [News]\n\n  - id: c\n    url: v\n"
    added = append_sources(
        spaced, [{"id": "b", "url": "w", "name": "연합뉴스", "categories": ["News", "세계 뉴스"]}]
    )
    assert added == spaced + (
        "\n  - id: b\n    url: w\n    name: 연합뉴스\n    categories: [News, 세계 뉴스]\n"
    )
    tight = "sources:\n  - id: a\n    url: u\n"
    assert append_sources(tight, [{"id": "b", "url": "w"}]) == tight + "  - id: b\n    url: w\n"


def test_check_aligns_its_columns_to_the_longest_id(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "sources:\n"
        "  - {id: a, url: 'https://a.example/feed'}\n"
        "  - {id: an-imported-outlet-with-a-long-name, url: 'https://b.example/feed'}\n",
        encoding="utf-8",
    )
    shown = run_cli(config, "check")
    assert shown.returncode == 0, shown.stderr
    rows = [line for line in shown.stdout.splitlines() if "every " in line]
    assert len(rows) == 2 and len({row.index("every ") for row in rows}) == 1
