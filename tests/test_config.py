"""feeds.yaml loading: defaults, the bundled example, durations and sizes, error messages
with file:line:column, and paths resolved against the config file's directory."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from aggregator.config import (
    DEFAULT_FEATURE_TEXT,
    DedupSettings,
    FetchSettings,
    Server,
    Settings,
    Site,
    load_config,
    parse_config,
    parse_duration,
    parse_size,
)
from aggregator.errors import ConfigError
from aggregator.model import Channel, Source, Templates
from tests.cli import run_cli

BASE = Path("/srv/news")
MINIMAL = """\
sources:
  - id: a
    url: https://example.org/feed.xml
"""


def parse(text: str) -> Settings:
    return parse_config(dedent(text), base_dir=BASE)


def problems(text: str, filename: str = "feeds.yaml") -> list[str]:
    """The lines of the ConfigError that parsing ``text`` raises."""
    with pytest.raises(ConfigError) as caught:
        parse_config(dedent(text), filename, base_dir=BASE)
    return str(caught.value).splitlines()


def problem(text: str) -> str:
    """The one problem found in ``text``."""
    (line,) = problems(text)
    return line


# --- defaults and the bundled example ---------------------------------------------------------


def test_a_file_with_only_sources_gets_every_default() -> None:
    settings = parse(MINIMAL)

    assert settings.site == Site()
    assert settings.site.tz.key == "UTC"
    assert settings.storage == "sqlite:////srv/news/data/aggregator.db"
    assert settings.output.dir == BASE / "public"
    assert settings.output.posts_dir == BASE / "_posts"
    assert settings.server == Server(host="127.0.0.1", port=8080)
    assert settings.fetch == FetchSettings()
    assert settings.fetch.interval == timedelta(minutes=15)
    assert settings.fetch.timeout == timedelta(seconds=20)
    assert settings.fetch.max_bytes == 10 * 1024 * 1024
    assert settings.dedup == DedupSettings(True, 0.22, timedelta(hours=72))
    assert settings.sources == (
        Source(
            id="a",
            url="https://example.org/feed.xml",
            name="a",
            home="https://example.org",
            interval=timedelta(minutes=15),
            templates=Templates(feature_text=DEFAULT_FEATURE_TEXT),
        ),
    )
    assert settings.channels == (Channel(id="all", title="aggregator", description=""),)
    assert settings.path is None


def test_the_bundled_feeds_yaml_loads() -> None:
    path = Path(__file__).resolve().parents[1] / "feeds.yaml"
    settings = load_config(path)

    assert settings.path == path
    assert settings.site.timezone == "Asia/Seoul"
    assert settings.site.language == "ko"
    assert settings.storage == f"sqlite:///{path.parent}/data/aggregator.db"
    assert settings.fetch.user_agent == "aggregator/0.1.0 (+https://news.example.org/)"
    ids = [source.id for source in settings.sources]
    assert {"adskorea", "bbc-world", "npr", "guardian-world"} <= set(ids)
    assert len(ids) == len(set(ids))
    adskorea = settings.sources[ids.index("adskorea")]
    assert adskorea.url == "https://newsdao.kr/rss"
    assert adskorea.interval == timedelta(minutes=10)
    assert adskorea.templates.feature_text == "## {source_name} 실시간 뉴스 속보입니다.\n{excerpt}"
    assert adskorea.default_image == ("https://newsdao.kr/res/images/meta/newsdao_breakingnews.jpg")
    assert [channel.id for channel in settings.channels] == ["all", "ai"]
    assert settings.channels[1].keywords == ("인공지능", "AI")


def test_every_section_is_read() -> None:
    settings = parse("""\
        site: {title: T, link: 'https://n.example/', language: ko, timezone: Asia/Seoul,
               excerpt_length: 120}
        storage: postgresql+psycopg://news@db/news
        output: {dir: /var/www/news, posts_dir: null}
        server: {host: 0.0.0.0, port: 0}
        fetch: {interval: 1h30m, timeout: 500ms, max_bytes: 512KiB, concurrency: 8,
                per_host: 2, user_agent: 'bot/<version>', workers: 3, parse_timeout: 5s}
        dedup: {near_duplicates: false, threshold: 1, window: 2d}
        sources:
          - id: my_src-2
            url: file:///var/posts
            name: Mine
            categories: [A, 2024]
            interval: 90
            default_image: https://i.example/x.png
            templates: {feature_text: '{title}', header: '<p>{{ {image} }}</p>', footer: ''}
            include: ['(?i)ai\\b']
            max_items: 5
        channels:
          - {id: tech, sources: [my_src-2], limit: 10000}
        """)

    assert settings.site.tz.key == "Asia/Seoul"
    assert settings.site.excerpt_length == 120
    assert settings.storage == "postgresql+psycopg://news@db/news"
    assert settings.output.dir == Path("/var/www/news")
    assert settings.output.posts_dir is None
    assert settings.server == Server("0.0.0.0", 0)
    assert settings.fetch == FetchSettings(
        timedelta(minutes=90),
        timedelta(milliseconds=500),
        512 * 1024,
        8,
        2,
        "bot/0.1.0",
        workers=3,
        parse_timeout=timedelta(seconds=5),
    )
    assert settings.dedup == DedupSettings(False, 1.0, timedelta(days=2))
    (source,) = settings.sources
    assert source.home == "https://n.example/"  # a file:// source has no origin: site.link
    assert source.categories == ("A", "2024")
    assert source.interval == timedelta(seconds=90)
    assert source.templates == Templates("{title}", "<p>{{ {image} }}</p>", "")
    assert source.include == ("(?i)ai\\b",)
    assert source.max_items == 5
    assert settings.channels == (
        Channel(id="tech", title="tech", sources=("my_src-2",), limit=10000),
    )


def test_settings_are_frozen() -> None:
    settings = parse(MINIMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.storage = "x"  # type: ignore[misc]


def test_empty_sections_take_their_defaults() -> None:
    settings = parse(MINIMAL + "site:\nfetch:\ndedup:\nchannels:\n")
    assert settings.site == Site()
    assert [channel.id for channel in settings.channels] == ["all"]


def test_only_true_and_false_are_booleans() -> None:
    settings = parse(MINIMAL + "site: {language: no, title: 2024-05-01}\n")
    assert settings.site.language == "no"
    assert settings.site.title == "2024-05-01"


def test_merge_keys_are_followed() -> None:
    settings = parse("""\
        sources:
          - &base {id: a, url: 'https://a.example/rss', categories: [News], interval: 5m}
          - {<<: *base, id: b}
        """)
    a, b = settings.sources
    assert b == dataclasses.replace(a, id="b", name="b")


# --- durations and sizes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("20s", timedelta(seconds=20)),
        ("72h", timedelta(hours=72)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("500ms", timedelta(milliseconds=500)),
        ("1.5h", timedelta(minutes=90)),
        ("90", timedelta(seconds=90)),
        (90, timedelta(seconds=90)),
        (2.5, timedelta(seconds=2.5)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_duration(text: str | int | float, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "", "-5m", "15M", "m", "5 minutes", "1e3", -1, True])
def test_parse_duration_refuses(text: str | int) -> None:
    with pytest.raises(ValueError, match=r"^expected a duration like 15m, got "):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10MB", 10 * 1024**2),
        ("10 MiB", 10 * 1024**2),
        ("10mb", 10 * 1024**2),
        ("512KB", 512 * 1024),
        ("512k", 512 * 1024),
        ("1.5GiB", 3 * 1024**3 // 2),
        ("1G", 1024**3),
        ("100B", 100),
        ("100", 100),
        (4096, 4096),
    ],
)
def test_parse_size(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["big", "", "10 XB", "ib", "-1MB", -1, "1.2.3MB", True])
def test_parse_size_refuses(text: str | int) -> None:
    with pytest.raises(ValueError, match=r"^expected a size like 10MB, got "):
        parse_size(text)


# --- errors: file:line:column key.path: expected -------------------------------------------


def test_bad_duration() -> None:
    assert problem(MINIMAL + "    interval: soon\n") == (
        "feeds.yaml:4:15 sources[0].interval: expected a duration like 15m, got 'soon'"
    )


def test_zero_duration_and_size() -> None:
    assert problems(MINIMAL + "fetch: {timeout: 0s, max_bytes: 0}\n") == [
        "feeds.yaml:4:18 fetch.timeout: expected a duration like 15m, above zero, got '0s'",
        "feeds.yaml:4:33 fetch.max_bytes: expected a size like 10MB, above zero, got 0",
    ]


def test_unknown_key_points_at_the_key_and_suggests() -> None:
    assert problem(MINIMAL + "    intervl: 5m\n") == (
        "feeds.yaml:4:5 sources[0].intervl: unknown key 'intervl'; did you mean 'interval'?"
    )


def test_unknown_key_lists_the_allowed_ones() -> None:
    assert problem(MINIMAL + "server: {host: x, colour: red}\n") == (
        "feeds.yaml:4:19 server.colour: unknown key 'colour'; expected one of: host, port"
    )


def test_missing_sources() -> None:
    assert problem("site:\n  title: News\n") == "feeds.yaml:1:1 sources: required key is missing"
    assert problem("") == "feeds.yaml:1:1 sources: required key is missing"
    assert problem("sources: []\n") == (
        "feeds.yaml:1:10 sources: expected a non-empty list, got an empty list"
    )


def test_missing_source_url_points_at_its_mapping() -> None:
    assert problem("sources:\n  - id: a\n") == (
        "feeds.yaml:2:5 sources[0].url: required key is missing"
    )


def test_duplicate_source_id() -> None:
    text = MINIMAL + "  - id: a\n    url: https://example.org/other.xml\n"
    assert problem(text) == "feeds.yaml:4:9 sources[1].id: duplicate id 'a' (also sources[0])"


def test_duplicate_channel_id() -> None:
    text = MINIMAL + "channels: [{id: x}, {id: x}]\n"
    assert problem(text) == "feeds.yaml:4:26 channels[1].id: duplicate id 'x' (also channels[0])"


@pytest.mark.parametrize("ident", ["Bad", "a b", "news.kr", "'한겨레'", "''"])
def test_bad_source_id(ident: str) -> None:
    text = f"sources:\n  - id: {ident}\n    url: https://example.org/feed.xml\n"
    assert problem(text).startswith(
        "feeds.yaml:2:9 sources[0].id: expected an id of a-z 0-9 _ -, got "
    )


@pytest.mark.parametrize(
    "url", ["ftp://example.org/feed", "example.org/feed", "https:///feed", "file:posts"]
)
def test_bad_url_scheme(url: str) -> None:
    text = f"sources:\n  - id: a\n    url: {url}\n"
    assert problem(text) == (
        f"feeds.yaml:3:10 sources[0].url: expected an http(s):// or file:/// URL, got '{url}'"
    )


@pytest.mark.parametrize(
    "url, why",
    [
        # Both passed `check`; fetch then died with a traceback, or read /_posts.
        ("http://127.0.0.1:99999/feed.xml", "its port is not a number from 1 to 65535"),
        ("https://news.example:0/feed", "its port is not a number from 1 to 65535"),
        ("file://relative/_posts", "file:// takes an absolute path after a third slash"),
    ],
)
def test_urls_fetch_could_not_use_are_refused_by_check(url: str, why: str) -> None:
    text = f"sources:\n  - id: a\n    url: {url}\n"
    assert problem(text).startswith(
        f"feeds.yaml:3:10 sources[0].url: expected an http(s):// or file:/// URL ({why}"
    )


def test_bad_home_and_default_image() -> None:
    assert problems(MINIMAL + "    home: newsdao.kr\n    default_image: /logo.png\n") == [
        "feeds.yaml:4:11 sources[0].home: expected an http(s):// URL, got 'newsdao.kr'",
        "feeds.yaml:5:20 sources[0].default_image: expected an http(s):// URL, got '/logo.png'",
    ]


def test_bad_regex() -> None:
    assert problem(MINIMAL + "    exclude: ['ok', '(unclosed']\n") == (
        "feeds.yaml:4:21 sources[0].exclude[1]: expected a regular expression"
        " (missing ), unterminated subpattern at position 0), got '(unclosed'"
    )


def test_unknown_template_field() -> None:
    text = MINIMAL + "    templates:\n      footer: 'from {hme}'\n"
    assert problem(text) == (
        "feeds.yaml:5:15 sources[0].templates.footer: expected a str.format template"
        " (unknown field {hme}; fields: source_name, home, excerpt, image, title, link),"
        " got 'from {hme}'"
    )


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{title", "expected '}' before end of string"),
        ("a } b", "Single '}' encountered in format string"),
        ("{title.upper}", "unknown field {title.upper}"),
        ("{0}", "unknown field {0}"),
        ("{title!x}", "Unknown conversion specifier x"),
    ],
)
def test_broken_templates(template: str, why: str) -> None:
    line = problem(MINIMAL + f"    templates: {{header: '{template}'}}\n")
    assert line.startswith(
        f"feeds.yaml:4:25 sources[0].templates.header: expected a str.format template ({why}"
    )


def test_unknown_channel_source() -> None:
    text = MINIMAL + "channels:\n  - id: ai\n    sources: [a, b]\n"
    assert problem(text) == (
        "feeds.yaml:6:18 channels[0].sources[1]: unknown source 'b'; expected one of: a"
    )


def test_channel_limit() -> None:
    assert problem(MINIMAL + "channels: [{id: all, limit: 0}]\n") == (
        "feeds.yaml:4:29 channels[0].limit: expected a number of at least 1, got 0"
    )


def test_duplicate_mapping_key() -> None:
    text = "storage: sqlite://\n" + MINIMAL + "storage: sqlite:///x.db\n"
    assert problem(text) == "feeds.yaml:5:1 storage: duplicate key (first at line 1)"


def test_yaml_syntax_error() -> None:
    assert problem(MINIMAL + "    name: [unclosed\n") == (
        "feeds.yaml:5:1 (syntax): invalid YAML,"
        " expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)"
    )
    assert problem("sources:\n\t- id: a\n") == (
        "feeds.yaml:2:1 (syntax): invalid YAML,"
        " found character '\\t' that cannot start any token (while scanning for the next token)"
    )


def test_wrong_type() -> None:
    assert (
        problem(MINIMAL + "site: [News]\n") == "feeds.yaml:4:7 site: expected a mapping, got a list"
    )
    assert problem(MINIMAL + "server: {port: eighty}\n") == (
        "feeds.yaml:4:16 server.port: expected a whole number, got 'eighty'"
    )
    assert problem("sources:\n  - id: a\n    url: https://e.org/\n    categories: News\n") == (
        "feeds.yaml:4:17 sources[0].categories: expected a list, got 'News'"
    )


def test_top_level_must_be_a_mapping() -> None:
    assert problem("- id: a\n") == (
        "feeds.yaml:1:1 (top level): expected a mapping with a 'sources' list, got a list"
    )


def test_bad_timezone() -> None:
    assert problem(MINIMAL + "site:\n  timezone: Asia/Busan\n") == (
        "feeds.yaml:5:13 site.timezone: expected an IANA time zone like Asia/Seoul,"
        " got 'Asia/Busan'"
    )


def test_bad_storage_and_threshold() -> None:
    assert problems(MINIMAL + "storage: mysql://x/y\ndedup: {threshold: 0}\n") == [
        "feeds.yaml:4:10 storage: expected a sqlite:// or postgresql:// URL, got 'mysql://x/y'",
        "feeds.yaml:5:20 dedup.threshold: expected a number above 0.0, got 0",
    ]


def test_every_problem_is_reported_in_file_order() -> None:
    lines = problems(
        """\
        site: {timezone: Nowhere}
        sources:
          - id: A
            url: https://example.org/feed.xml
            intervl: 5m
        channels:
          - id: x
            sources: [zz]
        """,
        filename="conf/feeds.yaml",
    )
    assert [line.split(" ", 2)[:2] for line in lines] == [
        ["conf/feeds.yaml:1:18", "site.timezone:"],
        ["conf/feeds.yaml:3:9", "sources[0].id:"],
        ["conf/feeds.yaml:5:5", "sources[0].intervl:"],
        ["conf/feeds.yaml:8:15", "channels[0].sources[0]:"],
    ]


def test_yaml_tags_are_refused() -> None:
    assert problem(MINIMAL + "site: !!omap [a: 1]\n") == (
        "feeds.yaml:4:7 site: expected no tag, got tag:yaml.org,2002:omap"
    )
    assert problem(MINIMAL + "storage: !!python/name:os.system x\n").startswith(
        "feeds.yaml:4:10 (syntax): invalid YAML, could not determine a constructor"
    )


def test_control_characters_are_refused() -> None:
    assert problem("sources:\n  - id: a\x07\n") == (
        "feeds.yaml:2:10 (syntax): invalid YAML, unacceptable character #x0007"
    )


def test_recursive_alias() -> None:
    assert problem("sources: &s [*s]\n") == (
        "feeds.yaml:1:10 sources[0]: expected no recursive or huge aliases"
    )


def test_an_alias_bomb_is_refused_and_a_large_configuration_is_not() -> None:
    # Nine levels of ten aliases: a billion nodes from a few hundred bytes.
    levels = ["a0: &a0 [x]"] + [
        f"a{n}: &a{n} [{', '.join(f'*a{n - 1}' for _ in range(10))}]" for n in range(1, 10)
    ]
    bomb = "x-bomb:\n" + "".join(f"  {line}\n" for line in levels)
    assert any("huge aliases" in line for line in problems(MINIMAL + bomb))
    # 20,000 sources written out in full build each node once: accepted.
    many = "sources:\n" + "".join(
        f"  - {{id: s{n}, url: 'https://s{n}.example/feed'}}\n" for n in range(20_000)
    )
    assert len(parse_config(many, base_dir=BASE).sources) == 20_000


# --- files and paths ------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "etc" / "feeds.yaml"
    config.parent.mkdir()
    config.write_text(MINIMAL + "output: {dir: site/public, posts_dir: ../_posts}\n")
    monkeypatch.chdir(tmp_path)

    settings = load_config(Path("etc/feeds.yaml"))

    assert settings.path == config
    assert settings.output.dir == config.parent / "site/public"
    assert settings.output.posts_dir == config.parent / "../_posts"
    assert settings.storage == f"sqlite:///{config.parent}/data/aggregator.db"


def test_errors_name_the_file_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "feeds.yaml").write_text("sources: 5\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^feeds\.yaml:1:10 sources: expected a list, got 5$"):
        load_config(Path("feeds.yaml"))


def test_bom_is_tolerated(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_config(config).sources[0].id == "a"


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: configuration file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_config(tmp_path)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"sources:\n  - id: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin1\.yaml:2:12 \(encoding\): expected UTF-8 text"):
        load_config(bad)


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ("sqlite:///data/aggregator.db", "sqlite:////srv/news/data/aggregator.db"),
        ("sqlite:///news.db?timeout=5", "sqlite:////srv/news/news.db?timeout=5"),
        ("sqlite:////var/lib/news.db", "sqlite:////var/lib/news.db"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://news@db/news", "postgresql://news@db/news"),
        ("postgresql+psycopg://db/news", "postgresql+psycopg://db/news"),
    ],
)
def test_sqlite_urls_are_made_absolute(storage: str, expected: str) -> None:
    assert parse(MINIMAL + f"storage: '{storage}'\n").storage == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", timedelta(days=90)),
        ("retention: 30d\n", timedelta(days=30)),
        ("retention: null\n", None),
    ],
)
def test_retention_has_a_default_and_can_keep_everything(text: str, expected: object) -> None:
    assert parse(text + "sources: [{id: a, url: 'https://a.example/'}]\n").retention == expected


@pytest.mark.parametrize("value", ["12h", "soon", "-1d"])
def test_a_retention_shorter_than_a_day_or_not_a_duration_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="retention"):
        parse(f"retention: {value}\nsources: [{{id: a, url: 'https://a.example/'}}]\n")


def test_durations_longer_than_ten_years_are_refused() -> None:
    # 3000000d passed `check` and crashed `run` at start (a due date past year 9999).
    assert problem(MINIMAL + "    interval: 3000000d\n") == (
        "feeds.yaml:4:15 sources[0].interval: expected a duration like 15m, at most 3650d, "
        "got '3000000d'"
    )
    assert problem(MINIMAL + "    interval: 99999999999999999999d\n") is not None


def test_allow_private_takes_a_switch_or_hosts_and_networks() -> None:
    assert parse_config(MINIMAL, base_dir=BASE).fetch.allow_private is False
    on = parse_config("fetch: {allow_private: true}\n" + MINIMAL, base_dir=BASE)
    assert on.fetch.allow_private is True
    listed = parse_config(
        "fetch: {allow_private: [127.0.0.1, '10.0.0.0/8', '::1', feeds.internal]}\n" + MINIMAL,
        base_dir=BASE,
    )
    assert listed.fetch.allow_private == ("127.0.0.1", "10.0.0.0/8", "::1", "feeds.internal")
    assert problem("fetch: {allow_private: [10.0.0.0/33]}\n" + MINIMAL) == (
        "feeds.yaml:1:24 fetch.allow_private: expected true, false or a list of host names "
        "and networks like 10.0.0.0/8 ('10.0.0.0/33' is neither), got a list"
    )


def test_a_missing_configuration_names_its_path_and_the_next_step(tmp_path: Path) -> None:
    missing = tmp_path / "feeds.yaml"
    result = run_cli(missing, "fetch")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"no configuration file at {missing}; next:"
    assert lines[1].split()[:4] == ["aggregator", "-c", str(missing), "init"]
    assert lines[1].endswith("writes a commented starter there")
    assert "AGGREGATOR_CONFIG" in lines[2]


def test_init_writes_the_bundled_starter_once_and_it_checks(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    written = run_cli(config, "init")
    assert written.returncode == 0, written.stderr
    bundled = Path(__file__).resolve().parents[1] / "feeds.yaml"
    assert config.read_text(encoding="utf-8") == bundled.read_text(encoding="utf-8")
    assert run_cli(config, "check").returncode == 0
    config.write_text("sources: []\n", encoding="utf-8")
    again = run_cli(config, "init")
    assert again.returncode == 2 and "already exists" in again.stderr
    assert config.read_text(encoding="utf-8") == "sources: []\n"  # an operator's file kept
