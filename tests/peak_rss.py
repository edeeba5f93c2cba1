"""Run a command and write its peak resident memory (KiB) to a file.

    python tests/peak_rss.py OUT_FILE COMMAND [ARG…]

A small process of its own starts the command, because on Linux a child's peak RSS
includes the memory of the process it was forked from: measured straight from a test
process that holds large fixtures, the figure would be theirs, not the command's. The
command's output passes through and its exit status is this script's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def main() -> int:
    out, command = Path(sys.argv[1]), sys.argv[2:]
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    out.write_text(str(usage.ru_maxrss))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
