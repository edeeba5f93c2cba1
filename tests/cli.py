"""Running the installed ``aggregator`` command as a user does, from tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: The console script installed beside the interpreter running the tests.
AGGREGATOR = Path(sys.executable).with_name("aggregator")


def cli_env() -> dict[str, str]:
    """The environment without a configuration path of the developer's own."""
    return {k: v for k, v in os.environ.items() if k != "AGGREGATOR_CONFIG"}


def run_cli(
    config: Path, *args: str, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``aggregator -c CONFIG ARGS…``, its output captured."""
    return subprocess.run(
        [str(AGGREGATOR), "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
        cwd=cwd,
    )
