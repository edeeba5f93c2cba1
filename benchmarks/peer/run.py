"""``aggregator fetch --all`` beside the ``reader`` library (lemon24/reader) on one local
corpus served by nginx on 127.0.0.1: wall time, throughput, peak memory and store size.

    python3 benchmarks/peer/run.py [--feeds 1000] [--items 50] [--runs 2] [--out benchmarks/results]

Installs what it lacks: nginx (Debian's nginx-light, as root), the peer venv
``benchmarks/peer/.venv-peer`` (reader, matplotlib, psutil; this script re-runs itself in
it) and the project's ``.venv``. Each run resets the corpus and measures, for both tools in
turn (the first tool alternates between runs), three passes: cold (a fresh store, every
entry new), warm (nothing changed: every feed a 304) and changed (10 % of the feeds got 5
new items). Each pass is one whole process, timed from start to exit. See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

PEER_VENV = HERE / ".venv-peer"
PEER_REQUIREMENTS = ("reader==3.26", "sgmllib3k", "matplotlib", "psutil")
AGGREGATOR = ROOT / ".venv" / "bin" / "aggregator"
TOOLS = ("reader", "aggregator")
PASSES = ("cold", "warm", "changed")
MUTATED_FRACTION = 0.1
SAMPLE_EVERY = 0.02  # seconds between two RSS samples of a process tree
KEEP_MARKER = ".peer-benchmark"

NGINX_CONF = """
daemon off;
master_process on;
worker_processes {workers};
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format peer '$status $request_method $request_uri';
    access_log {run}/access.log peer;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    types {{
        application/rss+xml xml;
        application/atom+xml atom;
        application/feed+json json;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types application/rss+xml application/atom+xml application/feed+json;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 100000;
    etag on;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location / {{ }}
    }}
}}
"""

# --- installing what is missing --------------------------------------------------------------


def in_peer_venv() -> bool:
    return Path(sys.prefix).resolve() == PEER_VENV.resolve()


def ensure_peer_venv() -> Path:
    """The peer venv with its requirements; rebuilt when the requirements change."""
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / ".installed"
    wanted = "\n".join(PEER_REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"installing {', '.join(PEER_REQUIREMENTS)} into {PEER_VENV}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *PEER_REQUIREMENTS], check=True)
    marker.write_text(wanted)
    return python


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )


@contextlib.contextmanager
def services_left_stopped() -> Iterator[None]:
    """Debian starts a daemon when its package is installed; the benchmark wants only the
    nginx it starts itself, so a policy-rc.d refuses starts during the install."""
    policy = Path("/usr/sbin/policy-rc.d")
    if policy.exists():
        yield
        return
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    try:
        yield
    finally:
        policy.unlink(missing_ok=True)


def ensure_nginx() -> str:
    found = find_nginx()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("nginx is missing: install Debian's nginx-light (needs root and apt-get)")
    print("installing nginx-light with apt-get", flush=True)
    # noninteractive, and no service restarts proposed or made by needrestart
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_SUSPEND": "1"}
    install = ["apt-get", "install", "-y", "-qq"]
    with services_left_stopped():
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        if subprocess.run([*install, "nginx-light"], env=env).returncode != 0:
            subprocess.run([*install, "nginx"], check=True, env=env)  # releases without -light
    return find_nginx() or sys.exit("installing nginx-light gave no nginx binary")


def ensure_aggregator() -> Path:
    if not AGGREGATOR.exists():
        print("building the project's .venv", flush=True)
        subprocess.run(["make", "-C", str(ROOT), ".venv/.installed"], check=True)
    return AGGREGATOR


# --- nginx -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"nginx exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    sys.exit("nginx did not start listening within 10 s")


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    port: int
    access_log: Path
    offset: int = 0

    def url(self, file: str) -> str:
        return f"http://127.0.0.1:{self.port}/{file}"

    def statuses_since_last_call(self) -> dict[str, int]:
        """HTTP statuses of the requests logged since the previous call."""
        with self.access_log.open("rb") as log:
            log.seek(self.offset)
            lines = log.read().decode().splitlines()
            self.offset = log.tell()
        return dict(Counter(line.split(" ", 1)[0] for line in lines if line))


@contextlib.contextmanager
def nginx_server(binary: str, www: Path, run: Path, workers: str) -> Iterator[Nginx]:
    run.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = run / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, run=run, port=port, www=www))
    error_log = run / "error.log"
    process = subprocess.Popen(
        [binary, "-p", str(run), "-c", str(conf), "-e", str(error_log)],
        start_new_session=True,  # a Ctrl-C reaches us, and we stop it in order
    )
    try:
        wait_for_port(port, process, error_log)
        access_log = run / "access.log"
        yield Nginx(process, port, access_log, access_log.stat().st_size)
    finally:
        stop_process(process, signal.SIGQUIT)


def stop_process(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signum)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def check_served(nginx: Nginx, manifest: dict[str, Any]) -> None:
    """nginx workers run unprivileged when the master is root: they must reach the files."""
    first = nginx.url(manifest["feeds"][0]["file"])
    try:
        with urllib.request.urlopen(first, timeout=10) as response:
            response.read()
    except OSError as error:
        sys.exit(f"nginx cannot serve the corpus ({first}: {error}); see {nginx.access_log}")
    nginx.statuses_since_last_call()


# --- measuring one process -------------------------------------------------------------------


class TreeRssSampler(threading.Thread):
    """The largest total RSS seen of a process and all its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.peak = 0
        self.samples = 0
        self.done = threading.Event()

    def total_rss(self) -> int:
        total = 0
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except self.psutil.Error:
            return 0
        for process in processes:
            with contextlib.suppress(self.psutil.Error):
                total += process.memory_info().rss
        return total

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.total_rss())
            self.samples += 1
            self.done.wait(SAMPLE_EVERY)


@dataclass
class ProcessResult:
    seconds: float
    exit_code: int
    peak_rss_tree: int  # bytes, sampled
    ru_maxrss: int  # bytes, from wait4: the largest single process of the tree
    rss_samples: int
    timed_out: bool = False


_running: subprocess.Popen[bytes] | None = None  # the measured process, killed on the way out


def measure(
    argv: Sequence[str], cwd: Path, stdout: Path, stderr: Path, timeout: float
) -> ProcessResult:
    """Run ``argv`` to its end: wall time from spawn to exit, peak RSS of its tree."""
    global _running
    timed_out = threading.Event()

    def give_up(pid: int) -> None:
        timed_out.set()
        kill_tree(pid)

    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), cwd=cwd, stdout=out, stderr=err)
        _running = process
        sampler = TreeRssSampler(process.pid)
        sampler.start()
        timer = threading.Timer(timeout, give_up, [process.pid])
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)  # wait4: the child's rusage too
        finally:
            timer.cancel()
            sampler.done.set()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        _running = None
        sampler.join()
    return ProcessResult(
        seconds=seconds,
        exit_code=process.returncode,
        peak_rss_tree=sampler.peak,
        ru_maxrss=usage.ru_maxrss * 1024,  # kilobytes on Linux
        rss_samples=sampler.samples,
        timed_out=timed_out.is_set(),
    )


def kill_tree(pid: int) -> None:
    import psutil

    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for process in [*root.children(recursive=True), root]:
            with contextlib.suppress(psutil.Error):
                process.kill()


# --- the two tools ---------------------------------------------------------------------------


def sqlite_bytes(db: Path) -> int:
    """The database with its -wal and -shm, and any database beside it under its name
    (reader keeps a search database in ``reader.db.search``)."""
    return sum(path.stat().st_size for path in db.parent.glob(db.name + "*") if path.is_file())


def count_rows(db: Path, query: str) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as connection:
        return int(connection.execute(query).fetchone()[0])


def tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class SetupFailed(Exception):
    """A tool could not be set up for a run: nothing to measure."""


@dataclass
class Side:
    """One tool's store and commands in one run."""

    tool: str
    directory: Path
    timeout: float

    @property
    def db(self) -> Path:
        return self.directory / ("agg.db" if self.tool == "aggregator" else "reader.db")

    def logs(self, pass_name: str) -> tuple[Path, Path]:
        return self.directory / f"{pass_name}.out", self.directory / f"{pass_name}.err"


class AggregatorSide(Side):
    def prepare(self, manifest: dict[str, Any], nginx: Nginx) -> None:
        """feeds.yaml and an opened (migrated) store: setup, like reader's add_feed."""
        self.directory.mkdir(parents=True)
        self.config = self.directory / "feeds.yaml"
        self.config.write_text(aggregator_config(self.directory, manifest, nginx))
        out, err = self.logs("setup")
        with out.open("wb") as stdout, err.open("wb") as stderr:
            command = [str(AGGREGATOR), "-c", str(self.config), "sources"]
            done = subprocess.run(command, cwd=self.directory, stdout=stdout, stderr=stderr)
        if done.returncode != 0:
            raise SetupFailed(f"aggregator sources exited {done.returncode}: {tail(err)}")

    def command(self) -> list[str]:
        return [str(AGGREGATOR), "-c", str(self.config), "fetch", "--all"]

    def ok(self, exit_code: int, pass_name: str) -> bool:
        """Exit 1 is a finished pass where some sources failed; an interpreter that died on
        start-up exits 1 too, but without the summary line."""
        out, _ = self.logs(pass_name)
        return exit_code in (0, 1) and " sources: " in out.read_text()

    def stored_entries(self) -> int:
        return count_rows(self.db, "select count(*) from articles")

    def failed_sources(self, pass_name: str) -> int:
        _, err = self.logs(pass_name)
        return sum(line.startswith("failed:") for line in err.read_text().splitlines())


class ReaderSide(Side):
    workers: int | None = None
    scheduled: bool = False

    def prepare(self, manifest: dict[str, Any], nginx: Nginx) -> None:
        self.directory.mkdir(parents=True)
        urls = self.directory / "urls.txt"
        urls.write_text("".join(nginx.url(feed["file"]) + "\n" for feed in manifest["feeds"]))
        out, err = self.logs("setup")
        with out.open("wb") as stdout, err.open("wb") as stderr:
            command = [sys.executable, str(HERE / "reader_side.py"), "add", str(self.db), str(urls)]
            done = subprocess.run(command, cwd=self.directory, stdout=stdout, stderr=stderr)
        if done.returncode != 0:
            raise SetupFailed(f"reader add exited {done.returncode}: {tail(err)}")

    def command(self) -> list[str]:
        command = [sys.executable, str(HERE / "reader_side.py"), "update", str(self.db)]
        if self.workers:
            command += ["--workers", str(self.workers)]
        return command + (["--scheduled"] if self.scheduled else [])

    def ok(self, exit_code: int, pass_name: str) -> bool:
        return exit_code == 0

    def stored_entries(self) -> int:
        return count_rows(self.db, "select count(*) from entries")

    def failed_sources(self, pass_name: str) -> int:
        return count_rows(self.db, "select count(*) from feeds where last_exception is not null")


def aggregator_config(directory: Path, manifest: dict[str, Any], nginx: Nginx) -> str:
    def quoted(value: str) -> str:  # a JSON string is a valid YAML double-quoted scalar
        return json.dumps(value, ensure_ascii=False)

    lines = [
        "site:",
        "  title: peer benchmark",
        f"  link: {quoted(nginx.url(''))}",
        "  language: ko",
        "  timezone: Asia/Seoul",
        f"storage: {quoted('sqlite:///' + str(directory / 'agg.db'))}",
        "output:",
        f"  dir: {quoted(str(directory / 'public'))}",
        f"  posts_dir: {quoted(str(directory / '_posts'))}",
        "fetch:",
        "  concurrency: 32",
        "  per_host: 32  # every feed is on the one nginx host",
        "  timeout: 60s",
        "  allow_private: [127.0.0.1]  # the corpus is served on this machine",
        "sources:",
    ]
    for feed in manifest["feeds"]:
        lines.append(f"  - id: {quoted(feed['id'])}")
        lines.append(f"    url: {quoted(nginx.url(feed['file']))}")
        lines.append(f"    name: {quoted(feed['name'])}")
    return "\n".join(lines) + "\n"


# --- passes and runs -------------------------------------------------------------------------


@dataclass
class Measurement:
    run: int
    tool: str
    pass_name: str
    seconds: float
    exit_code: int
    ok: bool
    peak_rss_tree: int
    ru_maxrss: int
    rss_samples: int
    work_entries: int  # entries in the corpus, or new entries for the changed pass
    feeds: int
    stored_entries: int
    store_bytes: int
    failed_sources: int
    http_statuses: dict[str, int]
    stderr_tail: str = ""
    timed_out: bool = False

    @property
    def entries_per_second(self) -> float:
        return self.work_entries / self.seconds

    @property
    def feeds_per_second(self) -> float:
        return self.feeds / self.seconds

    @property
    def store_bytes_per_entry(self) -> float:
        return self.store_bytes / self.stored_entries if self.stored_entries else float("nan")


def run_pass(
    side: AggregatorSide | ReaderSide,
    run: int,
    pass_name: str,
    nginx: Nginx,
    work_entries: int,
    feeds: int,
) -> Measurement:
    stdout, stderr = side.logs(pass_name)
    nginx.statuses_since_last_call()
    result = measure(side.command(), side.directory, stdout, stderr, side.timeout)
    statuses = nginx.statuses_since_last_call()
    ok = side.ok(result.exit_code, pass_name) and not result.timed_out
    store_bytes = sqlite_bytes(side.db)  # before our own connection can touch the files
    measurement = Measurement(
        run=run,
        tool=side.tool,
        pass_name=pass_name,
        seconds=result.seconds,
        exit_code=result.exit_code,
        ok=ok,
        peak_rss_tree=result.peak_rss_tree,
        ru_maxrss=result.ru_maxrss,
        rss_samples=result.rss_samples,
        work_entries=work_entries,
        feeds=feeds,
        stored_entries=side.stored_entries(),
        store_bytes=store_bytes,
        failed_sources=side.failed_sources(pass_name),
        http_statuses=statuses,
        stderr_tail="" if result.exit_code == 0 and ok else tail(stderr),
        timed_out=result.timed_out,
    )
    report_pass(measurement)
    return measurement


def report_pass(m: Measurement) -> None:
    statuses = " ".join(f"{code}×{count}" for code, count in sorted(m.http_statuses.items()))
    flag = "" if m.ok else f"  FAILED (exit {m.exit_code}{', timed out' if m.timed_out else ''})"
    print(
        f"  run {m.run} {m.pass_name:<8} {m.tool:<10} {m.seconds:7.2f} s  "
        f"peak {m.peak_rss_tree / 2**20:6.0f} MiB  stored {m.stored_entries:>7}  "
        f"failed sources {m.failed_sources}  http {statuses}{flag}",
        flush=True,
    )
    if m.stderr_tail:
        print("    " + m.stderr_tail.replace("\n", "\n    ")[:2000], flush=True)


def reset_corpus(base: Path, www: Path) -> None:
    if www.exists():
        shutil.rmtree(www)
    shutil.copytree(base, www)


def one_run(
    run: int, args: argparse.Namespace, work: Path, base: Path, www: Path, nginx: Nginx
) -> list[Measurement]:
    reset_corpus(base, www)
    manifest = corpus.load_manifest(www)
    entries, feeds = int(manifest["entries"]), len(manifest["feeds"])
    tools = [tool for tool in TOOLS if args.only in (None, tool)]
    order = tools if run % 2 == 1 else tools[::-1]
    sides = {tool: make_side(tool, work / f"run{run}" / tool, args) for tool in order}
    for side in sides.values():
        side.prepare(manifest, nginx)
    measurements = []
    for pass_name in PASSES:
        work_entries = entries
        if pass_name == "changed":
            work_entries = corpus.mutate(www, MUTATED_FRACTION, seed=args.seed)
        for tool in order:
            measurements.append(run_pass(sides[tool], run, pass_name, nginx, work_entries, feeds))
    if not args.keep:  # stores and posts of a 1000-feed run take hundreds of MB
        shutil.rmtree(work / f"run{run}")
    return measurements


def make_side(tool: str, directory: Path, args: argparse.Namespace) -> AggregatorSide | ReaderSide:
    if tool == "aggregator":
        return AggregatorSide(tool, directory, args.timeout)
    side = ReaderSide(tool, directory, args.timeout)
    side.workers, side.scheduled = args.workers, args.reader_scheduled
    return side


# --- the summary -----------------------------------------------------------------------------


@dataclass
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def text(self, digits: int) -> str:
        return f"{self.median:,.{digits}f} [{self.low:,.{digits}f}–{self.high:,.{digits}f}]"


@dataclass
class Summary:
    rows: dict[str, dict[str, Spread]] = field(default_factory=dict)  # metric -> tool -> spread

    def add(self, metric: str, tool: str, values: Sequence[float]) -> None:
        if values:
            self.rows.setdefault(metric, {})[tool] = Spread.of(values)


def summarize(measurements: Sequence[Measurement]) -> Summary:
    summary = Summary()
    for tool in TOOLS:
        mine = [m for m in measurements if m.tool == tool]
        for pass_name in PASSES:
            in_pass = [m for m in mine if m.pass_name == pass_name]
            summary.add(f"{pass_name} s", tool, [m.seconds for m in in_pass])
            summary.add(f"{pass_name} entries/s", tool, [m.entries_per_second for m in in_pass])
            summary.add(f"{pass_name} feeds/s", tool, [m.feeds_per_second for m in in_pass])
            summary.add(f"{pass_name} peak MiB", tool, [m.peak_rss_tree / 2**20 for m in in_pass])
            summary.add(f"{pass_name} maxrss MiB", tool, [m.ru_maxrss / 2**20 for m in in_pass])
        cold = [m for m in mine if m.pass_name == "cold"]
        summary.add("store bytes/entry", tool, [m.store_bytes_per_entry for m in cold])
    return summary


# metric, label, digits, ratio kind: "speed" is reader ÷ aggregator, "size" aggregator ÷ reader
MAIN_ROWS = (
    ("cold s", "cold (s)", 2, "speed"),
    ("warm s", "warm (s)", 2, "speed"),
    ("changed s", "changed (s)", 2, "speed"),
    ("cold peak MiB", "peak RSS cold (MiB)", 0, "size"),
    ("store bytes/entry", "store bytes/entry", 0, "size"),
)
DETAIL_ROWS = (
    *((f"{p} entries/s", f"{p} entries/s", 0, "throughput") for p in PASSES),
    *((f"{p} feeds/s", f"{p} feeds/s", 0, "throughput") for p in PASSES),
    *((f"{p} peak MiB", f"peak RSS {p} (MiB)", 0, "size") for p in ("warm", "changed")),
    *((f"{p} maxrss MiB", f"ru_maxrss {p} (MiB)", 0, "size") for p in PASSES),
)


def ratio(summary: Summary, metric: str, kind: str) -> str:
    tools = summary.rows.get(metric, {})
    if "reader" not in tools or "aggregator" not in tools:
        return "–"
    ours, theirs = tools["aggregator"].median, tools["reader"].median
    value = theirs / ours if kind == "speed" else ours / theirs
    return f"{value:.2f}×"


def table(summary: Summary, rows: Sequence[tuple[str, str, int, str]]) -> str:
    header = (
        "| | reader median [min–max] | aggregator median [min–max] "
        "| ratio |\n| --- | ---: | ---: | ---: |"
    )
    lines = [header]
    for metric, label, digits, kind in rows:
        cells = [summary.rows.get(metric, {}).get(tool, None) for tool in ("reader", "aggregator")]
        texts = [cell.text(digits) if cell else "–" for cell in cells]
        lines.append(f"| {label} | {texts[0]} | {texts[1]} | {ratio(summary, metric, kind)} |")
    return "\n".join(lines)


def http_table(measurements: Sequence[Measurement]) -> str:
    lines = ["| run | pass | tool | HTTP statuses | failed sources | exit |", "| --- " * 6 + "|"]
    for m in measurements:
        statuses = ", ".join(f"{code} × {n}" for code, n in sorted(m.http_statuses.items()))
        row = f"| {m.run} | {m.pass_name} | {m.tool} | {statuses} | {m.failed_sources} |"
        lines.append(f"{row} {m.exit_code} |")
    return "\n".join(lines)


# --- the environment -------------------------------------------------------------------------


def command_output(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({error})"
    return (done.stdout + done.stderr).strip()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def our_versions() -> dict[str, str]:
    """Versions on the aggregator side, asked of the project's own interpreter."""
    script = (
        "import importlib.metadata as m, platform; "
        "print(platform.python_version(), m.version('aggregator'), m.version('feedparser'))"
    )
    answer = command_output([str(ROOT / ".venv" / "bin" / "python"), "-c", script]).split()
    python, aggregator, feedparser = (answer + ["unknown"] * 3)[:3]
    return {
        "python (aggregator side)": python,
        "aggregator": aggregator,
        "feedparser (aggregator side)": feedparser,
    }


def environment(nginx_binary: str) -> dict[str, str]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "memory": f"{memory:.1f} GiB",
        "os": platform.platform(),
        "python (reader side)": platform.python_version(),
        "reader": importlib.metadata.version("reader"),
        "feedparser (reader side)": importlib.metadata.version("feedparser"),
        **our_versions(),
        "nginx": command_output([nginx_binary, "-v"]).removeprefix("nginx version: "),
    }


def corpus_facts(manifest: dict[str, Any], www: Path) -> dict[str, Any]:
    files = [www / feed["file"] for feed in manifest["feeds"]]
    return {
        "feeds": len(manifest["feeds"]),
        "items per feed": manifest["items"],
        "entries": manifest["entries"],
        "retellings": manifest["retellings"],
        "bytes": sum(path.stat().st_size for path in files),
        "formats": dict(Counter(feed["format"] for feed in manifest["feeds"])),
        "languages": dict(Counter(feed["language"] for feed in manifest["feeds"])),
        "seed": manifest["seed"],
    }


# --- writing the results ---------------------------------------------------------------------


def markdown_report(
    summary: Summary,
    measurements: Sequence[Measurement],
    facts: dict[str, Any],
    env: dict[str, str],
    args: argparse.Namespace,
) -> str:
    formats = ", ".join(f"{name} {count}" for name, count in sorted(facts["formats"].items()))
    languages = ", ".join(f"{name} {count}" for name, count in sorted(facts["languages"].items()))
    workers = args.workers or "default"
    failures = [m for m in measurements if not m.ok or m.failed_sources]
    return "\n".join(
        [
            "# aggregator fetch --all beside reader",
            "",
            f"Corpus: {facts['feeds']} feeds × {facts['items per feed']} items = "
            f"{facts['entries']:,} entries ({facts['retellings']:,} retellings of another "
            f"outlet's story), {facts['bytes'] / 2**20:.1f} MiB; formats: {formats}; "
            f"languages: {languages}; seed {facts['seed']}. The changed pass: "
            f"{MUTATED_FRACTION:.0%} of the feeds with {corpus.NEW_ITEMS_PER_MUTATION} new items "
            "each.",
            "",
            f"Runs: {args.runs} (each: cold, warm, changed; the first tool alternates). "
            f"reader: update_feeds(scheduled={args.reader_scheduled}), workers {workers}; "
            "aggregator: fetch.concurrency 32, per_host 32.",
            "",
            "Machine: " + "; ".join(f"{key} {value}" for key, value in env.items()) + ".",
            "",
            "Ratio: for times, reader seconds ÷ aggregator seconds (above 1: aggregator is "
            "faster); for memory and store size, aggregator ÷ reader (below 1: aggregator uses "
            "less). Times are whole processes, interpreter start-up and imports included.",
            "",
            table(summary, MAIN_ROWS),
            "",
            "## Throughput and memory",
            "",
            "entries/s counts the corpus's entries (the new entries for the changed pass). "
            "Peak RSS is the largest sum over the process and its descendants, sampled every "
            f"{SAMPLE_EVERY * 1000:.0f} ms; ru_maxrss (from wait4) is the largest single "
            "process, a cross-check.",
            "",
            table(summary, DETAIL_ROWS),
            "",
            "## Requests seen by nginx, failures",
            "",
            http_table(measurements),
            "",
            f"Passes that failed or had failing sources: {len(failures)}.",
            "",
        ]
    )


def plot(summary: Summary, facts: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (times, memory) = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.38
    for offset, tool in ((-width / 2, "reader"), (width / 2, "aggregator")):
        for axis, suffix in ((times, "s"), (memory, "peak MiB")):
            spreads = [summary.rows.get(f"{p} {suffix}", {}).get(tool) for p in PASSES]
            if not all(spreads):
                continue
            medians = [s.median for s in spreads]  # type: ignore[union-attr]
            errors = [
                [s.median - s.low for s in spreads],  # type: ignore[union-attr]
                [s.high - s.median for s in spreads],  # type: ignore[union-attr]
            ]
            xs = [i + offset for i in range(len(PASSES))]
            axis.bar(xs, medians, width, yerr=errors, capsize=3, label=tool)
    times.set_title("wall time per pass (median, min–max)")
    times.set_ylabel("seconds")
    memory.set_title("peak RSS of the process tree")
    memory.set_ylabel("MiB")
    for axis in (times, memory):
        axis.set_xticks(range(len(PASSES)), PASSES)
        axis.legend()
    figure.suptitle(
        f"aggregator fetch --all beside reader: {facts['feeds']} feeds × "
        f"{facts['items per feed']} items ({facts['entries']:,} entries)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_results(
    out: Path,
    summary: Summary,
    measurements: Sequence[Measurement],
    facts: dict[str, Any],
    env: dict[str, str],
    args: argparse.Namespace,
) -> str:
    out.mkdir(parents=True, exist_ok=True)
    report = markdown_report(summary, measurements, facts, env, args)
    (out / "peer.md").write_text(report)
    raw = {
        "corpus": facts,
        "environment": env,
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "summary": {
            metric: {tool: asdict(spread) for tool, spread in tools.items()}
            for metric, tools in summary.rows.items()
        },
        "measurements": [
            {
                **asdict(m),
                "entries_per_second": m.entries_per_second,
                "feeds_per_second": m.feeds_per_second,
                "store_bytes_per_entry": m.store_bytes_per_entry,
            }
            for m in measurements
        ],
    }
    (out / "peer.json").write_text(json.dumps(raw, ensure_ascii=False, indent=1) + "\n")
    plot(summary, facts, out / "peer.png")
    return report


# --- the command -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work here and keep everything")
    parser.add_argument("--only", choices=TOOLS, help="measure one tool only")
    parser.add_argument("--corpus-only", type=Path, metavar="DIR", help="write the corpus, exit")
    parser.add_argument("--workers", type=int, help="reader's update_feeds(workers=N)")
    parser.add_argument(
        "--reader-scheduled",
        action="store_true",
        help="reader updates only the feeds its schedule says are due (its default since 3.21)",
    )
    parser.add_argument("--nginx-workers", default="1", help="a number, or auto")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per pass")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.feeds < 1 or args.items < corpus.NEW_ITEMS_PER_MUTATION:
        parser.error(f"need --runs >= 1, --feeds >= 1, --items >= {corpus.NEW_ITEMS_PER_MUTATION}")
    return args


def work_directory(keep: Path | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="peer-bench-"))
    keep = keep.resolve()
    if keep.exists() and any(keep.iterdir()):
        if not (keep / KEEP_MARKER).exists():
            sys.exit(f"{keep} is not empty and not from an earlier run: choose another --keep")
        shutil.rmtree(keep)
    keep.mkdir(parents=True, exist_ok=True)
    (keep / KEEP_MARKER).touch()
    return keep


def benchmark(args: argparse.Namespace) -> int:
    """Runs the passes and writes the results; the number of passes that failed or had
    failing sources (their figures do not measure a whole pass)."""
    nginx_binary = ensure_nginx()
    if args.only != "reader":
        ensure_aggregator()
    work = work_directory(args.keep)
    try:
        work.chmod(0o755)  # nginx workers, unprivileged, read the corpus in here
        base, www = work / "corpus", work / "www"
        started = time.perf_counter()
        manifest = corpus.generate(base, args.feeds, args.items, args.seed, corpus.default_now())
        print(
            f"corpus: {args.feeds} feeds, {manifest['entries']} entries in "
            f"{time.perf_counter() - started:.1f} s ({base})",
            flush=True,
        )
        env = environment(nginx_binary)
        measurements: list[Measurement] = []
        with nginx_server(nginx_binary, www, work / "nginx", args.nginx_workers) as nginx:
            print(f"nginx on 127.0.0.1:{nginx.port}", flush=True)
            reset_corpus(base, www)
            check_served(nginx, manifest)
            for run in range(1, args.runs + 1):
                measurements += one_run(run, args, work, base, www, nginx)
        summary = summarize(measurements)
        facts = corpus_facts(manifest, base)
        write_results(args.out.resolve(), summary, measurements, facts, env, args)
        print()
        print(table(summary, MAIN_ROWS))
        print(f"\nwritten: {args.out / 'peer.md'}, peer.json, peer.png", flush=True)
        return sum(1 for m in measurements if not m.ok or m.failed_sources)
    finally:
        if _running is not None:
            kill_tree(_running.pid)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: {work}")


def exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that clean up


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.corpus_only:
        manifest = corpus.generate(args.corpus_only, args.feeds, args.items, args.seed)
        print(f"{manifest['entries']} entries in {len(manifest['feeds'])} feeds")
        return
    if not in_peer_venv():
        python = ensure_peer_venv()
        os.execv(python, [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        failed = benchmark(args)
    except SetupFailed as error:
        sys.exit(f"setup failed: {error}")
    if failed:
        sys.exit(f"{failed} passes failed or had failing sources: their figures are not a pass's")


if __name__ == "__main__":
    main()
