"""Writing files atomically, and removing what a killed writer left behind.

Each file is written to a temporary name and renamed over the old one, so a reader (or a
crash) never sees half a file; a file whose bytes did not change is left alone, so its
modification time and HTTP validators stay put. Temporary names say which process wrote
them (``.<name>.<random>.<pid>-<token>.aggregator.tmp``), so a later publish removes those
whose writer is gone (``remove_stale_temporaries``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path

from aggregator.processes import process_alive

log = logging.getLogger(__name__)


#: Ends the name of every temporary file ``write_atomic`` makes.
TEMP_SUFFIX = ".aggregator.tmp"
#: A temporary file older than this is a leftover, whoever wrote it: a write takes
#: milliseconds.
STALE_TEMP_SECONDS = 600.0
#: Tells this process's temporary files from those of an earlier process that had the same
#: pid (in a container, the service is often pid 1 at every start).
_PROCESS_TOKEN = secrets.token_hex(4)
_TEMP_NAME = re.compile(r"\..+\.(?P<pid>\d+)-(?P<token>[0-9a-f]{8})" + re.escape(TEMP_SUFFIX))
#: Temporary files this process is writing right now (threads may publish too).
_writing: set[str] = set()
_writing_lock = threading.Lock()


def write_atomic(
    path: Path,
    data: bytes,
    *,
    durable: bool = True,
    scratch: Path | None = None,
    mode: int = 0o644,
) -> bool:
    """Replace ``path`` with ``data`` atomically; False (and no write) if already equal.

    The data goes to a temporary file in the same directory (or in ``scratch``, a
    directory on the same file system), then is renamed over ``path``: a reader, or a
    killed process, sees the old file or the new one. ``durable``
    flushes it to disk before the rename, so a power cut cannot leave an empty file under
    the name; posts skip it (an fsync per post was a third of writing them), since a post
    is rewritten from the store whenever its file is missing or differs in size.
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    if scratch is not None:
        scratch.mkdir(exist_ok=True)
    fd, temporary = tempfile.mkstemp(
        dir=scratch or path.parent,
        prefix=f".{path.name}.",
        suffix=f".{os.getpid()}-{_PROCESS_TOKEN}{TEMP_SUFFIX}",
    )
    with _writing_lock:
        _writing.add(temporary)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        with _writing_lock:
            _writing.discard(temporary)
    return True


def remove_stale_temporaries(
    *directories: Path, older_than: float = STALE_TEMP_SECONDS, now: float | None = None
) -> list[Path]:
    """Remove the temporary files ``write_atomic`` left in ``directories`` (not below) when
    its process was killed mid-write; returns what was removed.

    A temporary file is left alone while its writer may still be writing it: this process
    (unless it is no longer writing it), or another live process (``fetch`` from cron beside
    ``run``), unless it is older than ``older_than`` seconds. Nothing but names made by
    ``write_atomic`` is ever touched.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    for directory in directories:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            match = _TEMP_NAME.fullmatch(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            try:
                age = now - entry.stat(follow_symlinks=False).st_mtime
                if _in_use(entry.path, int(match["pid"]), match["token"], age, older_than):
                    continue
                os.unlink(entry.path)
            except FileNotFoundError:  # renamed or removed by its writer meanwhile
                continue
            removed.append(Path(entry.path))
    if removed:
        log.info(
            "removed %d temporary files left by an interrupted write: %s",
            len(removed),
            ", ".join(str(path) for path in removed[:5]) + (", ..." if len(removed) > 5 else ""),
        )
    return removed


def _in_use(path: str, pid: int, token: str, age: float, older_than: float) -> bool:
    if pid == os.getpid():
        if token != _PROCESS_TOKEN:
            return False  # an earlier process that had our pid
        with _writing_lock:
            return path in _writing
    return age <= older_than and process_alive(pid)


def rewrite_in_place(path: Path, data: bytes) -> bool:
    """Replace a file someone keeps (``feeds.yaml``) atomically, as it was: through a
    symbolic link to the file it points at, with its permissions and (where this process
    may) its owner. A configuration holding passwords stays 0600."""
    target = path.resolve()
    try:
        status = target.stat()
    except FileNotFoundError:
        return write_atomic(target, data, mode=0o600)
    changed = write_atomic(target, data, mode=status.st_mode & 0o7777)
    if changed and hasattr(os, "chown"):
        # Not ours to give away when we are not root: the permissions were kept.
        with contextlib.suppress(PermissionError):
            os.chown(target, status.st_uid, status.st_gid)
    return changed
