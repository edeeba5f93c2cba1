"""Durations and sizes as operators write them in feeds.yaml: ``15m``, ``1h30m``, ``10MB``.

One responsibility: read a duration (a ``timedelta``) or a size (bytes) from a string or a
bare number. ``as_duration``/``as_size`` return None for anything else (the validators in
``fields`` turn that into a problem); ``parse_duration``/``parse_size`` raise ValueError.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from aggregator.config.problems import describe

_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"({_NUMBER})\s*(ms|s|m|h|d|w)\s*")
_SECONDS: dict[str, Decimal | int] = {"ms": Decimal("0.001"), "s": 1, "m": 60, "h": 3600}
_SECONDS |= {"d": 86400, "w": 604800}
_UNITS = {"": 1, "b": 1} | {
    p + s: 1024**i for i, p in enumerate("kmgt", 1) for s in ("", "b", "ib")
}


#: The longest duration a setting takes: longer ones overflow date arithmetic (a due time
#: "now + interval") and mean nothing for a feed.
MAX_DURATION = timedelta(days=3650)


def as_duration(value: object) -> timedelta | None:
    """The duration ``value`` spells (see ``parse_duration``), else None. Settings take at
    most ``MAX_DURATION``; one beyond what a timedelta holds is None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    text += "s" if re.fullmatch(_NUMBER, text) else ""
    if not re.fullmatch(rf"(?:{_PART.pattern})+", text):
        return None
    seconds = sum((Decimal(n) * _SECONDS[u] for n, u in _PART.findall(text)), Decimal())
    try:
        return timedelta(seconds=float(seconds))
    except OverflowError:
        return None


def as_size(value: object) -> int | None:
    """The number of bytes ``value`` spells (see ``parse_size``), else None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    match = re.fullmatch(rf"({_NUMBER})\s*([a-z]*)", str(value).strip().lower())
    unit = _UNITS.get(match[2]) if match else None
    return int(Decimal(match[1]) * unit) if match and unit else None


def parse_duration(text: str | int | float) -> timedelta:
    """A duration from ``"15m"``, ``"20s"``, ``"72h"``, ``"1h30m"``, ``"2d"``, ``"500ms"``
    (units ms s m h d w, decimals allowed) or a bare number of seconds; ValueError otherwise."""
    if (result := as_duration(text)) is None:
        raise ValueError(f"expected a duration like 15m, got {describe(text)}")
    return result


def parse_size(text: str | int) -> int:
    """Bytes from ``"10MB"``, ``"512 KiB"``, ``"1.5G"`` or a bare number of bytes.

    Units are case-insensitive and all 1024-based, as most operators expect: K, KB and KiB
    are 1024 bytes; M, MB, MiB 1024²; G, GB, GiB 1024³; T, TB, TiB 1024⁴; B one byte.
    ValueError otherwise.
    """
    if (result := as_size(text)) is None:
        raise ValueError(f"expected a size like 10MB, got {describe(text)}")
    return result
