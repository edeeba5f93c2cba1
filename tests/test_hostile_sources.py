"""One ``aggregator fetch --all`` over every kind of misbehaving source a real web has,
served from 127.0.0.1, beside good sources: every good article stored, every bad source
reported plainly, memory bounded, the slow ones waited for at once rather than in turn."""

from __future__ import annotations

import gzip
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.store import Store
from tests.cli import AGGREGATOR, cli_env, run_cli
from tests.feedserver import FeedServer

PEAK_RSS = Path(__file__).with_name("peak_rss.py")
TIMEOUT_SECONDS = 3


def rss(items: str, *, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return (
        f'{declaration}\n<rss version="2.0"><channel><title>t</title>'
        f"<link>https://example.org/</link><description>d</description>{items}</channel></rss>"
    )


def item(n: int | str, title: str | None = None, *, guid: bool = True, extra: str = "") -> str:
    guid_element = f"<guid isPermaLink='false'>g-{n}</guid>" if guid else ""
    return (
        f"<item><title>{title or f'Story {n}'}</title><link>https://example.org/news/{n}</link>"
        f"{guid_element}<pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate>"
        f"<description>Summary of story {n}.</description>{extra}</item>"
    )


XXE = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title><item><title>&xxe;</title></item></channel></rss>"""

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + ']>\n<rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
)


def serve_everything(server: FeedServer) -> dict[str, str]:
    """Path → source id for every hostile and good route."""
    korean = rss(
        item("kr1", "서울 첫눈 관측, 예년보다 일주일 빨라") + item("kr2", "똠방각하 재출간"),
        declaration='<?xml version="1.0" encoding="euc-kr"?>',
    )
    undeclared = rss(
        item("cp1", "햏자 인터넷 문화 전시회 개막"), declaration='<?xml version="1.0"?>'
    )
    three_thousand = rss("".join(item(f"big{n}") for n in range(3000)))
    routes: dict[str, tuple[bytes, dict[str, object]]] = {
        "/good.xml": (rss(item("a1") + item("a2")).encode(), {}),
        "/good2.xml": (rss(item("b1")).encode(), {}),
        "/xxe.xml": (XXE.encode(), {}),
        "/laughs.xml": (LAUGHS.encode(), {}),
        "/gzip-bomb.xml": (
            gzip.compress(b"<rss>" + b" " * (64 * 1024 * 1024), compresslevel=9),
            {"headers": {"Content-Encoding": "gzip"}},
        ),
        "/huge.xml": (b"<rss>" + b"x" * (64 * 1024 * 1024), {"length": False}),
        "/trickle.xml": (rss(item("t1")).encode(), {"trickle": 0.05}),
        "/loop.xml": (b"", {"status": 302, "headers": {"Location": "/loop.xml"}}),
        "/moved.xml": (b"", {"status": 301, "headers": {"Location": "/good2.xml"}}),
        "/gone.xml": (b"", {"status": 410}),
        "/limited.xml": (b"", {"status": 429, "headers": {"Retry-After": "120"}}),
        "/broken.xml": (b"oops", {"status": 500}),
        "/page.html": (
            b"<!doctype html><html><body><p>Welcome</p></body></html>",
            {"content_type": "text/html"},
        ),
        "/empty.xml": (b"", {}),
        "/truncated.xml": (rss(item("tr1") + item("tr2"))[:-60].encode(), {}),
        "/euc-kr.xml": (korean.encode("cp949"), {"content_type": "application/rss+xml"}),
        "/cp949.xml": (undeclared.encode("cp949"), {"content_type": "text/xml"}),
        "/guids.xml": (
            rss(
                item("same", "First telling")
                + item("same", "Second telling")
                + item("noguid1", guid=False)
                + item("noguid2", guid=False)
            ).encode(),
            {},
        ),
        "/future.xml": (
            rss(item("f1").replace("Mon, 23 Nov 2026", "Fri, 01 Jan 2099")).encode(),
            {},
        ),
        "/relative.xml": (
            rss(
                "<item><title>Relative</title><link>/news/relative-1</link><guid>r1</guid>"
                '<description>&lt;a href="../more"&gt;more&lt;/a&gt; &lt;img src="img/p.png"&gt;'
                "</description></item>"
            ).encode(),
            {},
        ),
        "/big.xml": (three_thousand.encode(), {}),
    }
    for path, (body, options) in routes.items():
        server.serve(path, body, **options)  # type: ignore[arg-type]
    return {path: path.strip("/").split(".")[0] for path in routes}


@pytest.fixture(scope="module")
def hostile_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path, FeedServer, int]:
    from tests.feedserver import running_server

    tmp_path = tmp_path_factory.mktemp("hostile")
    with running_server() as server:
        paths = serve_everything(server)
        sources = "".join(
            f'  - {{id: {source_id}, url: "{server.url(path)}"}}\n'
            for path, source_id in paths.items()
        )
        config = tmp_path / "feeds.yaml"
        config.write_text(
            f"fetch: {{timeout: {TIMEOUT_SECONDS}s, max_bytes: 1MB, allow_private: [127.0.0.1]}}\n"
            "site: {link: 'https://agg.example.org/'}\n"
            f"sources:\n{sources}",
            encoding="utf-8",
        )
        env = cli_env()
        peak_file = tmp_path / "peak-rss-kib"
        result = subprocess.run(
            [
                sys.executable,
                str(PEAK_RSS),
                str(peak_file),
                str(AGGREGATOR),
                "-c",
                str(config),
                "fetch",
                "--all",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        peak_kib = int(peak_file.read_text())
        yield result, tmp_path, server, peak_kib


def test_bad_sources_are_reported_plainly_and_the_run_exits_1(hostile_run) -> None:  # type: ignore[no-untyped-def]
    result, _, _, _ = hostile_run
    assert result.returncode == 1
    failures = {
        line.split(": ", 2)[1]: line.split(": ", 2)[2]
        for line in result.stderr.splitlines()
        if line.startswith("failed: ")
    }
    assert failures == {
        "xxe": "entity declarations are not allowed",
        "laughs": "entity declarations are not allowed",
        "gzip-bomb": "body larger than 1048576 bytes; stopped reading",
        "huge": "body larger than 1048576 bytes; stopped reading",
        "trickle": f"timed out after {TIMEOUT_SECONDS}s",
        "loop": "more than 5 redirects (a redirect loop?)",
        "gone": "HTTP 410 Gone",
        "limited": "HTTP 429 Too Many Requests",
        "broken": "HTTP 500 Internal Server Error",
        "page": "not a feed: got an HTML page",
        "empty": "empty body",
    }
    assert "moved: moved: now at http://127.0.0.1" in result.stderr
    assert "warning: truncated: ill-formed XML" in result.stderr


def test_every_good_article_is_stored_once(hostile_run) -> None:  # type: ignore[no-untyped-def]
    _, tmp_path, server, _ = hostile_run
    with Store.open(f"sqlite:///{tmp_path / 'data' / 'aggregator.db'}") as store:
        stored = store.articles()
        states = store.states()
    by_source: dict[str, list[str]] = {}
    for entry in stored:
        by_source.setdefault(entry.source_id, []).append(entry.article.title)
    counts = {source: len(titles) for source, titles in by_source.items()}
    assert counts.pop("big") == 3000
    # moved and good2 serve the same feed: both stored, one story (same canonical URL).
    assert counts.pop("good2") == counts.pop("moved") == 1
    same = [s for s in stored if s.source_id in ("good2", "moved")]
    assert same[0].story_id == same[1].story_id
    assert {s.fold_rule for s in same} == {None, "canonical_url"}
    assert counts == {
        "good": 2,
        "truncated": 2,
        "euc-kr": 2,
        "cp949": 1,
        "guids": 3,
        "future": 1,
        "relative": 1,
    }
    assert sorted(by_source["euc-kr"]) == [
        "똠방각하 재출간",
        "서울 첫눈 관측, 예년보다 일주일 빨라",
    ]
    assert by_source["cp949"] == ["햏자 인터넷 문화 전시회 개막"]
    assert "First telling" in by_source["guids"] and "Second telling" not in by_source["guids"]

    relative = next(s.article for s in stored if s.source_id == "relative")
    assert relative.canonical_url == server.url("/news/relative-1")
    assert f'href="{server.url("/more")}"' in relative.body
    assert f'src="{server.url("/img/p.png")}"' in relative.body
    future = next(s for s in stored if s.source_id == "future")
    assert future.article.date is not None and future.article.date <= datetime.now(UTC)
    assert future.article.date > datetime.now(UTC) - timedelta(hours=1)

    assert states["gone"].disabled is not None and states["gone"].next_due is None
    assert states["limited"].next_reason == "Retry-After"
    limited_due = states["limited"].next_due
    assert limited_due is not None and limited_due - states["limited"].last_fetch == timedelta(
        seconds=120
    )  # type: ignore[operator]
    assert states["broken"].next_reason == "backoff after 1 error"
    assert states["moved"].moved_to is not None and states["moved"].moved_to.endswith("/good2.xml")
    assert all(
        not (state.last_error or "").startswith("internal error") for state in states.values()
    )


def test_memory_stays_bounded(hostile_run) -> None:  # type: ignore[no-untyped-def]
    _, _, _, peak_kib = hostile_run
    assert peak_kib < 300 * 1024, f"peak resident memory {peak_kib / 1024:.0f} MiB"


def test_slow_sources_are_waited_for_together(hostile_run) -> None:  # type: ignore[no-untyped-def]
    _, _, server, _ = hostile_run
    # Every source was asked within one timeout of the first: nothing queued behind the
    # trickle, the bomb or the huge body (done in turn they would take several timeouts).
    first_asked: dict[str, float] = {}
    for request in server.requests:
        first_asked.setdefault(request.path, request.at)
    assert len(first_asked) >= 20
    spread = max(first_asked.values()) - min(first_asked.values())
    assert spread < TIMEOUT_SECONDS, f"sources were started {spread:.1f}s apart"


def test_sources_shows_each_sources_health_as_a_table(hostile_run) -> None:  # type: ignore[no-untyped-def]
    _, tmp_path, server, _ = hostile_run
    shown = run_cli(tmp_path / "feeds.yaml", "sources")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == [
        "SOURCE",
        "STATUS",
        "ARTICLES",
        "LAST",
        "SUCCESS",
        "NEXT",
        "FETCH",
        "LAST",
        "ERROR",
    ]
    rows = {line.split()[0]: line for line in lines[1:22]}
    assert "next at" in rows["limited"] and "because Retry-After" in rows["limited"]
    assert "error (410)" in rows["gone"] and "disabled" in rows["gone"]
    assert " 3000 " in rows["big"]
    assert "backoff after 1 error" in rows["broken"]
    assert "gone: disabled: gone (HTTP 410)" in shown.stdout
    assert f"moved: moved permanently to {server.url('/good2.xml')}" in shown.stdout
