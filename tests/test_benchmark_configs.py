"""The benchmarks that serve their corpus on 127.0.0.1 write a feeds.yaml that may fetch
it: fetching refuses private addresses unless ``fetch.allow_private`` allows them, and a
benchmark whose every source is refused measures passes that fetch nothing."""

from __future__ import annotations

import importlib.util
import ipaddress
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from aggregator.address_guard import AddressPolicy
from aggregator.config import parse_config

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def benchmark_module(path: Path, name: str) -> ModuleType:
    """The benchmark script as a module, leaving ``sys.path`` and ``sys.modules`` as they
    were (the scripts add their own folders to the path and import ``corpus`` and
    ``run`` by those bare names)."""
    path_before, modules_before = list(sys.path), set(sys.modules)
    sys.path.insert(0, str(BENCHMARKS / "peer"))  # where both import the corpus from
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path[:] = path_before
        for added in set(sys.modules) - modules_before:
            origin = getattr(sys.modules[added], "__file__", None) or ""
            if Path(origin).is_relative_to(BENCHMARKS):  # the library's stay imported
                del sys.modules[added]


class LocalNginx:
    """What the configs read of the benchmark's nginx: where a file is served."""

    port = 8089

    def url(self, file: str) -> str:
        return f"http://127.0.0.1:{self.port}/{file}"


MANIFEST: dict[str, Any] = {
    "feeds": [{"id": f"f{n}", "file": f"f{n}.xml", "name": f"Feed {n}"} for n in range(3)]
}


def peer_config(directory: Path) -> str:
    run = benchmark_module(BENCHMARKS / "peer" / "run.py", "peer_run")
    return str(run.aggregator_config(directory, MANIFEST, LocalNginx()))


def loop_latency_config(directory: Path) -> str:
    loop = benchmark_module(BENCHMARKS / "loop_latency.py", "loop_latency")
    return str(loop.config(directory, MANIFEST, LocalNginx(), 8090))


@pytest.mark.parametrize("write", [peer_config, loop_latency_config])
def test_benchmark_sources_are_not_refused(write: Any, tmp_path: Path) -> None:
    settings = parse_config(write(tmp_path), base_dir=tmp_path)
    policy = AddressPolicy.of(settings.fetch.allow_private)
    assert len(settings.sources) == len(MANIFEST["feeds"])
    for source in settings.sources:
        host = urlsplit(str(source.url)).hostname
        assert host is not None
        assert policy.refusal(host, ipaddress.ip_address(host)) is None, source.url
    # Allowed narrowly: another private address is still refused.
    assert policy.refusal("10.0.0.1", ipaddress.ip_address("10.0.0.1")) is not None
