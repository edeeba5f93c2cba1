"""How quickly ``aggregator run`` answers HTTP while it does a cold pass over many sources.

    .venv/bin/python benchmarks/loop_latency.py [--feeds 1000] [--items 20] [--for 600]

Generates the peer benchmark's corpus (``benchmarks/peer/corpus.py``), serves it with nginx
on 127.0.0.1 (installed as ``benchmarks/peer/run.py`` does), starts ``aggregator run`` on a
fresh store with every feed as a source, and asks it for ``/feeds/all.xml`` every 50 ms
until every source has been fetched once (or ``--for`` seconds pass). Prints the answers'
latency (p50, p99, max), how long the pass took and how many sources failed (a timeout
there means the event loop or the fetches' timers were starved).
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peer"))

import corpus  # noqa: E402
import run as peer  # noqa: E402

AGGREGATOR = HERE.parent / ".venv" / "bin" / "aggregator"
FETCHED = re.compile(r'^fetches_total\{[^}]*status="(\w+)"[^}]*\} ([0-9.e+]+)$', re.MULTILINE)


def config(directory: Path, manifest: dict[str, object], nginx: peer.Nginx, port: int) -> str:
    lines = [
        "site: {title: latency, link: 'http://127.0.0.1/'}",
        f"storage: sqlite:///{directory / 'agg.db'}",
        f"output: {{dir: {json.dumps(str(directory / 'public'))}, posts_dir: null}}",
        f"server: {{host: 127.0.0.1, port: {port}}}",
        "fetch: {concurrency: 32, per_host: 32, timeout: 20s, allow_private: [127.0.0.1]}",
        "sources:",
    ]
    for feed in manifest["feeds"]:  # type: ignore[attr-defined]
        lines.append(
            f"  - {{id: {json.dumps(feed['id'])}, url: {json.dumps(nginx.url(feed['file']))}}}"
        )
    return "\n".join(lines) + "\n"


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def fetched(port: int) -> dict[str, float]:
    """fetches_total by status, from /metrics."""
    status, body = get(port, "/metrics")
    totals: dict[str, float] = {}
    if status == 200:
        for outcome, value in FETCHED.findall(body.decode()):
            totals[outcome] = totals.get(outcome, 0.0) + float(value)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--for", dest="limit", type=float, default=600.0)
    args = parser.parse_args()
    binary = peer.ensure_nginx()
    with tempfile.TemporaryDirectory(prefix="loop-latency-") as name:
        work = Path(name)
        work.chmod(0o755)
        manifest = corpus.generate(work / "corpus", args.feeds, args.items)
        peer.reset_corpus(work / "corpus", work / "www")
        with peer.nginx_server(binary, work / "www", work / "nginx", "1") as nginx:
            port = peer.free_port()
            (work / "feeds.yaml").write_text(config(work, manifest, nginx, port))
            log = (work / "run.log").open("wb")
            service = subprocess.Popen(
                [str(AGGREGATOR), "-c", str(work / "feeds.yaml"), "run"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                latencies, seconds, totals = measure(service, port, args.feeds, args.limit)
            finally:
                peer.stop_process(service)
                log.close()
            tail = (work / "run.log").read_text(errors="replace").splitlines()
    timeouts = sum("timed out" in line for line in tail)
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else float("nan")
    print(f"{args.feeds} sources × {args.items} items; pass took {seconds:.1f} s")
    print(f"fetches by outcome: {json.dumps(totals)}; log lines saying 'timed out': {timeouts}")
    print("| requests | p50 | p99 | max |")
    print("| ---: | ---: | ---: | ---: |")
    print(f"| {len(ms)} | {statistics.median(ms):.1f} ms | {p99:.1f} ms | {ms[-1]:.1f} ms |")


def measure(
    service: subprocess.Popen[bytes], port: int, sources: int, limit: float
) -> tuple[list[float], float, dict[str, float]]:
    deadline = time.monotonic() + 60
    while True:  # until it serves
        try:
            if get(port, "/healthz")[0] == 200:
                break
        except OSError:
            pass
        if service.poll() is not None or time.monotonic() > deadline:
            sys.exit("aggregator run did not start serving")
        time.sleep(0.1)
    started = time.monotonic()
    latencies: list[float] = []
    totals: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:  # another client, so the measured one never waits on it
        nonlocal totals
        while not done.is_set():
            totals = fetched(port)
            if sum(totals.values()) >= sources:
                done.set()
            done.wait(1.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    while not done.is_set() and time.monotonic() - started < limit:
        asked = time.perf_counter()
        status, _ = get(port, "/feeds/all.xml")
        latencies.append(time.perf_counter() - asked)
        if latencies[-1] > 0.2:
            print(f"slow: {latencies[-1]:.2f} s at {asked - started:.1f} s", file=sys.stderr)
        if status not in (200, 404):
            print(f"unexpected status {status}", file=sys.stderr)
        time.sleep(0.05)
    done.set()
    watcher.join()
    return latencies, time.monotonic() - started, totals


if __name__ == "__main__":
    main()
