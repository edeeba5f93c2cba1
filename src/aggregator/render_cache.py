"""A channel's feed files, kept while what they show is unchanged.

A channel's RSS, Atom and JSON Feed files are a function of its description and its items
(the clock matters only to an empty channel, which is dated when first written). So a
publish hashes those (``channel_signature``) and renders only the channels whose hash
moved: after one new article, the channels it does not appear in cost a hash, not three
renders. ``RenderCache`` keeps the files in memory (``serve``); ``DiskRenderCache`` takes
them from the output directory a previous publish wrote, by a small record of hashes and
sizes beside them (``publish``, from any process).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

from aggregator import syndication
from aggregator.model import StoredArticle
from aggregator.syndication import ChannelMeta

#: Beside the feeds in ``output.dir``: channel id → [signature, {relative path: size}].
RECORD_NAME = ".aggregator-rendered.json"


def _renderer() -> str:
    """This version of the renderer: the package's version and the renderer's source."""
    try:
        version = metadata.version("aggregator")
    except metadata.PackageNotFoundError:
        version = "unknown"
    source = hashlib.sha256(Path(syndication.__file__).read_bytes()).hexdigest()
    return f"{version} {source}"


#: Part of every signature: another version may render the same items differently.
_RENDERER = _renderer()


def channel_signature(meta: ChannelMeta, items: Sequence[StoredArticle]) -> str:
    """A hash of everything a channel's files are made from, but the clock."""
    return hashlib.sha256(repr((_RENDERER, meta, list(items))).encode()).hexdigest()


class RenderCache:
    """Each channel's files as last rendered, in memory."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[str, dict[str, bytes]]] = {}

    def get(self, channel_id: str, signature: str) -> dict[str, bytes] | None:
        kept = self._files.get(channel_id)
        return dict(kept[1]) if kept is not None and kept[0] == signature else None

    def put(self, channel_id: str, signature: str, files: Mapping[str, bytes]) -> None:
        self._files[channel_id] = (signature, dict(files))


class DiskRenderCache(RenderCache):
    """Each channel's files as a previous publish wrote them under ``directory``.

    A file is taken back only if it still has the size recorded for it; ``save`` records
    what this publish rendered, once its files are written."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        #: Files taken back as they are on disk: nothing to write.
        self.reused: set[str] = set()
        self._recorded: dict[str, tuple[str, dict[str, int]]] = {}
        try:
            raw = json.loads((directory / RECORD_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = {}
        for channel_id, value in (raw if isinstance(raw, dict) else {}).items():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[1], dict):
                self._recorded[channel_id] = (str(value[0]), dict(value[1]))

    def get(self, channel_id: str, signature: str) -> dict[str, bytes] | None:
        recorded = self._recorded.get(channel_id)
        if recorded is None or recorded[0] != signature:
            return None
        files: dict[str, bytes] = {}
        for relative, size in recorded[1].items():
            try:
                data = (self.directory / relative).read_bytes()
            except OSError:
                return None
            if len(data) != size:
                return None
            files[relative] = data
        self.reused.update(files)
        return files

    def put(self, channel_id: str, signature: str, files: Mapping[str, bytes]) -> None:
        self._recorded[channel_id] = (
            signature,
            {relative: len(data) for relative, data in files.items()},
        )

    def record(self, channel_ids: Sequence[str]) -> bytes:
        """What to write as ``RECORD_NAME`` once the files are on disk: the channels
        still configured."""
        return json.dumps(
            {
                channel_id: [self._recorded[channel_id][0], self._recorded[channel_id][1]]
                for channel_id in channel_ids
                if channel_id in self._recorded
            },
            sort_keys=True,
        ).encode()
