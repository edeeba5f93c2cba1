"""Throughput of 1, 2 and 3 ``aggregator worker`` processes sharing one PostgreSQL store,
on one local corpus (``peer/corpus.py``: Korean and English outlets, RSS, Atom and JSON
Feed, a fifth of the items retold by other outlets).

    .venv/bin/python benchmarks/workers.py [--feeds 300] [--items 20] [--runs 3]

Each run starts from a fresh database (on the PostgreSQL server at 127.0.0.1:5432) and
times the workers from start to the last one's exit (``--until-idle``: every source
fetched once), with the CPU time the workers and their digest processes used (the
database server's and the feed server's are not counted). Runs are interleaved (1, 2,
3 workers, then again), so the machine's other load falls on each alike. The corpus is
served from memory by a server in a process of its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Process, Queue
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peer"))

import corpus  # noqa: E402

AGGREGATOR = Path(sys.executable).with_name("aggregator")
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def serve(directory: str, ports: Queue) -> None:  # type: ignore[type-arg]
    files = {f"/{p.name}": p.read_bytes() for p in Path(directory).iterdir() if p.is_file()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ports.put(server.server_address[1])
    server.serve_forever()


def fresh_database() -> str:
    from sqlalchemy import create_engine, text

    name = f"aggregator_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name


def drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def one_run(
    work: Path, manifest: dict[str, object], port: int, workers: int
) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the workers and their digest processes)."""
    name = fresh_database()
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        feeds: list[dict[str, str]] = manifest["feeds"]  # type: ignore[assignment]
        lines = [
            f"storage: {url}",
            f"output: {{dir: {work / 'public'}, posts_dir: null}}",
            "fetch: {allow_private: [127.0.0.1]}",
            "sources:",
            *(
                f"  - {{id: f{n}, url: 'http://127.0.0.1:{port}/{feed['file']}'}}"
                for n, feed in enumerate(feeds)
            ),
        ]
        config = work / "feeds.yaml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        # The schema first, so the timed workers do not wait on each other's migration.
        subprocess.run([str(AGGREGATOR), "-c", str(config), "sources"], check=True,
                       capture_output=True)  # fmt: skip
        started = time.perf_counter()
        cpu_before = _children_cpu()
        running = [
            subprocess.Popen(
                [str(AGGREGATOR), "-c", str(config), "worker", "--until-idle"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(workers)
        ]
        outputs = [process.communicate()[0] for process in running]
        took = time.perf_counter() - started
        if any(process.returncode for process in running):
            raise SystemExit(f"a worker failed: {outputs}")
        return took, _children_cpu() - cpu_before
    finally:
        drop_database(name)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        manifest = corpus.generate(work / "www", options.feeds, options.items)
        ports: Queue = Queue()  # type: ignore[type-arg]
        server = Process(target=serve, args=(str(work / "www"), ports), daemon=True)
        server.start()
        port = ports.get(timeout=30)
        times: dict[int, list[float]] = {k: [] for k in options.workers}
        cpu: dict[int, list[float]] = {k: [] for k in options.workers}
        try:
            for run in range(options.runs):
                for k in options.workers:
                    took, used = one_run(work, manifest, port, k)
                    times[k].append(took)
                    cpu[k].append(used)
                    print(f"run {run + 1}: {k} workers {took:.1f} s, {used:.1f} s CPU", flush=True)
        finally:
            server.terminate()
    entries = int(manifest["entries"])  # type: ignore[call-overload]
    base = statistics.median(times[options.workers[0]])
    print(
        f"\n{options.feeds} feeds, {entries} entries, {options.runs} runs each, "
        f"{os.cpu_count()} cores; median of the runs:"
    )
    print(
        f"{'workers':>8} {'seconds':>8} {'feeds/s':>8} {'entries/s':>10} {'speed-up':>9} "
        f"{'CPU s':>7} {'cores busy':>10}"
    )
    for k in options.workers:
        took, used = statistics.median(times[k]), statistics.median(cpu[k])
        print(
            f"{k:>8} {took:8.1f} {options.feeds / took:8.1f} {entries / took:10.0f} "
            f"{base / took:9.2f} {used:7.1f} {used / took:10.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
