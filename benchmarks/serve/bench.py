"""Requests per second for one 50-item channel: aggregator's HTTP server against nginx
serving the same bytes as a static file, for full (200) and conditional (304) answers.

    .venv/bin/python benchmarks/serve/bench.py [--duration 10] [--connections 32]

The site is rendered by ``publish.render_site`` from 50 synthetic articles (Korean and
English, bodies of ~1.5 KB) and written to a temporary directory. aggregator serves it from
memory in a process of its own (``server.serve``: the same uvicorn app as ``aggregator
serve``); nginx (one worker by default, for a like-for-like comparison with one uvicorn
process; ``--nginx-workers auto`` for all cores) serves the written ``feeds/all.xml``,
running in the foreground as an unprivileged user with its configuration in the temporary
directory. ``wrk`` (installed from Debian when missing, like nginx, if this is root) runs
for ``--duration`` seconds per case on 127.0.0.1. Both servers are checked to answer 200
and then 304 to the ``If-None-Match`` of their own ETag before they are measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from aggregator.config import parse_config  # noqa: E402
from aggregator.model import Article, StoredArticle  # noqa: E402
from aggregator.publish import render_site  # noqa: E402

FEED = "feeds/all.xml"
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
CONFIG = """
site: {title: 뉴스 모음, link: "https://news.example.org/", language: ko, timezone: Asia/Seoul}
output: {posts_dir: null}
sources:
  - {id: wire, url: "https://wire.example.com/feed", name: Wire}
channels:
  - {id: all, title: 전체 뉴스, limit: 50}
"""
_REQUESTS = re.compile(r"Requests/sec:\s+([\d.]+)")
_LATENCY = re.compile(r"^\s+Latency\s+(\S+)", re.MULTILINE)
_P99 = re.compile(r"^\s+99%\s+(\S+)", re.MULTILINE)
_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)")


def articles(count: int) -> list[StoredArticle]:
    paragraph = (
        "중소기업벤처부가 AI 스타트업들의 글로벌 유니콘 기업 성장을 위해 지원한다고 밝혔다. "
        "The ministry said the programme would fund 120 companies over three years. "
    )
    out = []
    for n in range(count):
        title = f"{n}번째 소식: 반도체 수출 {n % 7 + 1}개월 연속 증가 (story {n})"
        article = Article(
            title=title,
            categories=("News",),
            excerpt=paragraph[:140],
            feature_text=f"## Wire\n{title}",
            image=f"https://wire.example.com/img/{n}.jpg",
            body="".join(f"<p>{paragraph}</p>" for _ in range(8)),
            date=NOW - timedelta(hours=n),
            source="Wire",
            source_url="https://wire.example.com/",
            canonical_url=f"https://wire.example.com/news/{n}",
            id=f"{n:016x}",
        )
        out.append(StoredArticle("wire", f"g{n}", article, NOW, n))
    return out


def write_site(directory: Path, count: int) -> Path:
    settings = parse_config(CONFIG, base_dir=directory)
    public = directory / "public"
    for relative, data in render_site(settings, articles(count), NOW).items():
        path = public / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return public


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure(command: str, package: str) -> str:
    found = shutil.which(command)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"{command} is missing: install Debian's {package} (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)
    return shutil.which(command) or sys.exit(f"installing {package} gave no {command}")


# --- the two servers -------------------------------------------------------------------------


def serve_app(public: Path, port: int) -> None:
    """The child process: aggregator's app over the files of ``public``, until SIGTERM."""
    from aggregator.metrics import Metrics
    from aggregator.server import PublishedSite, create_app, serve

    files = {
        str(path.relative_to(public)): path.read_bytes()
        for path in public.rglob("*")
        if path.is_file()
    }
    site = PublishedSite()
    site.update(files, NOW)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(create_app(site, dict, Metrics()), "127.0.0.1", port, stop)

    asyncio.run(main())


@contextmanager
def aggregator_server(public: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-app", str(public), str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/{FEED}"
        wait_until_up(url, process)
        yield url
    finally:
        stop(process)


NGINX_CONF = """
daemon off;
master_process on;
worker_processes {workers};
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    types {{ application/rss+xml xml; text/html html; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    etag on;
    server {{
        listen 127.0.0.1:{port};
        root {public};
        location / {{ }}
    }}
}}
"""


@contextmanager
def nginx_server(public: Path, directory: Path, workers: str) -> Iterator[str]:
    binary = ensure("nginx", "nginx")
    run = directory / "nginx"
    run.mkdir()
    port = free_port()
    conf = run / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, run=run, port=port, public=public))
    uid = gid = None
    if os.geteuid() == 0:  # never run it as root: drop to nobody, who must read the files
        nobody = pwd.getpwnam("nobody")
        uid, gid = nobody.pw_uid, nobody.pw_gid
        for path in [directory, *directory.rglob("*")]:
            os.chown(path, uid, gid)
    process = subprocess.Popen(
        [binary, "-p", str(run), "-c", str(conf), "-e", str(run / "error.log")],
        stderr=subprocess.DEVNULL,
        user=uid,
        group=gid,
        extra_groups=[] if uid is not None else None,
    )
    try:
        url = f"http://127.0.0.1:{port}/{FEED}"
        wait_until_up(url, process)
        yield url
    finally:
        stop(process)


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server for {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    stop(process)
    sys.exit(f"{url} did not answer within {seconds:g}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    latency: str
    p99: str
    errors: str


def validators(url: str, body: bytes) -> str:
    """The identity ETag of ``url``, after checking its 200 body and its 304."""
    full = httpx.get(url, headers={"Accept-Encoding": "identity"})
    assert full.status_code == 200 and full.content == body, f"{url} does not serve the feed"
    etag = full.headers["etag"]
    again = httpx.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert again.status_code == 304, f"{url} answered {again.status_code} to If-None-Match"
    return etag


def wrk(url: str, seconds: int, connections: int, threads: int, headers: Sequence[str]) -> Result:
    argv = [ensure("wrk", "wrk"), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        argv += ["-H", header]
    output = subprocess.run(
        [*argv, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    rate = _REQUESTS.search(output)
    latency, p99 = _LATENCY.search(output), _P99.search(output)
    errors = "; ".join(m.group(0) for m in _ERRORS.finditer(output)) or "none"
    if rate is None or latency is None or p99 is None:
        sys.exit(f"cannot read wrk's output:\n{output}")
    return Result(float(rate.group(1)), latency.group(1), p99.group(1), errors)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per case")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--nginx-workers", default="1", help="a number, or auto")
    parser.add_argument("--serve-app", nargs=2, metavar=("PUBLIC", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_app:
        serve_app(Path(args.serve_app[0]), int(args.serve_app[1]))
        return
    ensure("wrk", "wrk")
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as temporary:
        directory = Path(temporary)
        public = write_site(directory, args.items)
        body = (public / FEED).read_bytes()
        print(
            f"{FEED}: {args.items} items, {len(body):,} bytes; wrk -t{args.threads} "
            f"-c{args.connections} -d{args.duration}s on {os.cpu_count()} CPUs; "
            f"nginx workers: {args.nginx_workers}"
        )
        results: dict[str, dict[str, Result]] = {}
        servers = {
            "aggregator": lambda: aggregator_server(public),
            "nginx": lambda: nginx_server(public, directory, args.nginx_workers),
        }
        for name, start in servers.items():
            with start() as url:
                etag = validators(url, body)
                results[name] = {
                    "200": wrk(url, args.duration, args.connections, args.threads, []),
                    "304": wrk(
                        url,
                        args.duration,
                        args.connections,
                        args.threads,
                        [f"If-None-Match: {etag}"],
                    ),
                }
    print(f"\n{'':<8}{'aggregator req/s':>18}{'nginx req/s':>14}{'ratio':>8}   latency avg / p99")
    for case in ("200", "304"):
        ours, theirs = results["aggregator"][case], results["nginx"][case]
        ratio = theirs.requests_per_second / ours.requests_per_second
        print(
            f"{case:<8}{ours.requests_per_second:>18,.0f}{theirs.requests_per_second:>14,.0f}"
            f"{ratio:>7.1f}x   aggregator {ours.latency} / {ours.p99}, "
            f"nginx {theirs.latency} / {theirs.p99}"
        )
    for name, cases in results.items():
        for case, result in cases.items():
            if result.errors != "none":
                print(f"{name} {case}: {result.errors}")


if __name__ == "__main__":
    main()
