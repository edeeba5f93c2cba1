"""Other processes, by id: whether one is alive, and waiting until one has ended."""

from __future__ import annotations

import os
import select
import time


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def wait_until_ended(pid: int) -> None:
    """Return once process ``pid`` has ended: told by the kernel where it can
    (``pidfd_open``, Linux 5.3+), else looked at once a second."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):
        while process_alive(pid):
            time.sleep(1.0)
        return
    try:
        select.select([handle], [], [])  # readable once the process has ended
    finally:
        os.close(handle)
