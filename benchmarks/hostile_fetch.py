"""Wall time and peak memory of one ``aggregator fetch --all`` over the misbehaving sources
of tests/test_hostile_sources.py (XXE, entity bomb, gzip bomb, 64 MB body, trickle,
redirect loop, 301, 410, 429, 500, HTML, empty, truncated, euc-kr, cp949, duplicate
guids, future dates, relative links, 3,000 items) plus good ones, served on 127.0.0.1.

    .venv/bin/python benchmarks/hostile_fetch.py [--timeout 3] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.feedserver import running_server  # noqa: E402
from tests.test_hostile_sources import serve_everything  # noqa: E402


def one_run(timeout: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as directory, running_server() as server:
        paths = serve_everything(server)
        sources = "".join(
            f'  - {{id: {sid}, url: "{server.url(p)}"}}\n' for p, sid in paths.items()
        )
        config = Path(directory) / "feeds.yaml"
        config.write_text(
            f"fetch: {{timeout: {timeout}s, max_bytes: 1MB, allow_private: [127.0.0.1]}}\n"
            f"sources:\n{sources}"
        )
        env = {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}
        peak_file = Path(directory) / "peak-rss-kib"
        started = time.perf_counter()
        code = subprocess.call(
            [
                sys.executable,
                str(ROOT / "tests" / "peak_rss.py"),
                str(peak_file),
                str(Path(sys.executable).with_name("aggregator")),
                "-c",
                str(config),
                "fetch",
                "--all",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        elapsed = time.perf_counter() - started
        return elapsed, int(peak_file.read_text()) / 1024, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=int, default=3, help="fetch.timeout in seconds")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{len(range(args.runs))} runs, fetch.timeout={args.timeout}s, 21 sources")
    for run in range(1, args.runs + 1):
        elapsed, peak_mib, code = one_run(args.timeout)
        print(f"run {run}: wall {elapsed:.2f} s, peak RSS {peak_mib:.0f} MiB, exit {code}")


if __name__ == "__main__":
    main()
