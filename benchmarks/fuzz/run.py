"""Coverage-guided fuzzing (atheris, libFuzzer) of what a hostile feed reaches, for a bounded
time: ``make fuzz`` (``FUZZ_SECONDS=300 make fuzz`` for longer).

Targets, each in its own process for its share of the time, starting from the bundled
sample feeds and the parser's test documents:

- ``digest``: any bytes, as a fetched document, parsed, normalized and fingerprinted. It
  may fail (a ``ParseFailure``, a skipped entry) but never raise; every article's body is
  sanitized (no script, handler, ``javascript:`` URL or kramdown trigger); titles,
  excerpts and authors hold no tag; links are absolute http(s) without quotes.
- ``post``: every article from those bytes written as a post and read back is the same
  article, and its front matter is exactly the keys a post has.
- ``urls``: any text as a link: the canonical form is stable, http(s) and without
  credentials.

A crash leaves its input in ``benchmarks/fuzz/crashes/<target>/``; rerun one with
``python benchmarks/fuzz/run.py --target digest --replay FILE``. Found crashes become
regression tests under ``tests/``.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [ROOT / "src" / "aggregator" / "demo" / "feeds", ROOT / "tests" / "data" / "parse"]
CRASHES = Path(__file__).resolve().parent / "crashes"
TARGETS = ("digest", "post", "urls")
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)

_SCRIPT_URL = re.compile(
    r"(?:href|src|action|poster|cite)\s*=\s*[\"']?\s*(?:javascript|vbscript|data):", re.I
)
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_TAG = re.compile(r"<(?=[A-Za-z!/?])")
_POST_KEYS = {
    "title",
    "categories",
    "excerpt",
    "feature_text",
    "image",
    "date",
    "source",
    "source_url",
    "canonical_url",
    "id",
    "author",
    "tags",
    "also_reported_by",
    "render_with_liquid",
}


def _articles(data: bytes) -> list[object]:
    from aggregator.digest import Digest, digest_document
    from aggregator.model import Source

    source = Source(
        id="wire", url="https://wire.example.com/feed", name="Wire", home="https://wire.example.com"
    )
    digest = digest_document(
        data,
        url=source.url,
        content_type=None,
        source=source,
        excerpt_length=300,
        now=NOW,
        budget=5.0,
    )
    return [article for _, article, _ in digest.articles] if isinstance(digest, Digest) else []


def check_digest(data: bytes) -> None:
    for article in _articles(data):
        body = article.body  # type: ignore[attr-defined]
        assert "<script" not in body.lower(), body
        assert not _SCRIPT_URL.search(html.unescape(body)), body
        assert not _HANDLER.search(body), body
        for trigger in ("](", "]:", "{:"):
            assert trigger not in body, body
        for text in (article.title, article.excerpt, article.author or ""):  # type: ignore[attr-defined]
            assert not _TAG.search(text), text
        for url in (article.canonical_url, article.image):  # type: ignore[attr-defined]
            if url:
                assert url.startswith(("http://", "https://")), url
                assert '"' not in url and "'" not in url, url


def check_post(data: bytes) -> None:
    import yaml

    from aggregator import frontmatter

    for article in _articles(data):
        text = frontmatter.dumps(article)  # type: ignore[arg-type]
        back = frontmatter.loads(text)
        assert back == article, (article, back)
        front = yaml.safe_load(text.split("---\n", 2)[1])
        assert isinstance(front, dict) and set(front) <= _POST_KEYS, front


def check_urls(data: bytes) -> None:
    from aggregator.urls import canonical_url

    url = data.decode("utf-8", "replace")
    canonical = canonical_url(url)
    if canonical is None:
        return
    assert canonical_url(canonical) == canonical, (url, canonical)
    assert canonical.startswith(("http://", "https://")), canonical
    assert "@" not in canonical.split("/")[2], canonical


CHECKS = {"digest": check_digest, "post": check_post, "urls": check_urls}


def fuzz_one(target: str, seconds: int, corpus: Path) -> None:
    """Run in this process until libFuzzer's time is up or it finds a crash."""
    import atheris

    with atheris.instrument_imports():
        import aggregator.digest
        import aggregator.frontmatter
        import aggregator.urls  # noqa: F401

    check = CHECKS[target]
    crashes = CRASHES / target
    crashes.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.argv[0],
        f"-max_total_time={seconds}",
        f"-artifact_prefix={crashes}/",
        "-print_final_stats=1",
        "-max_len=65536",
        "-rss_limit_mb=2048",
        "-timeout=30",
        str(corpus),
    ]
    atheris.Setup(argv, check)
    atheris.Fuzz()


def seed_corpus(directory: Path) -> int:
    count = 0
    for folder in SEEDS:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                (directory / path.name).write_bytes(path.read_bytes())
                count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", 60)))
    parser.add_argument("--target", choices=TARGETS)
    parser.add_argument("--replay", type=Path, help="run one input through --target")
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    options, _ = parser.parse_known_args()
    if options.replay:
        CHECKS[options.target or "digest"](options.replay.read_bytes())
        print("no failure")
        return 0
    if options.target:  # a child: fuzz one target
        fuzz_one(options.target, options.seconds, options.corpus)
        return 0
    share = max(1, options.seconds // len(TARGETS))
    failed = []
    with tempfile.TemporaryDirectory() as work:
        for target in TARGETS:
            corpus = Path(work) / target
            corpus.mkdir()
            seeds = seed_corpus(corpus) if target != "urls" else 0
            if target == "urls":
                for n, url in enumerate(
                    ("https://user:pw@Example.COM:443/a/../b?utm_source=x#f", "http://[::1]/")
                ):
                    (corpus / f"url{n}").write_text(url)
            started = time.monotonic()
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--target",
                    target,
                    "--seconds",
                    str(share),
                    "--corpus",
                    str(corpus),
                ],
                capture_output=True,
                text=True,
            )
            stats = dict(re.findall(r"^stat::(\w+):\s*(\d+)", done.stderr, flags=re.MULTILINE))
            grown = len(list(corpus.iterdir()))
            print(
                f"{target:7} {time.monotonic() - started:6.1f} s  "
                f"{int(stats.get('number_of_executed_units', 0)):>9,} runs  "
                f"corpus {seeds} -> {grown} inputs  "
                f"{'CRASH' if done.returncode else 'no failure'}"
            )
            if done.returncode:
                failed.append(target)
                print("\n".join(done.stderr.splitlines()[-40:]), file=sys.stderr)
    if failed:
        print(f"failures in {', '.join(failed)}: inputs under {CRASHES}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
