"""The container set-up: docker-compose.yml, the Dockerfile and deploy/feeds.yaml agree with
each other and with the service (no Docker engine here: nothing is built or run).

The compose file is validated by a compose client (``docker compose`` or ``docker-compose``)
where there is one (``make system-deps`` installs Debian's); the rest always runs: the
file as YAML, the configuration it mounts loaded as the service loads it, and the health
check run against a real service.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from aggregator.config import load_config
from aggregator.config.units import parse_duration
from aggregator.scheduler import STOP_GRACE_SECONDS
from tests.cli import AGGREGATOR, cli_env
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY_CONFIG = ROOT / "deploy" / "feeds.yaml"
COMMAND = ["aggregator", "-c", "/config/feeds.yaml", "run"]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def service(compose: dict[str, Any]) -> dict[str, Any]:
    assert list(compose["services"]) == ["aggregator"]
    return compose["services"]["aggregator"]  # type: ignore[no-any-return]


def mounts(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Container path → (source, mode) for each ``source:target[:mode]`` volume."""
    found = {}
    for volume in service["volumes"]:
        source, target, *mode = volume.split(":")
        found[target] = (source, mode[0] if mode else "rw")
    return found


# -- the compose file as YAML ----------------------------------------------------------------------


def test_the_service_runs_the_aggregator_on_the_mounted_configuration(
    service: dict[str, Any],
) -> None:
    assert service["command"] == COMMAND
    assert service["build"] == "."
    assert mounts(service)["/config"] == ("./deploy", "ro")
    assert (ROOT / "deploy").is_dir()


def test_store_outputs_and_posts_are_in_named_volumes(
    compose: dict[str, Any], service: dict[str, Any]
) -> None:
    named = set(compose["volumes"])
    assert named == {"data", "public", "posts"}
    volumes = mounts(service)
    assert {volumes[target][0] for target in ("/data", "/srv/public", "/srv/posts")} == named
    assert all(volumes[target][1] == "rw" for target in ("/data", "/srv/public", "/srv/posts"))


def test_the_http_port_is_published(service: dict[str, Any]) -> None:
    assert service["ports"] == ["8080:8080"]


def test_it_restarts_and_stops_gracefully(service: dict[str, Any]) -> None:
    assert service["restart"] == "unless-stopped"
    assert service["stop_signal"] == "SIGTERM"
    # Not pid 1 itself: the kernel drops a signal sent to pid 1 before it set a handler.
    assert service["init"] is True
    # Passes under way get STOP_GRACE_SECONDS, then the HTTP server closes: Docker must not
    # SIGKILL before.
    grace = parse_duration(service["stop_grace_period"]).total_seconds()
    assert grace >= STOP_GRACE_SECONDS + 10


def test_the_health_check_asks_healthz(service: dict[str, Any]) -> None:
    check = service["healthcheck"]
    assert check["test"][0] == "CMD"
    assert "http://127.0.0.1:8080/healthz" in " ".join(check["test"])
    for key in ("interval", "timeout", "start_period"):
        assert parse_duration(check[key]).total_seconds() > 0
    assert check["retries"] >= 1


# -- what the container runs ---------------------------------------------------------------------


def test_the_mounted_configuration_listens_on_every_interface_and_keeps_state_on_volumes(
    service: dict[str, Any],
) -> None:
    settings = load_config(DEPLOY_CONFIG)
    assert settings.server.host == "0.0.0.0"
    _, container_port = service["ports"][0].rsplit(":", 1)
    assert settings.server.port == int(container_port)
    volumes = mounts(service)
    assert settings.storage == "sqlite:////data/aggregator.db"
    assert "/data" in volumes
    assert settings.output.dir == Path("/srv/public")
    assert settings.output.posts_dir == Path("/srv/posts")


def test_the_dockerfile_installs_the_project_for_a_user_who_is_not_root() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    instructions = [
        line.split(None, 1)
        for line in re.sub(r"\\\n", " ", text).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert instructions[0] == ["FROM", "python:3.11-slim"]
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    assert 'pip install ".[postgresql]"' in runs  # with the driver for a PostgreSQL store
    users = [rest.strip() for word, rest in instructions if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert "useradd --system --uid 10001 --user-group" in runs and users[-1] == "aggregator"
    cmd = next(rest for word, rest in instructions if word == "CMD")
    assert yaml.safe_load(cmd) == COMMAND  # a JSON array: signals reach the service itself
    assert ["EXPOSE", "8080"] in instructions
    # The volumes' mount points belong to that user, so fresh named volumes do too.
    assert re.search(r"chown aggregator:aggregator /data /srv/public /srv/posts", runs)


def test_the_build_context_is_what_pip_needs() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignored  # .venv, the store, outputs, caches stay out
    assert {"!pyproject.toml", "!README.md", "!src/"} <= set(ignored)


def test_the_health_check_command_passes_on_a_running_service_and_fails_without(
    tmp_path: Path, service: dict[str, Any], feed_server: FeedServer
) -> None:
    check = service["healthcheck"]["test"][1:]
    assert check[:2] == ["python", "-c"]
    script = check[2]
    config = tmp_path / "feeds.yaml"
    feed_server.serve("/a.xml", "<rss version='2.0'><channel><title>a</title></channel></rss>")
    config.write_text(
        f"server: {{port: 0}}\nsources:\n  - {{id: a, url: '{feed_server.url('/a.xml')}'}}\n",
        encoding="utf-8",
    )
    with running(config) as port:
        here = script.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        assert subprocess.run([sys.executable, "-c", here], timeout=30).returncode == 0
    nobody = script.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    assert subprocess.run([sys.executable, "-c", nobody], capture_output=True).returncode != 0


class running:
    """``aggregator run`` on ``config`` until the block ends; the block gets its port."""

    def __init__(self, config: Path) -> None:
        env = cli_env()
        env["AGGREGATOR_LOG_FORMAT"] = "text"
        self.process = subprocess.Popen(
            [str(AGGREGATOR), "-c", str(config), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        self.lines.extend(self.process.stderr)

    def __enter__(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            for line in self.lines:
                if match := re.search(r"serving HTTP on http://127\.0\.0\.1:(\d+)/", line):
                    return int(match[1])
            time.sleep(0.05)
        self.__exit__()
        raise AssertionError("the service did not start:\n" + "".join(self.lines))

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=5)
        if self.process.stderr is not None:
            self.process.stderr.close()


# -- a compose client's opinion ------------------------------------------------------------------


def compose_client() -> list[str] | None:
    """``docker compose`` or ``docker-compose``, whichever answers."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        try:
            answer = subprocess.run([*command, "version"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if answer.returncode == 0:
            return command
    return None


@pytest.fixture(scope="module")
def client() -> list[str]:
    found = compose_client()
    if found is None:
        pytest.skip(
            "no compose client: neither `docker compose` nor `docker-compose` runs here "
            "(`make system-deps` installs Debian's docker-compose)"
        )
    return found


def resolved_services(client: list[str], file: Path) -> dict[str, Any]:
    """The services of ``file`` as the compose client resolves them (it must accept it)."""
    checked = subprocess.run(
        [*client, "-f", str(file), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")},
    )
    assert checked.returncode == 0, checked.stderr
    return yaml.safe_load(checked.stdout)["services"]  # type: ignore[no-any-return]


def test_a_compose_client_accepts_the_file(client: list[str]) -> None:
    resolved = resolved_services(client, COMPOSE)["aggregator"]
    assert resolved["command"] == COMMAND
    assert resolved["restart"] == "unless-stopped"
    assert any(
        v == f"{ROOT / 'deploy'}:/config:ro"
        or (isinstance(v, dict) and v.get("target") == "/config" and v.get("read_only"))
        for v in resolved["volumes"]
    )


# -- scaling out: docker-compose.scale.yml ----------------------------------------------------

SCALE = ROOT / "docker-compose.scale.yml"
SCALE_CONFIG = ROOT / "deploy" / "scale" / "feeds.yaml"


@pytest.fixture(scope="module")
def scale() -> dict[str, Any]:
    document = yaml.safe_load(SCALE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document["services"]  # type: ignore[no-any-return]


def test_scaling_out_runs_workers_and_a_server_on_postgres(scale: dict[str, Any]) -> None:
    assert set(scale) == {"postgres", "worker", "server"}
    assert scale["worker"]["command"] == [*COMMAND[:-1], "worker", "--publish"]
    assert scale["server"]["command"] == [*COMMAND[:-1], "serve"]
    assert scale["server"]["ports"] == ["8080:8080"] and "ports" not in scale["worker"]
    for name in ("worker", "server"):
        assert scale[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert mounts(scale[name])["/config"] == ("./deploy/scale", "ro")
        assert scale[name]["restart"] == "unless-stopped"
    assert mounts(scale["postgres"])["/var/lib/postgresql/data"][0] == "pgdata"
    # Every service says whether it is healthy.
    assert "pg_isready" in scale["postgres"]["healthcheck"]["test"]
    assert "sources" in scale["worker"]["healthcheck"]["test"]
    assert "/healthz" in " ".join(scale["server"]["healthcheck"]["test"])


def test_the_scale_configuration_is_the_single_ones_on_postgres() -> None:
    single, scaled = load_config(DEPLOY_CONFIG), load_config(SCALE_CONFIG)
    assert scaled.storage == "postgresql+psycopg://aggregator:aggregator@postgres:5432/aggregator"
    assert scaled.sources == single.sources and scaled.output == single.output
    assert scaled.server == single.server


def test_a_compose_client_accepts_the_scale_file(client: list[str]) -> None:
    assert set(resolved_services(client, SCALE)) == {"postgres", "worker", "server"}
